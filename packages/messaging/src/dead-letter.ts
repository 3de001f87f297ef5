import { Queue, type ConnectionOptions, type Job } from "bullmq";
import { deadLetterQueue } from "@shouhu/contracts";

export interface DeadLetter {
  queue: string;
  jobName: string;
  jobId: string | undefined;
  data: unknown;
  reason: string;
  attempts: number;
  failedAt: string;
}

/** Whether this failure was the job's last (no retries left, or unrecoverable). */
export function isFinalFailure(job: Job, err: Error): boolean {
  return err.name === "UnrecoverableError" || job.attemptsMade >= (job.opts.attempts ?? 1);
}

export async function sendToDeadLetter(dead: Queue, job: Job, err: Error): Promise<void> {
  const letter: DeadLetter = {
    queue: job.queueName,
    jobName: job.name,
    jobId: job.id,
    data: job.data,
    reason: err.message,
    attempts: job.attemptsMade,
    failedAt: new Date().toISOString(),
  };
  // Keyed by the original id: a second failure report of the same job is one letter.
  await dead.add(job.name, letter, { jobId: job.id ? `dead-${job.id}` : undefined, removeOnComplete: false, removeOnFail: false });
}

export function openDeadLetterQueue(queue: string, connection: ConnectionOptions, prefix?: string): Queue {
  const dead = new Queue(deadLetterQueue(queue), { connection, prefix });
  dead.on("error", () => undefined);
  return dead;
}

/** Dead letters waiting for a decision, newest first. */
export async function listDeadLetters(queue: string, connection: ConnectionOptions, prefix?: string): Promise<(DeadLetter & { id: string })[]> {
  const dead = openDeadLetterQueue(queue, connection, prefix);
  try {
    const jobs = await dead.getJobs(["waiting", "delayed", "prioritized"], 0, 999);
    return jobs.map((j) => ({ ...(j.data as DeadLetter), id: j.id! }));
  } finally {
    await dead.close();
  }
}

/**
 * Puts dead letters back on their original queue (after the cause is fixed).
 * Consumers are idempotent, so a replay never doubles an effect.
 */
export async function replayDeadLetters(queue: string, connection: ConnectionOptions, prefix?: string, ids?: string[]): Promise<number> {
  const dead = openDeadLetterQueue(queue, connection, prefix);
  const target = new Queue(queue, { connection, prefix });
  target.on("error", () => undefined);
  try {
    const jobs = await dead.getJobs(["waiting", "delayed", "prioritized"], 0, 9999);
    let replayed = 0;
    for (const job of jobs) {
      if (ids && !ids.includes(job.id!)) continue;
      const letter = job.data as DeadLetter;
      // The failed original may still exist under its id; a fresh id makes the add real.
      await target.add(letter.jobName, letter.data, { jobId: `${letter.jobId ?? job.id}-replay-${Date.now()}`, attempts: 8, backoff: { type: "exponential", delay: 1000 } });
      await job.remove();
      replayed += 1;
    }
    return replayed;
  } finally {
    await Promise.all([dead.close(), target.close()]);
  }
}
