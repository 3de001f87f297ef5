import pg from "pg";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { context, propagation, trace, TraceFlags, type TextMapPropagator } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { until } from "@shouhu/testing";
import { OutboxRelay, appendToOutbox, batchJobId, eventsOfJob, type BatchOutcome } from "../src/index.js";
import { REDIS_URL, childRegistered, connection, effectsFor, recordingConsumer, runFixture, setupFile, transactionRunner } from "./support.js";

let pool: pg.Pool;
let prefix: string;
let dbUrl: string;
let cleanup: () => Promise<void>;
const routes = { "child.registered": ["reporting"], "child.updated": ["reporting"], "child.status-changed": ["reporting"] } as const;

beforeAll(async () => {
  const file = await setupFile("msg_relay");
  ({ pool, prefix, cleanup } = file);
  dbUrl = file.db.url;
});
afterAll(async () => cleanup());

const published = async (id: string) => (await pool.query("SELECT published_at, publish_attempts, last_error FROM outbox WHERE id = $1", [id])).rows[0];

describe("outbox and relay", () => {
  it("a producer killed after commit, before any relay ran, loses nothing", async () => {
    const fixture = runFixture("crash-after-commit.ts", [dbUrl, REDIS_URL, prefix, "before-relay", uuidv7()]);
    const { eventId } = (await fixture.message("committed")) as { eventId: string };
    expect((await fixture.exited).signal).toBe("SIGKILL");
    expect((await published(eventId)).published_at).toBeNull();

    const worker = recordingConsumer(pool, "reporting", prefix);
    const relay = new OutboxRelay({ pool, connection, prefix, producer: "test", routes });
    relay.start();
    try {
      await until("one effect", async () => (await effectsFor(pool, eventId)) === 1);
      expect((await published(eventId)).published_at).not.toBeNull();
    } finally {
      await relay.stop();
      await worker.close();
    }
  });

  it("a relay killed between adding to the queue and marking published (a job per event): republished, applied exactly once", async () => {
    const fixture = runFixture("crash-after-commit.ts", [dbUrl, REDIS_URL, prefix, "mid-publish", uuidv7(), "event"]);
    const { eventId } = (await fixture.message("committed")) as { eventId: string };
    expect((await fixture.exited).signal).toBe("SIGKILL");
    // The job reached Redis, but the row still says unpublished.
    const queue = new Queue("reporting.events", { connection, prefix });
    expect(await queue.getJob(eventId)).toBeTruthy();
    expect((await published(eventId)).published_at).toBeNull();

    // While the first job still exists, republishing is a no-op in Redis (same job id).
    const relay = new OutboxRelay({ pool, connection, prefix, producer: "test", routes, jobs: "event" });
    expect(await relay.publishOnce()).toBe(1);
    expect(await queue.getJobCounts("waiting")).toMatchObject({ waiting: 1 });
    const worker = recordingConsumer(pool, "reporting", prefix);
    await until("one effect", async () => (await effectsFor(pool, eventId)) === 1);
    await until("the job completed", async () => (await queue.getJobState(eventId)) === "completed");
    // Once the job is gone (removeOnComplete), a republish is a real second delivery: the inbox absorbs it.
    await queue.remove(eventId);
    await pool.query("UPDATE outbox SET published_at = NULL WHERE id = $1", [eventId]);
    expect(await relay.publishOnce()).toBe(1);
    await until("the redelivery seen as a duplicate", async () => (await queue.getJob(eventId))?.returnvalue === "duplicate");
    expect(await effectsFor(pool, eventId)).toBe(1);
    await relay.stop();
    await worker.close();
    await queue.close();
  });

  it("a relay killed between adding a batch job and marking published: the same job id again, each event applied once", async () => {
    const fixture = runFixture("crash-after-commit.ts", [dbUrl, REDIS_URL, prefix, "mid-publish", uuidv7(), "batch"]);
    const { eventId } = (await fixture.message("committed")) as { eventId: string };
    expect((await fixture.exited).signal).toBe("SIGKILL");
    const queue = new Queue("reporting.events", { connection, prefix });
    const jobId = batchJobId([eventId]);
    const job = await queue.getJob(jobId);
    expect(job?.name).toBe("events.batch");
    expect(eventsOfJob(job!)).toMatchObject([{ id: eventId }]);
    expect((await published(eventId)).published_at).toBeNull();

    // The same rows claimed again: the same batch job id, so Redis still holds one job.
    const relay = new OutboxRelay({ pool, connection, prefix, producer: "test", routes });
    expect(await relay.publishOnce()).toBe(1);
    expect((await queue.getJobs(["waiting"])).filter((j) => eventsOfJob(j).some((e) => (e as { id: string }).id === eventId))).toHaveLength(1);
    const worker = recordingConsumer(pool, "reporting", prefix);
    await until("one effect", async () => (await effectsFor(pool, eventId)) === 1);
    await until("the batch job completed", async () => (await queue.getJobState(jobId)) === "completed");
    expect((await queue.getJob(jobId))!.returnvalue).toEqual({ applied: 1, duplicate: 0, retried: 0 } satisfies BatchOutcome);
    // Once the job is gone, a republish is a real second delivery: the inbox absorbs it.
    await queue.remove(jobId);
    await pool.query("UPDATE outbox SET published_at = NULL WHERE id = $1", [eventId]);
    expect(await relay.publishOnce()).toBe(1);
    await until("the redelivery seen as a duplicate", async () => (await queue.getJob(jobId))?.returnvalue?.duplicate === 1);
    expect(await effectsFor(pool, eventId)).toBe(1);
    await relay.stop();
    await worker.close();
    await queue.close();
  });

  it("rows of a rolled-back transaction are never published", async () => {
    const event = childRegistered();
    await expect(
      transactionRunner(pool)(async (tx) => {
        await appendToOutbox(tx, [event]);
        throw new Error("state change failed");
      }),
    ).rejects.toThrow();
    expect((await pool.query("SELECT 1 FROM outbox WHERE id = $1", [event.id])).rowCount).toBe(0);
  });

  it("several relays at once publish every event once (SKIP LOCKED), in order of creation per relay", async () => {
    const events = Array.from({ length: 60 }, () => childRegistered());
    await transactionRunner(pool)((tx) => appendToOutbox(tx, events));
    const relays = [1, 2, 3].map(
      () => new OutboxRelay({ pool, connection, prefix, producer: "test", routes: { "child.registered": ["multi"] }, batchSize: 7, listen: false }),
    );
    const moved = await Promise.all(
      relays.map(async (r) => {
        let n = 0,
          m;
        while ((m = await r.publishOnce()) > 0) n += m;
        return n;
      }),
    );
    expect(moved.reduce((a, b) => a + b, 0)).toBe(60);
    const queue = new Queue("multi.events", { connection, prefix });
    // One job per claimed batch (at most 7 events), every event in exactly one of them, in outbox order within it.
    const jobs = await queue.getJobs(["waiting"]);
    expect(jobs.length).toBeGreaterThanOrEqual(9);
    const carried = jobs.map((j) => eventsOfJob(j).map((e) => (e as { id: string }).id));
    expect(carried.flat().sort()).toEqual(events.map((e) => e.id).sort());
    for (const ids of carried) expect(ids).toEqual([...ids].sort((a, b) => events.findIndex((e) => e.id === a) - events.findIndex((e) => e.id === b)));
    await Promise.all(relays.map((r) => r.stop()));
    await queue.close();
  });

  it("a publish failure is recorded on the row and retried on the next poll", async () => {
    const event = childRegistered();
    await transactionRunner(pool)((tx) => appendToOutbox(tx, [event]));
    // BullMQ rejects this priority, standing in for Redis refusing the add.
    const broken = new OutboxRelay({
      pool,
      connection,
      prefix,
      producer: "test",
      routes: { "child.registered": ["failing"] },
      jobOptions: { priority: 1e9 },
      listen: false,
    });
    await expect(broken.publishOnce()).rejects.toThrow(/Priority/);
    expect(await published(event.id)).toMatchObject({ published_at: null, publish_attempts: 1, last_error: expect.stringMatching(/Priority/) });
    await broken.stop();
    const relay = new OutboxRelay({ pool, connection, prefix, producer: "test", routes: { "child.registered": ["failing"] }, listen: false });
    expect(await relay.publishOnce()).toBe(1);
    expect(await published(event.id)).toMatchObject({ publish_attempts: 2, last_error: null });
    await relay.stop();
  });

  it("a commit wakes a listening relay at once (NOTIFY), long before its poll", async () => {
    const relay = new OutboxRelay({ pool, connection, prefix, producer: "test", routes: { "child.registered": ["notified"] }, pollIntervalMs: 60_000 });
    relay.start();
    await new Promise((r) => setTimeout(r, 300)); // first (empty) pass and LISTEN
    const event = childRegistered();
    const queue = new Queue("notified.events", { connection, prefix });
    const t0 = Date.now();
    await transactionRunner(pool)((tx) => appendToOutbox(tx, [event]));
    await until("the relay queued the event", async () => Boolean(await queue.getJob(batchJobId([event.id]))), 5000);
    expect(Date.now() - t0).toBeLessThan(2000);
    await relay.stop();
    await queue.close();
  });

  it("the envelope carries the active trace context", async () => {
    // Without a context manager context.with() is a no-op; services get both from the OTel SDK.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator() as TextMapPropagator);
    const spanContext = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331", traceFlags: TraceFlags.SAMPLED };
    const event = context.with(trace.setSpanContext(context.active(), spanContext), () => childRegistered());
    expect(event.traceparent).toBe("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    propagation.disable();
    context.disable();
  });

  it("prune deletes published rows past the retention only", async () => {
    const old = childRegistered();
    const fresh = childRegistered();
    await transactionRunner(pool)((tx) => appendToOutbox(tx, [old, fresh]));
    await pool.query("UPDATE outbox SET published_at = now() - interval '100 hours' WHERE id = $1", [old.id]);
    await pool.query("UPDATE outbox SET published_at = now() WHERE id = $1", [fresh.id]);
    const relay = new OutboxRelay({ pool, connection, prefix, producer: "test", routes, retentionHours: 72 });
    expect(await relay.prune()).toBeGreaterThanOrEqual(1);
    expect((await pool.query("SELECT id FROM outbox WHERE id = ANY($1::uuid[])", [[old.id, fresh.id]])).rows.map((r) => r.id)).toEqual([fresh.id]);
  });
});
