import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { jobQueues } from "@shouhu/contracts";
import type { Logger } from "@shouhu/kit";
import { createJobWorker, upsertDailySchedule } from "@shouhu/messaging";
import type { PrismaClient } from "../data/db.js";
import { SCAN_JOB, dailyScan } from "../data/scan.js";
import { SNAPSHOT_JOB, publishVisitsSnapshot } from "../data/snapshot.js";
import { purgeExpiredPhotos } from "../data/photos.js";
import type { AttachmentStore } from "@shouhu/attachments";

/** The daily scan as a BullMQ job scheduler (one schedule however many workers upsert it); snapshot publishing runs here too. */
export async function startScanWorker(deps: {
  prisma: PrismaClient;
  connection: Redis;
  prefix?: string;
  queue: Queue;
  cron: string;
  concernEscalationDays: number;
  logger: Logger;
  now?: () => Date;
  /** With it, the daily scan also deletes visit photos past their retention. */
  attachments?: AttachmentStore;
}): Promise<{ name: string; close: () => Promise<unknown> }> {
  const now = deps.now ?? (() => new Date());
  const worker = createJobWorker(
    jobQueues.visitsSchedule,
    async (job) => {
      if (job.name === SNAPSHOT_JOB) {
        const { runId, county } = job.data as { runId: string; county?: string };
        return publishVisitsSnapshot(deps.prisma, runId, now(), county);
      }
      if (job.name !== SCAN_JOB) throw new Error(`no handler for scheduled job ${job.name}`);
      let done = 0;
      const result = await dailyScan(deps.prisma, now(), {
        concernEscalationDays: deps.concernEscalationDays,
        onBatch: async (stage, claimed) => job.updateProgress({ stage, items: (done += claimed) }),
      });
      deps.logger.info(result, "daily visit scan finished");
      if (deps.attachments) deps.logger.info({ deleted: await purgeExpiredPhotos(deps.prisma, deps.attachments, now()) }, "expired visit photos deleted");
      return result;
    },
    { connection: deps.connection, prefix: deps.prefix, logger: deps.logger, concurrency: 1 },
  );
  await upsertDailySchedule(deps.queue, SCAN_JOB, deps.cron, { name: SCAN_JOB, data: {} });
  return { name: "scan-worker", close: () => worker.close() };
}
