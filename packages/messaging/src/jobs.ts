import { Queue, Worker, type ConnectionOptions, type Job, type JobsOptions } from "bullmq";
import { isFinalFailure, openDeadLetterQueue, sendToDeadLetter } from "./dead-letter.js";
import { silentLogger, type MessagingLogger } from "./logger.js";

/** A queue for a service's own background work (imports, exports, schedules). */
export function createJobQueue(name: string, connection: ConnectionOptions, prefix?: string, defaultJobOptions?: JobsOptions): Queue {
  const queue = new Queue(name, {
    connection,
    prefix,
    defaultJobOptions: { attempts: 3, backoff: { type: "exponential", delay: 2000, jitter: 0.5 }, removeOnComplete: { age: 7 * 24 * 3600, count: 1000 }, removeOnFail: { age: 30 * 24 * 3600 }, ...defaultJobOptions },
  });
  queue.on("error", () => undefined);
  return queue;
}

export interface JobWorkerOptions {
  connection: ConnectionOptions;
  prefix?: string;
  concurrency?: number;
  logger?: MessagingLogger;
  /** Called on every failure; `final` when no retry is left (then the job is also dead-lettered). */
  onFailed?: (job: Job, err: Error, final: boolean) => Promise<void> | void;
  lockDuration?: number;
}

export function createJobWorker(name: string, processor: (job: Job) => Promise<unknown>, options: JobWorkerOptions): Worker {
  const logger = options.logger ?? silentLogger;
  const dead = openDeadLetterQueue(name, options.connection, options.prefix);
  const worker = new Worker(name, processor, {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 1,
    lockDuration: options.lockDuration ?? 120_000,
  });
  worker.on("error", (err) => logger.error({ err, queue: name }, "worker error"));
  worker.on("failed", (job, err) => {
    if (!job) return;
    const final = isFinalFailure(job, err);
    logger.warn({ err, queue: name, jobId: job.id, attempts: job.attemptsMade, final }, "job failed");
    Promise.resolve(options.onFailed?.(job, err, final))
      .then(() => (final ? sendToDeadLetter(dead, job, err) : undefined))
      .catch((e) => logger.error({ err: e, jobId: job.id }, "failure handling failed"));
  });
  worker.on("closed", () => void dead.close());
  return worker;
}

/**
 * A daily (cron) schedule, via BullMQ v6 job schedulers: upserting is idempotent,
 * so every worker can declare it at start and there is still one schedule.
 */
export async function upsertDailySchedule(queue: Queue, schedulerId: string, cronPattern: string, template: { name: string; data: object }): Promise<void> {
  await queue.upsertJobScheduler(schedulerId, { pattern: cronPattern, tz: "Asia/Shanghai" }, { name: template.name, data: template.data });
}
