import type { JobsOptions } from "bullmq";

/** Retries with backoff; finished jobs kept bounded (BullMQ keeps everything by default). */
export const eventJobOptions: JobsOptions = {
  attempts: 8,
  backoff: { type: "exponential", delay: 1000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};
