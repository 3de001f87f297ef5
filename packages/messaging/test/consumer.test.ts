import pg from "pg";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { context, propagation, trace, type TextMapPropagator } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { until } from "@shouhu/testing";
import { createEventConsumer, createJobQueue, createJobWorker, listDeadLetters, replayDeadLetters, upsertDailySchedule, type SqlTx } from "../src/index.js";
import { childRegistered, connection, effectsFor, recordingConsumer, setupFile, transactionRunner } from "./support.js";

let pool: pg.Pool;
let prefix: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ pool, prefix, cleanup } = await setupFile("msg_consumer"));
});
afterAll(async () => cleanup());

describe("idempotent consumer", () => {
  it("the same event delivered twice (two job ids) has one effect", async () => {
    const event = childRegistered();
    const worker = recordingConsumer(pool, "dup", prefix);
    const queue = new Queue("dup.events", { connection, prefix });
    await queue.add(event.type, event, { jobId: `${event.id}-a` });
    await queue.add(event.type, event, { jobId: `${event.id}-b` });
    const done = async (id: string) => (await queue.getJobState(id)) === "completed";
    await until("both consumers done", async () => (await done(`${event.id}-a`)) && (await done(`${event.id}-b`)));
    expect(await effectsFor(pool, event.id)).toBe(1);
    const outcomes = await Promise.all([`${event.id}-a`, `${event.id}-b`].map(async (id) => (await queue.getJob(id))?.returnvalue));
    expect(outcomes.sort()).toEqual(["applied", "duplicate"]);
    expect((await pool.query("SELECT type FROM inbox WHERE event_id = $1", [event.id])).rows).toEqual([{ type: "child.registered" }]);
    await worker.close();
    await queue.close();
  });

  it("a handler that fails twice is retried with backoff and applied once", async () => {
    const event = childRegistered();
    const worker = recordingConsumer(pool, "retry", prefix, { failures: new Map([[event.subject, 2]]) });
    const queue = new Queue("retry.events", { connection, prefix });
    await queue.add(event.type, event, { jobId: event.id, attempts: 4, backoff: { type: "exponential", delay: 50, jitter: 0.5 } });
    await until("the job completed", async () => (await queue.getJobState(event.id)) === "completed");
    const job = await queue.getJob(event.id);
    expect(job?.attemptsMade).toBe(3);
    // Backoff held the retries back: at least ~25 ms + ~50 ms with jitter 0.5.
    expect(job!.finishedOn! - job!.timestamp).toBeGreaterThanOrEqual(70);
    expect(await effectsFor(pool, event.id)).toBe(1);
    // A failed attempt rolled back its inbox row with the effect; only the success left one.
    expect((await pool.query("SELECT 1 FROM inbox WHERE event_id = $1", [event.id])).rowCount).toBe(1);
    await worker.close();
    await queue.close();
  });

  it("a handler that always fails ends in the dead-letter queue with its reason; a replay after the fix applies it once", async () => {
    const event = childRegistered();
    const behaviour = { always: new Set([event.subject]) };
    let worker = recordingConsumer(pool, "dlq", prefix, behaviour);
    const queue = new Queue("dlq.events", { connection, prefix });
    await queue.add(event.type, event, { jobId: event.id, attempts: 3, backoff: { type: "fixed", delay: 20 } });
    await until("one dead letter", async () => (await listDeadLetters("dlq.events", { connection, prefix })).length === 1);
    const [letter] = await listDeadLetters("dlq.events", { connection, prefix });
    expect(letter).toMatchObject({
      id: `dead-${event.id}`,
      reason: "下游暂不可用",
      attempts: 3,
      jobName: "child.registered",
      jobId: event.id,
      data: { id: event.id },
    });
    await until("the job failed", async () => (await queue.getJobState(event.id)) === "failed");
    expect(await effectsFor(pool, event.id)).toBe(0);

    await worker.close();
    behaviour.always.clear();
    worker = recordingConsumer(pool, "dlq", prefix, behaviour);
    expect(await replayDeadLetters("dlq.events", { connection, prefix })).toBe(1);
    await until("one effect", async () => (await effectsFor(pool, event.id)) === 1);
    expect(await listDeadLetters("dlq.events", { connection, prefix })).toHaveLength(0);
    // The failed original still exists, so the replay went out under a fresh id (no ':').
    const replayed = (await queue.getJobs(["completed"])).find((j) => j.id?.startsWith(`${event.id}-replay-`));
    expect(replayed?.returnvalue).toBe("applied");
    // Replaying the same letter again (say, a double click) changes nothing.
    await queue.add(event.type, event, { jobId: `${event.id}-again` });
    await until("the redelivery completed", async () => (await queue.getJobState(`${event.id}-again`)) === "completed");
    expect(await effectsFor(pool, event.id)).toBe(1);
    await worker.close();
    await queue.close();
  });

  it("an invalid payload is unrecoverable: one attempt, straight to dead letters", async () => {
    const worker = recordingConsumer(pool, "bad", prefix);
    const queue = new Queue("bad.events", { connection, prefix });
    await queue.add("child.registered", { id: "not-a-uuid" }, { jobId: "bad-payload", attempts: 5 });
    await until("the bad payload dead-lettered", async () =>
      (await listDeadLetters("bad.events", { connection, prefix })).some((l) => l.jobId === "bad-payload"),
    );
    const [letter] = await listDeadLetters("bad.events", { connection, prefix });
    expect(letter!.reason).toMatch(/^invalid event/);
    expect((await queue.getJob("bad-payload"))?.attemptsMade).toBe(1);
    await worker.close();
    await queue.close();
  });

  it("the handler runs inside the producer's trace", async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator() as TextMapPropagator);
    try {
      const event = { ...childRegistered(), traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" };
      let seen: string | undefined;
      const worker = recordingConsumer(pool, "traced", prefix, { inside: async () => void (seen = trace.getSpanContext(context.active())?.traceId) });
      const queue = new Queue("traced.events", { connection, prefix });
      await queue.add(event.type, event, { jobId: event.id });
      await until("one effect", async () => (await effectsFor(pool, event.id)) === 1);
      expect(seen).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
      await worker.close();
      await queue.close();
    } finally {
      propagation.disable();
      context.disable();
    }
  });

  it("refuses to start without a handler for an event routed to it, or with one for an event never routed to it", () => {
    const base = { connection, prefix, runInTransaction: transactionRunner(pool) };
    expect(() => createEventConsumer<SqlTx>({ ...base, service: "reporting", handlers: {} })).toThrow(
      /missing handlers for child.registered, child.updated, child.status-changed/,
    );
    expect(() => createEventConsumer<SqlTx>({ ...base, service: "gateway", handlers: { "child.registered": async () => undefined } })).toThrow(
      /handlers for events never routed here: child.registered/,
    );
  });
});

describe("background jobs", () => {
  it("retries with the shared defaults, then dead-letters the last failure", async () => {
    const queue = createJobQueue("test.jobs", connection, prefix, { attempts: 2, backoff: { type: "fixed", delay: 20 } });
    const seen: boolean[] = [];
    const worker = createJobWorker(
      "test.jobs",
      async () => {
        throw new Error("导入文件损坏");
      },
      { connection, prefix, onFailed: (_j, _e, final) => void seen.push(final) },
    );
    await queue.add("import", { batchId: "b1" }, { jobId: "import-b1" });
    await until("one dead letter", async () => (await listDeadLetters("test.jobs", { connection, prefix })).length === 1);
    const [letter] = await listDeadLetters("test.jobs", { connection, prefix });
    expect(letter).toMatchObject({ reason: "导入文件损坏", attempts: 2, data: { batchId: "b1" } });
    await until("two deliveries seen", async () => seen.length === 2);
    expect(seen).toEqual([false, true]);
    const job = await queue.getJob("import-b1");
    expect(job?.opts.removeOnComplete).toMatchObject({ age: 24 * 3600, count: 500 });
    await worker.close();
    await queue.close();
  });

  it("a daily schedule is upserted once however many workers declare it", async () => {
    const queue = createJobQueue("test.schedule", connection, prefix);
    await upsertDailySchedule(queue, "age-out", "0 2 * * *", { name: "age-out", data: {} });
    await upsertDailySchedule(queue, "age-out", "0 3 * * *", { name: "age-out", data: {} });
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: "age-out", pattern: "0 3 * * *", tz: "Asia/Shanghai" });
    await queue.close();
  });
});
