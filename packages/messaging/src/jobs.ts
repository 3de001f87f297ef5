import { Queue, Worker, type ConnectionOptions, type Job, type JobsOptions, type WorkerOptions } from "bullmq";
import { deadLetterOnFinalFailure, isFinalFailure, openDeadLetterQueue, withDeadLetters } from "./dead-letter.js";
import { silentLogger, type MessagingLogger } from "./logger.js";
import { jobDuration, watchQueue } from "./metrics.js";

/**
 * Retries with backoff and bounded history for a service's own jobs (BullMQ keeps
 * everything by default): their outcome lives in the service's own tables (import
 * batches, exports, messages), so Redis keeps a day and the last 500; failed ones a
 * month and the last 5,000, for whoever looks into them.
 */
export const backgroundJobOptions: JobsOptions = {
  attempts: 3,
  backoff: { type: "exponential", delay: 2000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3600, count: 500 },
  removeOnFail: { age: 30 * 24 * 3600, count: 5000 },
};

/**
 * Locks of background job workers (imports, exports, deliveries, schedules). A crashed
 * process's job resumes once its lock expires and a stall check sees it: within 20 +
 * 10 s of a worker running again (the import resumes from its last committed chunk),
 * instead of the 2 minutes a 120 s lock took. The long work of an import parses in a
 * worker thread and the main thread only waits on PostgreSQL, so the lock is renewed
 * every 10 s without fail. Two stalls are allowed before the job fails (a crash, then
 * a restart that crashes again), not one.
 */
export const JOB_WORKER_LOCKS = { lockDuration: 20_000, stalledInterval: 10_000, maxStalledCount: 2 } as const;

/** A queue for a service's own background work (imports, exports, schedules). */
export function createJobQueue(
  name: string,
  connection: ConnectionOptions,
  prefix?: string,
  defaultJobOptions?: JobsOptions,
  logger: MessagingLogger = silentLogger,
): Queue {
  const queue = new Queue(name, { connection, prefix, defaultJobOptions: { ...backgroundJobOptions, ...defaultJobOptions } });
  queue.on("error", (err) => logger.error({ err, queue: name }, "queue error"));
  watchQueue(name, connection, prefix, queue);
  return queue;
}

export interface JobWorkerOptions {
  connection: ConnectionOptions;
  prefix?: string;
  concurrency?: number;
  logger?: MessagingLogger;
  /** Called on every failure; `final` when no retry is left (the job is also dead-lettered). */
  onFailed?: (job: Job, err: Error, final: boolean) => Promise<void> | void;
  /** Lock of a running job; default 20 s (see JOB_WORKER_LOCKS). */
  lockDuration?: number;
  workerOptions?: Partial<Omit<WorkerOptions, "connection" | "prefix" | "concurrency">>;
}

/** A worker with the same error listeners, dead letters and shutdown behaviour as event consumers. */
/** The processor gets BullMQ's lock token too, for `job.moveToDelayed(timestamp, token)`. */
export function createJobWorker<R = unknown>(name: string, processor: (job: Job, token?: string) => Promise<R>, options: JobWorkerOptions): Worker {
  const logger = options.logger ?? silentLogger;
  const dead = openDeadLetterQueue(name, options, logger);
  const worker = new Worker(name, withDeadLetters(processor, dead, logger), {
    ...JOB_WORKER_LOCKS,
    ...(options.lockDuration ? { lockDuration: options.lockDuration } : {}),
    ...options.workerOptions,
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 1,
  });
  const toDeadLetter = deadLetterOnFinalFailure(dead, logger, name);
  worker.on("error", (err) => logger.error({ err, queue: name }, "worker error"));
  worker.on("failed", (job, err) => {
    toDeadLetter(job, err);
    if (job && options.onFailed) {
      Promise.resolve(options.onFailed(job, err, isFinalFailure(job, err))).catch((e) => logger.error({ err: e, jobId: job.id }, "onFailed failed"));
    }
  });
  worker.on("stalled", (jobId) => logger.warn({ queue: name, jobId }, "job stalled; redelivering"));
  const observe = (job: Job | undefined, outcome: "completed" | "failed") => {
    if (job?.processedOn && job.finishedOn) jobDuration.observe({ queue: name, outcome }, (job.finishedOn - job.processedOn) / 1000);
  };
  worker.on("completed", (job) => observe(job, "completed"));
  worker.on("failed", (job) => observe(job, "failed"));
  worker.on("closed", () => void dead.close());
  return worker;
}

/**
 * A daily (cron) schedule, via BullMQ v6 job schedulers (`upsertJobScheduler`):
 * upserting is idempotent, so every worker can declare it at start and there is
 * still one schedule. Times are China time unless told otherwise.
 */
export async function upsertDailySchedule(
  queue: Queue,
  schedulerId: string,
  cronPattern: string,
  template: { name: string; data: object; opts?: Omit<JobsOptions, "jobId" | "repeat" | "delay"> },
  tz = "Asia/Shanghai",
): Promise<void> {
  await queue.upsertJobScheduler(schedulerId, { pattern: cronPattern, tz }, template);
}
