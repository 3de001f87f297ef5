/**
 * Child events into the read models, per consuming service, side by side in one run:
 * N `child.registered` events (one township, as an import produces them) queued, then
 * consumed by the service's real consumer (BullMQ, batches of 50, its handlers) until
 * every inbox row is in, on a fresh migrated database per run:
 * - "event by event": the batch's child events applied one at a time (pairing, visits
 *   and health in a Prisma interactive transaction per batch, reporting in its plain pg
 *   batch with preload and summed counters) — how the services ran before the
 *   2026-12-05 batched child projections;
 * - "batched": as main.ts runs them now, a plain pg transaction per batch with the
 *   child events applied together (`inChildBatch`: one pass per round of one event per child).
 *
 *   npx tsx --conditions=source bench/child-projections.ts [--events 5000]
 */
import os from "node:os";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { createPgPool } from "@shouhu/db";
import { eventsQueue, type Envelope } from "@shouhu/contracts";
import { CONSUMER_TRANSACTION, buildEvent, createEventConsumer, eventJobOptions, inPgTransaction, type EventHandlers, type SqlTx } from "@shouhu/messaging";
import { childSnapshot, createTestDatabase, testPrefix } from "@shouhu/testing";
import { createPrisma as pairingPrisma } from "../services/pairing/src/data/db.js";
import { createPrisma as visitsPrisma } from "../services/visits/src/data/db.js";
import { createPrisma as healthPrisma } from "../services/health/src/data/db.js";
import { childEventHandlers, inChildBatch as pairingBatch } from "../services/pairing/src/events/child-events.js";
import { inChildBatch as visitsBatch, visitEventHandlers } from "../services/visits/src/events/handlers.js";
import { healthHandlers, inChildBatch as healthBatch } from "../services/health/src/events/handlers.js";
import { inChildBatch as reportingChildBatch, prepareReportingBatch, reportingHandlers } from "../services/reporting/src/events/handlers.js";
import { inBatch as reportingBatch } from "../services/reporting/src/data/projection.js";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const EVENTS = arg("events", 5000);
const connection = { url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" };
const migrations = (service: string) => fileURLToPath(new URL(`../services/${service}/prisma/migrations`, import.meta.url));
type Run = <T>(fn: (tx: SqlTx) => Promise<T>) => Promise<T>;
type Wrap = <T>(tx: SqlTx, fn: (tx: SqlTx) => Promise<T>) => Promise<T>;

interface Service {
  name: string;
  handlers: EventHandlers<SqlTx>;
  /** The batch wrapper of main.ts. */
  batched: Wrap;
  /** How the consumer ran before: a Prisma transaction per batch, or (reporting) its pg batch without applying child events together. */
  before: { prisma: (url: string) => { $transaction: (fn: never, o: object) => Promise<unknown>; $disconnect: () => Promise<void> } } | { wrap: Wrap };
  prepare?: typeof prepareReportingBatch;
}

const services: Service[] = [
  { name: "pairing", handlers: childEventHandlers(), batched: pairingBatch, before: { prisma: pairingPrisma as never } },
  { name: "visits", handlers: visitEventHandlers(), batched: visitsBatch, before: { prisma: visitsPrisma as never } },
  { name: "health", handlers: healthHandlers(), batched: healthBatch, before: { prisma: healthPrisma as never } },
  {
    name: "reporting",
    handlers: reportingHandlers(),
    batched: (tx, fn) => reportingBatch(tx, (t) => reportingChildBatch(t, fn)),
    before: { wrap: reportingBatch },
    prepare: prepareReportingBatch,
  },
];

const events: Envelope[] = Array.from({ length: EVENTS }, (_, i) => {
  const child = childSnapshot({ villageCode: `3609991012${String(1 + (i % 15)).padStart(2, "0")}`, revision: 1 });
  return buildEvent(
    "child.registered",
    { subject: child.id, orgUnit: child.villageCode, actor: { kind: "system", id: "import" } as never, data: { child } },
    { producer: "registry" },
  );
});

async function measure(service: Service, mode: "before" | "batched"): Promise<number> {
  const db = await createTestDatabase(`bench_child_${service.name}`, { migrationsDir: migrations(service.name) });
  const pool = createPgPool(db.url, { max: 3 });
  const prisma = mode === "before" && "prisma" in service.before ? service.before.prisma(db.url) : undefined;
  const prefix = testPrefix(`bench_child_${service.name}`);
  const queue = new Queue(eventsQueue(service.name), { connection, prefix });
  try {
    for (let i = 0; i < events.length; i += 1000)
      await queue.addBulk(events.slice(i, i + 1000).map((e) => ({ name: e.type, data: e, opts: { ...eventJobOptions, jobId: e.id } })));
    const runInTransaction: Run = prisma
      ? (fn) => prisma.$transaction(fn as never, CONSUMER_TRANSACTION) as never
      : (fn) => inPgTransaction(pool, (tx) => (mode === "batched" ? service.batched(tx, fn) : (service.before as { wrap: Wrap }).wrap(tx, fn)));
    const t0 = performance.now();
    const consumer = createEventConsumer<SqlTx>({
      service: service.name,
      connection,
      prefix,
      handlers: service.handlers,
      runInTransaction,
      prepare: service.prepare,
    });
    try {
      while (Number((await pool.query("SELECT count(*) AS n FROM inbox")).rows[0].n) < events.length) await new Promise((r) => setTimeout(r, 100));
      return (performance.now() - t0) / 1000;
    } finally {
      await consumer.close();
    }
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await prisma?.$disconnect();
    await pool.end();
    await db.drop();
  }
}

const rows: string[] = [];
for (const service of services) {
  const before = await measure(service, "before");
  const batched = await measure(service, "batched");
  rows.push(
    `| ${service.name} | ${before.toFixed(1)} | ${(EVENTS / before).toFixed(0)} | ${batched.toFixed(1)} | ${(EVENTS / batched).toFixed(0)} | ${(before / batched).toFixed(2)} |`,
  );
  console.log(rows.at(-1));
}
console.log(
  [
    `\n${EVENTS} child.registered per service, batches of 50; ${os.cpus().length} × ${os.cpus()[0]?.model}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
    "| service | event by event (s) | events/s | batched (s) | events/s | × |",
    "| --- | --: | --: | --: | --: | --: |",
    ...rows,
  ].join("\n"),
);
process.exit(0);
