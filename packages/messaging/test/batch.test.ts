import pg from "pg";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "@shouhu/testing";
import { consumeEvents, type SqlTx } from "../src/index.js";
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
});
