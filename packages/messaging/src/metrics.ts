import { Queue, type ConnectionOptions } from "bullmq";
import type pg from "pg";
import { processGauge, processHistogram } from "@shouhu/kit/metrics";

/**
 * What operators need to see of the background work (issue: "no queue depth, outbox lag
 * or consumer lag"): per-queue job counts by state, the age of the oldest unpublished
 * outbox row, how long an event took from its producer to being applied, how long jobs
 * run. Read on scrape, from Redis and PostgreSQL, so they cost nothing between scrapes.
 */

const STATES = ["waiting", "active", "delayed", "failed", "completed", "prioritized", "waiting-children"] as const;
const watched = new Map<string, { queue: Queue; owned: boolean }>();

processGauge("bullmq_queue_jobs", "Jobs in a BullMQ queue by state", ["queue", "state"], async (gauge) => {
  await Promise.all(
    [...watched].map(async ([name, { queue }]) => {
      try {
        const counts = await queue.getJobCounts(...STATES);
        for (const state of STATES) gauge.set({ queue: name, state }, counts[state] ?? 0);
      } catch {
        // Redis down: no figure rather than a stale one.
        for (const state of STATES) gauge.remove({ queue: name, state });
      }
    }),
  );
});

/** Counts this queue on every scrape (its consumer's, a job queue's, a dead-letter queue's). */
export function watchQueue(name: string, connection: ConnectionOptions, prefix?: string, queue?: Queue): void {
  if (watched.has(name)) return;
  watched.set(name, { queue: queue ?? new Queue(name, { connection, prefix }), owned: !queue });
}

/** Closes the queues opened only for counting (at shutdown). */
export async function closeWatchedQueues(): Promise<void> {
  const mine = [...watched.values()].filter((w) => w.owned);
  watched.clear();
  await Promise.all(mine.map((w) => w.queue.close().catch(() => undefined)));
}

const outboxes = new Map<string, pg.Pool>();
processGauge("outbox_lag_seconds", "Age of the oldest event not yet published from a producer's outbox (0 when none)", ["producer"], async (gauge) => {
  await Promise.all(
    [...outboxes].map(async ([producer, pool]) => {
      try {
        const { rows } = await pool.query<{ lag: number | null }>(
          "SELECT extract(epoch FROM now() - min(created_at))::float AS lag FROM outbox WHERE published_at IS NULL",
        );
        gauge.set({ producer }, rows[0]?.lag ?? 0);
      } catch {
        gauge.remove({ producer });
      }
    }),
  );
});

export function watchOutbox(producer: string, pool: pg.Pool): void {
  outboxes.set(producer, pool);
}

const lagBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900];
/** From the event's occurrence at its producer to its effect committed here. */
export const consumerLag = processHistogram(
  "event_consumer_lag_seconds",
  "Time from an event's occurrence to its being applied by this consumer",
  ["queue", "type"],
  lagBuckets,
);
export const consumerBatchSize = processHistogram(
  "event_consumer_batch_size",
  "Events applied per consumer transaction",
  ["queue"],
  [1, 2, 5, 10, 20, 50, 100],
);
export const jobDuration = processHistogram(
  "job_duration_seconds",
  "Run time of background jobs by queue and outcome",
  ["queue", "outcome"],
  [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 1800],
);
