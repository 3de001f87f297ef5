import { Queue, type ConnectionOptions, type Job, type JobsOptions } from "bullmq";
import { deadLetterQueue } from "@shouhu/contracts";
import { eventJobOptions } from "./defaults.js";
import type { MessagingLogger } from "./logger.js";

export interface DeadLetter {
  queue: string;
  jobName: string;
  jobId: string | undefined;
  data: unknown;
  reason: string;
  attempts: number;
  failedAt: string;
  /** Retry settings of the original job, reused on replay. */
  opts?: Pick<JobsOptions, "attempts" | "backoff">;
}

export interface DeadLetterOptions {
  connection: ConnectionOptions;
  prefix?: string;
}

/** Whether this failure was the job's last (no retries left, or unrecoverable). Call after BullMQ counted it. */
export function isFinalFailure(job: Job, err: Error): boolean {
  return err.name === "UnrecoverableError" || job.attemptsMade >= (job.opts.attempts ?? 1);
}

/** Same question asked inside the processor, before BullMQ counts the attempt in progress. */
function isLastAttempt(job: Job, err: Error): boolean {
  return err.name === "UnrecoverableError" || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

async function sendToDeadLetter(dead: Queue, job: Job, err: Error, attempts = job.attemptsMade): Promise<void> {
  const letter: DeadLetter = {
    queue: job.queueName,
    jobName: job.name,
    jobId: job.id,
    data: job.data,
    reason: err.message,
    attempts,
    failedAt: new Date().toISOString(),
    opts: { attempts: job.opts.attempts, backoff: job.opts.backoff },
  };
  // Keyed by the original id: the processor and the `failed` listener may both report
  // the same failure, and `add` with an existing id is a no-op.
  await dead.add(job.name, letter, { jobId: job.id ? `dead-${job.id}` : undefined, removeOnComplete: false, removeOnFail: false });
}

export function openDeadLetterQueue(queue: string, options: DeadLetterOptions, logger?: MessagingLogger): Queue {
  const dead = new Queue(deadLetterQueue(queue), { connection: options.connection, prefix: options.prefix });
  dead.on("error", (err) => logger?.error({ err, queue: dead.name }, "dead-letter queue error"));
  return dead;
}

/**
 * Wraps a processor so that its last failure is written to the dead-letter queue
 * before BullMQ marks the job failed. Doing it here rather than in the `failed`
 * listener means a crash right after the failure cannot lose the letter (the job
 * would stall, run again and fail again). The listener still covers failures the
 * processor never sees: BullMQ 6 fails a job that stalled more than
 * `maxStalledCount` times when a worker next picks it up, without calling us.
 */
export function withDeadLetters<R>(
  processor: (job: Job, token?: string) => Promise<R>,
  dead: Queue,
  logger: MessagingLogger,
): (job: Job, token?: string) => Promise<R> {
  return async (job, token) => {
    try {
      return await processor(job, token);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      // A processor that moved its job to later (quiet hours, a rate limit) has not failed.
      if (error.name === "DelayedError") throw err;
      if (isLastAttempt(job, error)) {
        await sendToDeadLetter(dead, job, error, job.attemptsMade + 1).catch((e) =>
          logger.error({ err: e, jobId: job.id }, "could not write dead letter; the failed listener will retry"),
        );
      }
      throw err;
    }
  };
}

/** The `failed` listener half of the above (see withDeadLetters). */
export function deadLetterOnFinalFailure(dead: Queue, logger: MessagingLogger, queue: string) {
  return (job: Job | undefined, err: Error) => {
    if (!job) return;
    const final = isFinalFailure(job, err);
    logger.warn({ err, queue, jobId: job.id, attempts: job.attemptsMade, final }, final ? "job moved to dead letters" : "job failed; will retry");
    if (final) sendToDeadLetter(dead, job, err).catch((e) => logger.error({ err: e, jobId: job.id }, "could not write dead letter"));
  };
}

/** Page size when a filter reads through the dead letters. */
const LETTER_PAGE = 500;

/**
 * Dead letters waiting for a decision, oldest first, at most `limit`. With `filter`
 * (e.g. the letters of one county, when the queue holds every county's), the letters
 * are read page by page and only those it keeps count towards the limit, so other
 * letters cannot crowd the kept ones out.
 */
export async function listDeadLetters(
  queue: string,
  options: DeadLetterOptions & { limit?: number; filter?: (letters: (DeadLetter & { id: string })[]) => Promise<(DeadLetter & { id: string })[]> },
): Promise<(DeadLetter & { id: string })[]> {
  const dead = openDeadLetterQueue(queue, options);
  const limit = options.limit ?? 1000;
  try {
    if (!options.filter) {
      const jobs = await dead.getJobs(["waiting"], 0, limit - 1, true);
      return jobs.filter(Boolean).map((j) => ({ ...(j.data as DeadLetter), id: j.id! }));
    }
    const kept: (DeadLetter & { id: string })[] = [];
    for (let start = 0; kept.length < limit; start += LETTER_PAGE) {
      const jobs = (await dead.getJobs(["waiting"], start, start + LETTER_PAGE - 1, true)).filter(Boolean);
      if (jobs.length === 0) break;
      kept.push(...(await options.filter(jobs.map((j) => ({ ...(j.data as DeadLetter), id: j.id! })))));
    }
    return kept.slice(0, limit);
  } finally {
    await dead.close();
  }
}

/**
 * Puts dead letters (all, or those with the given letter ids) back on their
 * original queue, after the cause is fixed. Consumers are idempotent (inbox), so a
 * replay never doubles an effect. Returns how many were replayed.
 */
export async function replayDeadLetters(queue: string, options: DeadLetterOptions & { ids?: string[] }): Promise<number> {
  const dead = openDeadLetterQueue(queue, options);
  const target = new Queue(queue, { connection: options.connection, prefix: options.prefix });
  target.on("error", () => undefined);
  try {
    const jobs = options.ids ? await Promise.all(options.ids.map((id) => dead.getJob(id))) : await dead.getJobs(["waiting"], 0, -1, true);
    let replayed = 0;
    for (const job of jobs) {
      if (!job) continue;
      const letter = job.data as DeadLetter;
      // The failed original usually still exists under its id (removeOnFail keeps it a
      // while), and adding with an existing id is a no-op: then use a fresh id. No ':'.
      const original = letter.jobId ?? job.id!.replace(/^dead-/, "");
      const jobId = (await target.getJob(original)) ? `${original}-replay-${Date.now()}` : original;
      await target.add(letter.jobName, letter.data, {
        ...eventJobOptions,
        ...(letter.opts?.attempts ? { attempts: letter.opts.attempts } : {}),
        ...(letter.opts?.backoff ? { backoff: letter.opts.backoff } : {}),
        jobId,
      });
      await job.remove();
      replayed += 1;
    }
    return replayed;
  } finally {
    await Promise.all([dead.close(), target.close()]);
  }
}
