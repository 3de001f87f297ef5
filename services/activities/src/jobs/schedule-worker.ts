import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { jobQueues } from "@shouhu/contracts";
import type { Logger } from "@shouhu/kit";
import { createJobWorker, upsertDailySchedule } from "@shouhu/messaging";
import type { AttachmentStore } from "@shouhu/attachments";
import type { PrismaClient } from "../data/db.js";
import { purgeExpiredPhotos } from "../data/photos.js";

export const PURGE_PHOTOS_JOB = "purge-session-photos";

/** Every 6 hours (China time): retention is in years, so a run late or missed is nothing; the next one catches up. */
export const PURGE_PHOTOS_CRON = "23 */6 * * *";

/**
 * Activities' periodic work on its own job queue, as registry and visits schedule theirs: a BullMQ job
 * scheduler (upserted by every worker at start, still one schedule; kept in Redis across restarts; each
 * run is one job, taken by one worker of however many replicas). Runs now: the purge of expired session
 * photos (objects, then rows; idempotent).
 */
export async function startScheduleWorker(deps: {
  prisma: PrismaClient;
  connection: Redis;
  prefix?: string;
  queue: Queue;
  logger: Logger;
  attachments: AttachmentStore;
  now?: () => Date;
  cron?: string;
}): Promise<{ name: string; close: () => Promise<unknown> }> {
  const now = deps.now ?? (() => new Date());
  const worker = createJobWorker(
    jobQueues.activitiesSchedule,
    async (job) => {
      if (job.name !== PURGE_PHOTOS_JOB) throw new Error(`no handler for scheduled job ${job.name}`);
      const deleted = await purgeExpiredPhotos(deps.prisma, deps.attachments, now());
      deps.logger.info({ deleted }, "expired session photos deleted");
      return { deleted };
    },
    { connection: deps.connection, prefix: deps.prefix, logger: deps.logger, concurrency: 1 },
  );
  await upsertDailySchedule(deps.queue, PURGE_PHOTOS_JOB, deps.cron ?? PURGE_PHOTOS_CRON, { name: PURGE_PHOTOS_JOB, data: {} });
  return { name: "schedule-worker", close: () => worker.close() };
}
