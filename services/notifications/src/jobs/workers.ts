import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { jobQueues } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import type { Logger } from "@shouhu/kit";
import { createJobQueue, createJobWorker, upsertDailySchedule } from "@shouhu/messaging";
import type { PrismaClient } from "../data/db.js";
import { deliveryProcessor, markFailed, type DeliveryDeps } from "../data/delivery.js";
import { remindBirthdays } from "../data/birthdays.js";
import type { QuietHours } from "../domain/quiet-hours.js";

export const BIRTHDAY_JOB = "birthday-reminders";

/** The delivery queue: every message a job, retried with exponential backoff. */
export function createDeliveryQueue(connection: Redis, prefix: string | undefined, retry: { attempts: number; backoffMs: number }): Queue {
  return createJobQueue(jobQueues.notificationsDeliver, connection, prefix, {
    attempts: retry.attempts,
    backoff: { type: "exponential", delay: retry.backoffMs, jitter: 0.2 },
    // Completed jobs stay a day (at most the last 5,000), so a re-dispatch of the same
    // message id is usually a no-op; the message's own status is what prevents a resend.
    removeOnComplete: { age: 24 * 3600, count: 5000 },
  });
}

export function startDeliveryWorker(deps: DeliveryDeps & { connection: Redis; prefix?: string; logger: Logger; concurrency?: number }) {
  return createJobWorker(jobQueues.notificationsDeliver, deliveryProcessor(deps), {
    connection: deps.connection,
    prefix: deps.prefix,
    logger: deps.logger,
    concurrency: deps.concurrency ?? 8,
    onFailed: async (job, err, final) => {
      if (final) await markFailed(deps.prisma, (job.data as { messageId: string }).messageId, err.message);
    },
  });
}

export async function startBirthdayWorker(deps: {
  prisma: PrismaClient;
  connection: Redis;
  prefix?: string;
  queue: Queue;
  cron: string;
  quiet: QuietHours;
  logger: Logger;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  const worker = createJobWorker(
    jobQueues.notificationsSchedule,
    async (job) => {
      if (job.name !== BIRTHDAY_JOB) throw new Error(`no handler for scheduled job ${job.name}`);
      const at = now();
      const stored = await remindBirthdays(deps.prisma, todayInChina(at), { now: at, quiet: deps.quiet });
      deps.logger.info({ stored }, "birthday reminders");
      return stored;
    },
    { connection: deps.connection, prefix: deps.prefix, logger: deps.logger },
  );
  await upsertDailySchedule(deps.queue, BIRTHDAY_JOB, deps.cron, { name: BIRTHDAY_JOB, data: {} });
  return worker;
}
