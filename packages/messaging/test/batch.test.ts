import pg from "pg";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "@shouhu/testing";
import { BATCH_JOB, consumeEvents, listDeadLetters, replayDeadLetters, type SqlTx } from "../src/index.js";
import { childRegistered, connection, effectsFor, recordingConsumer, setupFile, transactionRunner } from "./support.js";

/** Batched consumers: many events in one transaction, each still exactly once, one bad event failing alone. */
let pool: pg.Pool;
let prefix: string;
let cleanup: () => Promise<void>;

beforeAll(async () => {
  ({ pool, prefix, cleanup } = await setupFile("msg_batch"));
});
afterAll(async () => cleanup());

/** The shared transaction runner, counting the transactions it opened. */
function countingRunner() {
  const counter = { transactions: 0 };
  const inner = transactionRunner(pool);
  const run = <T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> => (counter.transactions++, inner(fn));
  return { counter, run };
}

const effectHandler = {
  "child.registered": async (e: { id: string; type: string }, tx: SqlTx) =>
    void (await tx.$executeRawUnsafe("INSERT INTO effects (event_id, note) VALUES ($1::uuid, $2)", e.id, e.type)),
};

describe("consumeEvents", () => {
  it("applies a batch in one transaction, in order, and an event twice in the batch or already applied only once", async () => {
    const { counter, run } = countingRunner();
    const events = Array.from({ length: 5 }, () => childRegistered());
    const order: string[] = [];
    const handlers = { "child.registered": async (e: (typeof events)[number], tx: SqlTx) => (order.push(e.id), effectHandler["child.registered"](e, tx)) };
    expect(await consumeEvents([events[0]!], handlers, run)).toEqual(["applied"]);
    const outcomes = await consumeEvents([...events, events[2]!], handlers, run);
    expect(outcomes).toEqual(["duplicate", "applied", "applied", "applied", "applied", "duplicate"]);
    expect(counter.transactions).toBe(2);
    expect(order).toEqual(events.map((e) => e.id));
    for (const e of events) expect(await effectsFor(pool, e.id)).toBe(1);
  });

  it("commits nothing when one handler throws", async () => {
    const { run } = countingRunner();
    const [a, b] = [childRegistered(), childRegistered()];
    const handlers = {
      "child.registered": async (e: typeof a, tx: SqlTx) => {
        await effectHandler["child.registered"](e, tx);
        if (e.id === b.id) throw new Error("bad row");
      },
    };
    await expect(consumeEvents([a, b], handlers, run)).rejects.toThrow("bad row");
    expect(await effectsFor(pool, a.id)).toBe(0);
    expect((await pool.query("SELECT 1 FROM inbox WHERE event_id = ANY($1::uuid[])", [[a.id, b.id]])).rowCount).toBe(0);
  });
});

describe("a batched consumer on BullMQ", () => {
  it("takes 200 events in a handful of transactions; an event that always fails fails alone and the rest apply once", async () => {
    const events = Array.from({ length: 200 }, () => childRegistered());
    const bad = events[57]!;
    const { counter, run: runner } = countingRunner();
    const worker = recordingConsumer(
      pool,
      "batched",
      prefix,
      { always: new Set([bad.subject]) },
      { runInTransaction: runner, batch: { size: 50, waitMs: 20 } },
    );
    const queue = new Queue("batched.events", { connection, prefix });
    await queue.addBulk(events.map((e) => ({ name: e.type, data: e, opts: { jobId: e.id, attempts: 2, backoff: { type: "fixed", delay: 10 } } })));
    await until("199 applied and one failed", async () => (await queue.getCompletedCount()) === 199 && (await queue.getFailedCount()) === 1, 30_000);
    const applied = await pool.query("SELECT count(*)::int AS n FROM effects WHERE event_id = ANY($1::uuid[])", [events.map((e) => e.id)]);
    expect(applied.rows[0].n).toBe(199);
    expect(await effectsFor(pool, bad.id)).toBe(0);
    expect(await queue.getJobState(bad.id)).toBe("failed");
    // 200 events: a few batches, plus one transaction per event of the batch the bad one spoiled (each attempt).
    expect(counter.transactions).toBeLessThan(200 / 2);
    await worker.close();
    await queue.close();
  });

  it("a batch job is applied in one transaction, its events in the job's order, one child's events in the producer's order", async () => {
    const { counter, run: runner } = countingRunner();
    const order: string[] = [];
    const worker = recordingConsumer(
      pool,
      "ordered",
      prefix,
      { inside: async (e) => void order.push(e.id) },
      { runInTransaction: runner, batch: { size: 50, waitMs: 20 } },
    );
    const queue = new Queue("ordered.events", { connection, prefix });
    const child = childRegistered();
    const again = childRegistered(child.subject); // the same child's next event
    const first = [child, ...Array.from({ length: 120 }, () => childRegistered())];
    const second = [again, ...Array.from({ length: 30 }, () => childRegistered())];
    await queue.addBulk([
      { name: BATCH_JOB, data: { events: first }, opts: { jobId: "batch-first" } },
      { name: BATCH_JOB, data: { events: second }, opts: { jobId: "batch-second" } },
    ]);
    await until("both batch jobs completed", async () => (await queue.getCompletedCount()) === 2, 30_000);
    expect((await queue.getJob("batch-first"))!.returnvalue).toEqual({ applied: 121, duplicate: 0, retried: 0 });
    expect(order).toEqual([...first, ...second].map((e) => e.id));
    // One transaction per job, however many events it holds (the batch size is 50).
    expect(counter.transactions).toBe(2);
    await worker.close();
    await queue.close();
  });

  it("a poison event inside a batch job: the others apply once, it goes on alone, is dead-lettered as a single event and replays", async () => {
    const events = Array.from({ length: 100 }, () => childRegistered());
    const bad = events[41]!;
    const always = new Set([bad.subject]);
    const invalid = { id: "not-an-event", type: "child.registered" };
    const worker = recordingConsumer(pool, "poisoned", prefix, { always }, { batch: { size: 50, waitMs: 20 } });
    const queue = new Queue("poisoned.events", { connection, prefix });
    await queue.add(
      BATCH_JOB,
      { events: [...events.slice(0, 60), invalid, ...events.slice(60)] },
      { jobId: "batch-poisoned", attempts: 2, backoff: { type: "fixed", delay: 10 } },
    );
    await until("the batch job completed", async () => (await queue.getJobState("batch-poisoned")) === "completed", 30_000);
    expect((await queue.getJob("batch-poisoned"))!.returnvalue).toEqual({ applied: 99, duplicate: 0, retried: 2 });
    const applied = await pool.query("SELECT count(*)::int AS n FROM effects WHERE event_id = ANY($1::uuid[])", [events.map((e) => e.id)]);
    expect(applied.rows[0].n).toBe(99);
    // The bad event as its own job, under its event id, with the batch job's retries; then a dead letter like any event's.
    await until("the poison event's own job failed", async () => (await queue.getJobState(bad.id)) === "failed", 30_000);
    expect((await queue.getJob(bad.id))!.attemptsMade).toBe(2);
    await until("two dead letters", async () => (await listDeadLetters("poisoned.events", { connection, prefix })).length === 2, 10_000);
    const letters = await listDeadLetters("poisoned.events", { connection, prefix });
    expect(letters.find((l) => l.jobId === bad.id)).toMatchObject({ jobName: "child.registered", data: { id: bad.id }, reason: "下游暂不可用", attempts: 2 });
    expect(letters.find((l) => l.jobId === "batch-poisoned-60")).toMatchObject({
      jobName: "invalid",
      data: invalid,
      reason: expect.stringMatching(/invalid event/),
    });
    // Fixed downstream: replaying the letter applies the event once.
    always.clear();
    expect(await replayDeadLetters("poisoned.events", { connection, prefix, ids: [`dead-${bad.id}`] })).toBe(1);
    await until("the replay applied", async () => (await effectsFor(pool, bad.id)) === 1, 10_000);
    await worker.close();
    await queue.close();
  });

  it("a batch job delivered twice (a crash before it completed, or a republish): every event applied once", async () => {
    const events = Array.from({ length: 40 }, () => childRegistered());
    await consumeEvents(events.slice(0, 25), effectHandler, transactionRunner(pool));
    const worker = recordingConsumer(pool, "twice", prefix, {}, { batch: { size: 50, waitMs: 20 } });
    const queue = new Queue("twice.events", { connection, prefix });
    await queue.add(BATCH_JOB, { events }, { jobId: "batch-twice" });
    await until("the batch job completed", async () => (await queue.getJobState("batch-twice")) === "completed", 30_000);
    expect((await queue.getJob("batch-twice"))!.returnvalue).toEqual({ applied: 15, duplicate: 25, retried: 0 });
    for (const e of events) expect(await effectsFor(pool, e.id)).toBe(1);
    await worker.close();
    await queue.close();
  });
});
