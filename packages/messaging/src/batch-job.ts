/**
 * A batch job: what the outbox relay publishes, one per claimed batch and consuming queue,
 * instead of one job per event. Its data holds the envelopes in outbox order; a consumer
 * applies them as one batch (one transaction), each exactly once by its inbox row. Single
 * event jobs (other producers, dead-letter replays, tests) are still taken as they were.
 */
export const BATCH_JOB = "events.batch";

export interface BatchJobData {
  events: unknown[];
}

export function isBatchJob(job: { name: string; data: unknown }): job is { name: string; data: BatchJobData } {
  return job.name === BATCH_JOB;
}

/** The events a job carries: a batch job's envelopes, or a single event job's data. */
export function eventsOfJob(job: { name: string; data: unknown }): unknown[] {
  if (!isBatchJob(job)) return [job.data];
  return Array.isArray(job.data?.events) ? job.data.events : [];
}
