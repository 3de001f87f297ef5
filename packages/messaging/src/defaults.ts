import type { JobsOptions } from "bullmq";

/**
 * Retries with backoff; finished jobs kept bounded (BullMQ keeps everything by default).
 * A completed event job is only a first line against a duplicate publish (same job id);
 * the consumer's inbox is the guarantee, so an hour and the last 1,000 per queue are
 * enough — 10,000 per queue held 121 MB of Redis after a 10.7k-child import. Failed
 * ones stay two weeks (and their dead letters until a person decides).
 */
export const eventJobOptions: JobsOptions = {
  attempts: 8,
  backoff: { type: "exponential", delay: 1000, jitter: 0.5 },
  removeOnComplete: { age: 3600, count: 1000 },
  removeOnFail: { age: 14 * 24 * 3600, count: 10_000 },
};
