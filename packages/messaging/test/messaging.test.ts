import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { Queue, type Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v7 as uuidv7 } from "uuid";
import { createTestDatabase, testPrefix, type TestDatabase } from "@shouhu/testing";
import type { Envelope } from "@shouhu/contracts";
import {
  OutboxRelay,
  appendToOutbox,
  buildEvent,
  createEventConsumer,
  listDeadLetters,
  replayDeadLetters,
  type SqlTx,
} from "../src/index.js";
import { REDIS_URL, effectsSql, messagingSql, transactionRunner, waitFor } from "./support.js";

const run = promisify(execFile);
const fixture = fileURLToPath(new URL("./fixtures/crash-after-commit.ts", import.meta.url));
const connection = { url: REDIS_URL };

let db: TestDatabase;
let pool: pg.Pool;
const prefix = testPrefix("messaging");
const routes = { "child.registered": ["reporting"], "child.updated": ["reporting"], "child.status-changed": ["reporting"] } as const;

function registered(childId: string) {
  return buildEvent(
    "child.registered",
    {
      subject: childId,
      orgUnit: "360999101201",
      actor: { kind: "user", id: "u1" },
      data: {
        child: {
          id: childId, name: "李小花", sex: "female", birthDate: "2015-03-07", villageCode: "360999101201", townshipCode: "360999101", countyCode: "360999",
          schoolId: null, schoolName: null, grade: null, className: null, leftBehindType: "both_parents_away", difficultyCategories: [], riskLevel: "low",
          status: "active", exitReason: null, guardian: null, parents: [], revision: 1,
        },
      },
    },
    { producer: "test" },
  );
}

async function effectsFor(eventId: string): Promise<number> {
  return (await pool.query("SELECT 1 FROM effects WHERE event_id = $1", [eventId])).rowCount ?? 0;
}

/** A consumer whose handler records one effect row per applied event; `behaviour` can make it fail. */
function consumer(service: string, behaviour: { failures: Map<string, number>; always?: Set<string>; delayMs?: number } = { failures: new Map() }, extra: object = {}): Worker {
  return createEventConsumer<SqlTx>({
    service,
    connection,
    prefix,
    routes: Object.fromEntries(Object.keys(routes).map((t) => [t, [service]])),
    runInTransaction: transactionRunner(pool),
    handlers: Object.fromEntries(
      Object.keys(routes).map((type) => [
        type,
        async (event: Envelope, tx: SqlTx) => {
          if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
          if (behaviour.always?.has(event.subject)) throw new Error("下游暂不可用");
          const left = behaviour.failures.get(event.subject) ?? 0;
          if (left > 0) {
            behaviour.failures.set(event.subject, left - 1);
            throw new Error("transient");
          }
          await tx.$executeRawUnsafe("INSERT INTO effects (event_id, note) VALUES ($1::uuid, $2)", event.id, event.type);
        },
      ]),
    ),
    ...extra,
  });
}

beforeAll(async () => {
  db = await createTestDatabase("messaging");
  pool = new pg.Pool({ connectionString: db.url, max: 8 });
  await pool.query(messagingSql);
  await pool.query(effectsSql);
});

afterAll(async () => {
  for (const name of ["reporting.events", "reporting.events.dead", "retry.events", "retry.events.dead", "dlq.events", "dlq.events.dead", "slow.events", "slow.events.dead"]) {
    const q = new Queue(name, { connection, prefix });
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }
  await pool.end();
  await db.drop();
});

describe("outbox and relay", () => {
  it("a crash after commit, before any relay ran, loses nothing", async () => {
    const childId = uuidv7();
    const out = await run("npx", ["tsx", "--conditions=source", fixture, db.url, REDIS_URL, prefix, "before-relay", childId]).catch((e) => e);
    const { eventId } = JSON.parse(out.stdout.trim().split("\n")[0]);
    expect((await pool.query("SELECT published_at FROM outbox WHERE id = $1", [eventId])).rows[0].published_at).toBeNull();

    const worker = consumer("reporting");
    const relay = new OutboxRelay({ pool, connection, prefix, producer: "test", routes });
    relay.start();
    try {
      await waitFor(async () => (await effectsFor(eventId)) === 1);
    } finally {
      await relay.stop();
      await worker.close();
    }
  });

  it("a crash between publishing and marking published: republished, applied exactly once", async () => {
    const childId = uuidv7();
    const out = await run("npx", ["tsx", "--conditions=source", fixture, db.url, REDIS_URL, prefix, "mid-publish", childId]).catch((e) => e);
    const { eventId } = JSON.parse(out.stdout.trim().split("\n")[0]);
    // The job reached Redis, but the row still says unpublished.
    const queue = new Queue("reporting.events", { connection, prefix });
    expect(await queue.getJob(eventId)).toBeTruthy();
    expect((await pool.query("SELECT published_at FROM outbox WHERE id = $1", [eventId])).rows[0].published_at).toBeNull();

    const worker = consumer("reporting");
    await waitFor(async () => (await effectsFor(eventId)) === 1);
    // The new relay republishes the same event; after the first job was removed it is a new job.
    await queue.remove(eventId);
    const relay = new OutboxRelay({ pool, connection, prefix, producer: "test", routes });
    expect(await relay.publishOnce()).toBe(1);
    await waitFor(async () => (await pool.query("SELECT 1 FROM inbox WHERE event_id = $1", [eventId])).rowCount === 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(await effectsFor(eventId)).toBe(1);
    await relay.stop();
    await worker.close();
    await queue.close();
  });

  it("the same event delivered twice has one effect", async () => {
    const event = registered(uuidv7());
    const worker = consumer("reporting");
    const queue = new Queue("reporting.events", { connection, prefix });
    await queue.add(event.type, event, { jobId: `${event.id}-a` });
    await queue.add(event.type, event, { jobId: `${event.id}-b` });
    const done = async (id: string) => (await queue.getJobState(id)) === "completed";
    await waitFor(async () => (await done(`${event.id}-a`)) && (await done(`${event.id}-b`)));
    expect(await effectsFor(event.id)).toBe(1);
    const outcomes = await Promise.all([`${event.id}-a`, `${event.id}-b`].map(async (id) => (await queue.getJob(id))?.returnvalue));
    expect(outcomes.sort()).toEqual(["applied", "duplicate"]);
    await worker.close();
    await queue.close();
  });

  it("events committed with a rolled-back transaction are never published", async () => {
    const event = registered(uuidv7());
    await expect(
      transactionRunner(pool)(async (tx) => {
        await appendToOutbox(tx, [event]);
        throw new Error("state change failed");
      }),
    ).rejects.toThrow();
    expect((await pool.query("SELECT 1 FROM outbox WHERE id = $1", [event.id])).rowCount).toBe(0);
  });
});

describe("consumer retries and dead letters", () => {
  it("a handler that fails twice is retried with backoff and applied once", async () => {
    const event = registered(uuidv7());
    const behaviour = { failures: new Map([[event.subject, 2]]) };
    const worker = consumer("retry", behaviour);
    const queue = new Queue("retry.events", { connection, prefix });
    await queue.add(event.type, event, { jobId: event.id, attempts: 4, backoff: { type: "exponential", delay: 50 } });
    await waitFor(async () => (await effectsFor(event.id)) === 1);
    const job = await queue.getJob(event.id);
    expect(job?.attemptsMade).toBe(3);
    await worker.close();
    await queue.close();
  });

  it("a handler that always fails ends in the dead-letter queue with its reason, and a replay applies it once", async () => {
    const event = registered(uuidv7());
    const behaviour = { failures: new Map<string, number>(), always: new Set([event.subject]) };
    let worker = consumer("dlq", behaviour);
    const queue = new Queue("dlq.events", { connection, prefix });
    await queue.add(event.type, event, { jobId: event.id, attempts: 3, backoff: { type: "fixed", delay: 20 } });
    await waitFor(async () => (await listDeadLetters("dlq.events", connection, prefix)).length === 1);
    const [letter] = await listDeadLetters("dlq.events", connection, prefix);
    expect(letter).toMatchObject({ reason: "下游暂不可用", attempts: 3, jobName: "child.registered" });
    expect(await effectsFor(event.id)).toBe(0);

    await worker.close();
    behaviour.always.clear();
    worker = consumer("dlq", behaviour);
    expect(await replayDeadLetters("dlq.events", connection, prefix)).toBe(1);
    await waitFor(async () => (await effectsFor(event.id)) === 1);
    expect(await listDeadLetters("dlq.events", connection, prefix)).toHaveLength(0);
    await worker.close();
    await queue.close();
  });

  it("an invalid payload goes straight to dead letters", async () => {
    const worker = consumer("dlq");
    const queue = new Queue("dlq.events", { connection, prefix });
    await queue.add("child.registered", { id: "not-a-uuid" }, { jobId: "bad-payload", attempts: 5 });
    await waitFor(async () => (await listDeadLetters("dlq.events", connection, prefix)).some((l) => l.jobId === "bad-payload"));
    const job = await queue.getJob("bad-payload");
    expect(job?.attemptsMade).toBe(1);
    await worker.close();
    await queue.close();
  });

  it("close() waits for the job in flight", async () => {
    const event = registered(uuidv7());
    const worker = consumer("slow", { failures: new Map(), delayMs: 600 });
    const queue = new Queue("slow.events", { connection, prefix });
    await queue.add(event.type, event, { jobId: event.id });
    await waitFor(async () => (await queue.getActiveCount()) === 1);
    await worker.close();
    expect(await effectsFor(event.id)).toBe(1);
    await queue.close();
  });

  it("refuses to start without a handler for an event routed to it", () => {
    expect(() =>
      createEventConsumer({ service: "reporting", connection, prefix, handlers: {}, runInTransaction: transactionRunner(pool), routes }),
    ).toThrow(/missing handlers for child.registered/);
  });
});
