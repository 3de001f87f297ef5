/**
 * In-app delivery benchmark: N `visit.due` events put on the notifications
 * service's event queue as the relay would, consumed by the real consumer
 * (envelope validation, inbox row, rules, directory, template, message insert —
 * one transaction per event) until every in-app message is stored. Beside it, in
 * the same run, a BullMQ worker that does nothing with the same number of jobs on
 * the same Redis: the queue's own ceiling. The consumer runs its transaction on a
 * plain pg client as the worker does (services/notifications/src/data/sql.ts);
 * with `--prisma` the same events also go through a Prisma interactive
 * transaction, the way it ran before, for comparison in the same run. A third full
 * path puts the same number of events in batch jobs of 500 (BATCH_JOB), as the outbox
 * relay publishes them since issue 20: one job per relay batch instead of one per event.
 *
 *   npx tsx --conditions source bench/notifications-delivery.ts [--events 20000] [--concurrency 16] [--prisma]
 */
import os from "node:os";
import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { Queue, Worker } from "bullmq";
import { createPgPool, migrate } from "@shouhu/db";
import { eventsQueue, type Envelope } from "@shouhu/contracts";
import { BATCH_JOB, batchJobId, buildEvent, createEventConsumer, eventJobOptions, inPgTransaction, type SqlTx } from "@shouhu/messaging";
import { createTestDatabase, startTestIssuer, testPrefix } from "@shouhu/testing";
import { KeycloakAccounts } from "@shouhu/auth/keycloak-accounts";
import { createPrisma } from "../services/notifications/src/data/db.js";
import { syncDirectoryFromKeycloak } from "../services/notifications/src/data/directory.js";
import { inChildBatch, notificationHandlers } from "../services/notifications/src/events/handlers.js";
import { parseQuietHours } from "../services/notifications/src/domain/quiet-hours.js";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg("events", 20_000);
const concurrency = arg("concurrency", 16);
const withPrisma = process.argv.includes("--prisma");
const root = fileURLToPath(new URL("..", import.meta.url));
const connection = { url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" };
const prefix = testPrefix("bench_notify");

function visitDue(i: number): Envelope {
  const child = { id: randomUUID(), name: `儿童${i}`, villageCode: "360999101201", townshipCode: "360999101" };
  return buildEvent(
    "visit.due",
    {
      subject: child.id,
      orgUnit: child.villageCode,
      actor: { kind: "system", id: "bench" },
      data: {
        itemId: randomUUID(),
        kind: "home_visit",
        period: "2026-11",
        dueDate: "2026-12-05",
        child,
        responsible: { kind: "helper", helperId: randomUUID(), name: "王老师", phone: null, username: "changling.teacher", villageCode: child.villageCode },
        daysLeft: 7,
      },
    },
    { producer: "visits" },
  );
}

async function fill(queue: Queue, events: Envelope[]): Promise<void> {
  for (let i = 0; i < events.length; i += 1000) {
    await queue.addBulk(events.slice(i, i + 1000).map((e) => ({ name: e.type, data: e, opts: { ...eventJobOptions, jobId: e.id } })));
  }
}

/** As the relay publishes: one job per 500 events. */
async function fillBatches(queue: Queue, events: Envelope[]): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const slice = events.slice(i, i + 500);
    await queue.add(BATCH_JOB, { events: slice }, { ...eventJobOptions, jobId: batchJobId(slice.map((e) => e.id)) });
  }
}

const db = await createTestDatabase("bench_notify");
const prisma = createPrisma(db.url);
const pool = createPgPool(db.url, { max: concurrency });
const queues: Queue[] = [];
try {
  await migrate({ databaseUrl: db.url, migrationsDir: `${root}/services/notifications/prisma/migrations` });
  // The staff directory from the dev issuer's admin API, as the service syncs it from Keycloak.
  const issuer = await startTestIssuer();
  try {
    await syncDirectoryFromKeycloak(
      prisma,
      new KeycloakAccounts({ issuerUrl: issuer.issuerUrl, clientId: "shouhu-directory", clientSecret: "shouhu-directory-secret" }),
    );
  } finally {
    await issuer.close();
  }
  const events = Array.from({ length: N }, (_, i) => visitDue(i));
  console.log(`${N} visit.due events, concurrency ${concurrency}; ${os.cpus().length} × ${os.cpus()[0]?.model}, node ${process.version}`);

  // Baseline: a no-op worker over the same number of jobs.
  const noopQueue = new Queue("bench.noop", { connection, prefix });
  queues.push(noopQueue);
  await fill(noopQueue, events);
  let done = 0;
  const noopStart = performance.now();
  const noop = new Worker("bench.noop", async () => undefined, { connection, prefix, concurrency });
  await new Promise<void>((resolve) => noop.on("completed", () => ++done === N && resolve()));
  const noopMs = performance.now() - noopStart;
  await noop.close();

  // Full path: the notifications consumer, as the worker runs it.
  const queue = new Queue(eventsQueue("notifications"), { connection, prefix });
  queues.push(queue);
  const fullPath = async (batch: Envelope[], runInTransaction: <T>(fn: (tx: SqlTx) => Promise<T>) => Promise<T>, put = fill): Promise<number> => {
    const before = await prisma.message.count();
    await put(queue, batch);
    const start = performance.now();
    const consumer = createEventConsumer<SqlTx>({
      service: "notifications",
      connection,
      prefix,
      concurrency,
      handlers: notificationHandlers({ quiet: parseQuietHours("21:00-08:00") }),
      runInTransaction,
    });
    for (;;) {
      const stored = await prisma.message.count();
      if (stored >= before + batch.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const ms = performance.now() - start;
    await consumer.close();
    return ms;
  };
  // As main.ts runs it: a batch's child events and messages written together.
  const fullMs = await fullPath(events, (fn) => inPgTransaction(pool, (tx) => inChildBatch(tx, fn)));
  const batchMs = await fullPath(
    Array.from({ length: N }, (_, i) => visitDue(i)),
    (fn) => inPgTransaction(pool, (tx) => inChildBatch(tx, fn)),
    fillBatches,
  );
  const prismaMs = withPrisma
    ? await fullPath(
        Array.from({ length: N }, (_, i) => visitDue(i)),
        (fn) => prisma.$transaction(fn),
      )
    : null;

  const rate = (ms: number) => Math.round(N / (ms / 1000));
  console.log(
    [
      "| path | events | time | per second |",
      "| --- | --: | --: | --: |",
      `| BullMQ no-op worker (same Redis, same concurrency) | ${N} | ${(noopMs / 1000).toFixed(2)} s | ${rate(noopMs)} |`,
      `| event in → in-app message stored (notifications consumer) | ${N} | ${(fullMs / 1000).toFixed(2)} s | ${rate(fullMs)} |`,
      `| same, in batch jobs of 500 events (as the relay publishes) | ${N} | ${(batchMs / 1000).toFixed(2)} s | ${rate(batchMs)} |`,
      ...(prismaMs === null ? [] : [`| same, consumer transaction in Prisma (before) | ${N} | ${(prismaMs / 1000).toFixed(2)} s | ${rate(prismaMs)} |`]),
      `| **ratio full path / no-op** | | | **${(rate(fullMs) / rate(noopMs)).toFixed(2)}** |`,
      `| **ratio batch jobs / no-op** | | | **${(rate(batchMs) / rate(noopMs)).toFixed(2)}** |`,
    ].join("\n"),
  );
} finally {
  for (const q of queues) {
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }
  await prisma.$disconnect();
  await pool.end();
  await db.drop();
}
