// Two scans at the same time — two worker processes, or a stalled job run again
// while the first is still going — must split the work and send each event once.
// Its own database, so the scans' totals are exactly this file's items.
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "@shouhu/kit";
import { jobQueues } from "@shouhu/contracts";
import { buildEvent, consumeEvent, createJobQueue, createRedisConnection } from "@shouhu/messaging";
import { childSnapshot, testPrefix, type TestDatabase } from "@shouhu/testing";
import { createPrisma, type PrismaClient, type Tx } from "../src/data/db.js";
import { visitEventHandlers } from "../src/events/handlers.js";
import { SCAN_JOB, dailyScan, type ScanResult } from "../src/data/scan.js";
import { startScanWorker } from "../src/jobs/scan-worker.js";
import { visitsTest } from "./fixtures.js";

const at = (date: string) => new Date(`${date}T02:00:00Z`);
const CHILDREN = 40;

let db: TestDatabase;
/** Two clients with their own connection pools, as two worker processes have. */
let workerA: PrismaClient;
let workerB: PrismaClient;
const clock = { now: at("2026-11-22") };

visitsTest("visits_scan").beforeAll(async ({ db: database }) => {
  db = database;
  workerA = createPrisma(db.url);
  workerB = createPrisma(db.url);
  const handlers = visitEventHandlers(() => clock.now);
  for (let i = 0; i < CHILDREN; i++) {
    const child = childSnapshot({ name: `儿童${i}`, sex: "male", birthDate: "2014-05-01", schoolId: null, schoolName: null, riskLevel: "low" });
    const event = buildEvent(
      "child.registered",
      { subject: child.id, orgUnit: child.villageCode, actor: { kind: "user", id: "r", name: "登记员" }, data: { child } },
      { producer: "registry", now: clock.now },
    );
    await consumeEvent<Tx>(event, handlers, (fn) => workerA.$transaction(fn));
  }
});

afterAll(async () => {
  await workerA?.$disconnect();
  await workerB?.$disconnect();
});

/** Resolves once `n` parties have arrived; fails instead of hanging if one never does. */
function barrier(n: number) {
  let arrived = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return async (who: string) => {
    if (++arrived === n) release();
    await Promise.race([all, new Promise((_, reject) => setTimeout(() => reject(new Error(`${who}: the other scan never claimed a batch`)), 15_000))]);
  };
}

async function eventsPerItem(type: string) {
  return workerA.$queryRawUnsafe<{ itemId: string; n: number }[]>(
    `SELECT envelope->'data'->>'itemId' AS "itemId", count(*)::int AS n FROM outbox WHERE type = $1 GROUP BY 1`,
    type,
  );
}

describe("two daily scans at once", () => {
  it("on two workers, interleaved batch by batch, send each reminder exactly once", async () => {
    // Each scan stops after its first batch until the other has committed one too: both are provably mid-scan together.
    const bothStarted = barrier(2);
    const scan = (prisma: PrismaClient, who: string) => {
      let first = true;
      return dailyScan(prisma, at("2026-11-28"), {
        batchSize: 5,
        onBatch: async () => {
          if (first) await bothStarted(who);
          first = false;
        },
      });
    };
    const [a, b] = (await Promise.all([scan(workerA, "A"), scan(workerB, "B")])) as [ScanResult, ScanResult];

    // Two monthly items per child are in their reminder window on 11-28 (semester items are not).
    expect(a.reminded).toBeGreaterThan(0);
    expect(b.reminded).toBeGreaterThan(0);
    expect(a.reminded + b.reminded).toBe(CHILDREN * 2);
    const perItem = await eventsPerItem("visit.due");
    expect(perItem).toHaveLength(CHILDREN * 2);
    expect(perItem.every((row) => row.n === 1)).toBe(true);
    // Flags and events carry the injected clock's time, not the database's or the machine's.
    const flagged = await workerA.dueItem.count({ where: { remindedAt: at("2026-11-28") } });
    expect(flagged).toBe(CHILDREN * 2);
    const stamps = await workerA.$queryRawUnsafe<{ occurredAt: string }[]>(
      `SELECT DISTINCT envelope->>'occurredAt' AS "occurredAt" FROM outbox WHERE type = 'visit.due'`,
    );
    expect(stamps).toEqual([{ occurredAt: at("2026-11-28").toISOString() }]);
  });

  it("run as two BullMQ jobs on two workers at the same time (a rerun while the scheduled one is active) send each overdue event once", async () => {
    clock.now = at("2026-12-06");
    const prefix = testPrefix("visits_scan2");
    const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
    const connections = [createRedisConnection(redisUrl, { role: "worker" }), createRedisConnection(redisUrl, { role: "worker" })];
    const queue = createJobQueue(jobQueues.visitsSchedule, connections[0]!, prefix);
    const logger = createLogger("scan", "silent");
    const common = { queue, prefix, cron: "30 6 * * *", concernEscalationDays: 3, logger, now: () => clock.now };
    const workers = [
      await startScanWorker({ ...common, prisma: workerA, connection: connections[0]! }),
      await startScanWorker({ ...common, prisma: workerB, connection: connections[1]! }),
    ];
    try {
      const jobs = await queue.addBulk([
        { name: SCAN_JOB, data: {}, opts: { jobId: "scan-2026-12-06-a" } },
        { name: SCAN_JOB, data: {}, opts: { jobId: "scan-2026-12-06-b" } },
      ]);
      const results = await Promise.all(
        jobs.map((job) =>
          expect
            .poll(async () => (await queue.getJob(job.id!))?.returnvalue ?? null, { timeout: 30_000, interval: 100 })
            .toMatchObject({ overdue: expect.any(Number) })
            .then(async () => (await queue.getJob(job.id!))!.returnvalue as ScanResult),
        ),
      );
      // November's home visit and parent call were due 12-05 for every child: overdue on 12-06, once each.
      expect(results.reduce((n, r) => n + r.overdue, 0)).toBe(CHILDREN * 2);
      const perItem = await eventsPerItem("visit.overdue");
      expect(perItem).toHaveLength(CHILDREN * 2);
      expect(perItem.every((row) => row.n === 1)).toBe(true);
      // December's items were created once, whichever scan got there first.
      expect(results.reduce((n, r) => n + r.itemsCreated, 0)).toBe(CHILDREN * 2);
      expect(await workerA.dueItem.count({ where: { periodKey: "2026-12" } })).toBe(CHILDREN * 2);
    } finally {
      for (const w of workers) await w.close();
      await queue.obliterate({ force: true });
      await queue.close();
      for (const c of connections) c.disconnect();
    }
  });
});
