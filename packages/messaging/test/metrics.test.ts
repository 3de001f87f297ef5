import pg from "pg";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processMetrics } from "@shouhu/kit";
import { until } from "@shouhu/testing";
import { OutboxRelay, appendToOutbox, closeWatchedQueues, createJobQueue, createJobWorker } from "../src/index.js";
import { childRegistered, connection, pgTx, recordingConsumer, setupFile } from "./support.js";

/** /metrics shows the background work: queue depth by state, outbox lag, consumer lag, job durations. */
let pool: pg.Pool;
let prefix: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ pool, prefix, cleanup } = await setupFile("msg_metrics"));
});
afterAll(async () => {
  await closeWatchedQueues();
  await cleanup();
});

const value = async (name: string, labels: Record<string, string>) => {
  const metric = (await processMetrics.getMetricsAsJSON()).find((m) => m.name === name);
  const v = metric?.values.find((x) => Object.entries(labels).every(([k, l]) => (x.labels as Record<string, unknown>)[k] === l));
  return v?.value;
};

describe("background-work metrics", () => {
  it("counts a queue's jobs by state, times jobs, and reports the outbox's oldest unpublished event", async () => {
    const queue = createJobQueue("metrics.jobs", connection, prefix);
    await queue.add("a", {}, { delay: 60_000 });
    await queue.add("b", {});
    expect(await value("bullmq_queue_jobs", { queue: "metrics.jobs", state: "waiting" })).toBe(1);
    expect(await value("bullmq_queue_jobs", { queue: "metrics.jobs", state: "delayed" })).toBe(1);
    const worker = createJobWorker("metrics.jobs", async () => new Promise((r) => setTimeout(r, 20)), { connection, prefix });
    await until("the job ran", async () => (await queue.getCompletedCount()) === 1);
    const durations = (await processMetrics.getMetricsAsJSON()).find((m) => m.name === "job_duration_seconds");
    expect(
      durations?.values.some(
        (v) => (v as { metricName?: string }).metricName === "job_duration_seconds_count" && v.labels.queue === "metrics.jobs" && v.value === 1,
      ),
    ).toBe(true);
    await worker.close();
    await queue.close();

    // An event left unpublished for 30 s shows as 30 s of outbox lag.
    const event = childRegistered();
    const client = await pool.connect();
    await appendToOutbox(pgTx(client), [event]);
    client.release();
    await pool.query("UPDATE outbox SET created_at = now() - interval '30 seconds' WHERE id = $1", [event.id]);
    const relay = new OutboxRelay({ pool, connection, prefix, producer: "metrics-test", routes: {} });
    expect(await value("outbox_lag_seconds", { producer: "metrics-test" })).toBeGreaterThanOrEqual(30);
    await relay.publishOnce();
    expect(await value("outbox_lag_seconds", { producer: "metrics-test" })).toBe(0);
  });

  it("observes each applied event's lag from its occurrence", async () => {
    const worker = recordingConsumer(pool, "lagged", prefix);
    const queue = new Queue("lagged.events", { connection, prefix });
    const event = { ...childRegistered(), occurredAt: new Date(Date.now() - 5_000).toISOString() };
    await queue.add(event.type, event, { jobId: event.id });
    await until("applied", async () => (await queue.getJobState(event.id)) === "completed");
    const lag = (await processMetrics.getMetricsAsJSON()).find((m) => m.name === "event_consumer_lag_seconds");
    const sum = lag?.values.find((v) => (v as { metricName?: string }).metricName === "event_consumer_lag_seconds_sum" && v.labels.queue === "lagged.events");
    expect(sum?.value).toBeGreaterThanOrEqual(5);
    expect(await value("bullmq_queue_jobs", { queue: "lagged.events", state: "completed" })).toBe(1);
    await worker.close();
    await queue.close();
  });
});
