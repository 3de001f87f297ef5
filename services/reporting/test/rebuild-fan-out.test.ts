import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import type pg from "pg";
import type { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { createPgPool } from "@shouhu/db";
import { eventsQueue, jobQueues, subscriptions, type Envelope } from "@shouhu/contracts";
import { OutboxRelay, createEventConsumer, createRedisConnection } from "@shouhu/messaging";
import { createTestDatabase, type TestDatabase } from "@shouhu/testing";
import { createPrisma, type PrismaClient, type Tx } from "../src/data/db.js";
import { buildReportingApp } from "../src/app.js";
import { reportingHandlers } from "../src/events/handlers.js";
import { childBody, registryTest, type Harness } from "../../registry/test/harness.js";
import { startRegistryWorkers } from "../../registry/src/jobs/workers.js";
import { SNAPSHOT_JOB as REGISTRY_SNAPSHOT_JOB, publishOrgUnits } from "../../registry/src/jobs/snapshot.js";
import { registryEventHandlers } from "../../registry/src/events/pairing-events.js";
import type { Tx as RegistryTx } from "../../registry/src/data/db.js";
import { startPairing, type PairingHarness } from "../../pairing/test/harness.js";
import { childEventHandlers } from "../../pairing/src/events/child-events.js";
import { startMatchPoller } from "../../pairing/src/jobs/match-poller.js";
import { requestSnapshot as requestPairingSnapshot, startSnapshotWorker as startPairingSnapshots } from "../../pairing/src/jobs/snapshot.js";
import type { Tx as PairingTx } from "../../pairing/src/data/db.js";
import { createPrisma as createVisitsPrisma, type PrismaClient as VisitsPrisma, type Tx as VisitsTx } from "../../visits/src/data/db.js";
import { visitEventHandlers } from "../../visits/src/events/handlers.js";
import { startScanWorker } from "../../visits/src/jobs/scan-worker.js";
import { SNAPSHOT_JOB as VISITS_SNAPSHOT_JOB } from "../../visits/src/data/snapshot.js";
import { dailyScan } from "../../visits/src/data/scan.js";
import { createPrisma as createHealthPrisma, type PrismaClient as HealthPrisma, type Tx as HealthTx } from "../../health/src/data/db.js";
import { buildHealthApp } from "../../health/src/app.js";
import { healthHandlers } from "../../health/src/events/handlers.js";
import { requestSnapshot as requestHealthSnapshot, startSnapshotWorker as startHealthSnapshots } from "../../health/src/jobs/snapshot.js";
import { createPrisma as createActivitiesPrisma, type PrismaClient as ActivitiesPrisma } from "../../activities/src/data/db.js";
import { activityHandlers, inChildBatch } from "../../activities/src/events/handlers.js";

/**
 * Issue 15.8 (part): POST /api/v1/reports/rebuild reaches every producer by itself.
 * Five services wired as deployed — outboxes, relays, BullMQ queues, consumers,
 * the producers' snapshot jobs — against real PostgreSQL and Redis. Live traffic
 * builds the read models; a rebuild empties them and, with no snapshot endpoint
 * posted by hand, brings them back to the same numbers.
 */
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const dir = (service: string) => fileURLToPath(new URL(`../../${service}/prisma/migrations`, import.meta.url));
const logger = createLogger("fan-out-test", "silent");
const clock = () => new Date("2026-11-22T02:00:00Z");

let registry: Harness;
let pairing: PairingHarness;
let visitsDb: TestDatabase;
let visits: VisitsPrisma;
let healthDb: TestDatabase;
let health: HealthPrisma;
let healthApp: ServiceApp;
let activitiesDb: TestDatabase;
let activities: ActivitiesPrisma;
let reportingDb: TestDatabase;
let reporting: PrismaClient;
let reportingApp: ServiceApp;
let workerRedis: Redis;
let prefix: string;
const pools: pg.Pool[] = [];
const queues: Queue[] = [];
const stoppers: (() => Promise<unknown>)[] = [];

registryTest("fan_registry").beforeAll(async ({ registry: testRegistry, issuer }) => {
  registry = testRegistry;
  prefix = registry.prefix;
  const connection = { url: REDIS_URL };
  const verifier = () => createTokenVerifier({ issuerUrl: registry.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] });
  pairing = await startPairing("fan_pairing", { issuer });
  visitsDb = await createTestDatabase("fan_visits", { migrationsDir: dir("visits") });
  visits = createVisitsPrisma(visitsDb.url);
  healthDb = await createTestDatabase("fan_health", { migrationsDir: dir("health") });
  health = createHealthPrisma(healthDb.url);
  healthApp = await buildHealthApp({ prisma: health, verifier: verifier(), logger, now: clock });
  activitiesDb = await createTestDatabase("fan_activities", { migrationsDir: dir("activities") });
  activities = createActivitiesPrisma(activitiesDb.url);
  reportingDb = await createTestDatabase("fan_reporting", { migrationsDir: dir("reporting") });
  reporting = createPrisma(reportingDb.url);
  const reportingExports = new Queue(jobQueues.reportingExport, { connection, prefix });
  queues.push(reportingExports);
  reportingApp = await buildReportingApp({ prisma: reporting, verifier: verifier(), logger, exports: reportingExports, now: clock });
  workerRedis = createRedisConnection(REDIS_URL, { role: "worker" });

  // Each service's worker side, as its main.ts wires it: relay, consumer (with the
  // snapshot.requested handler queuing its snapshot job), the job's worker.
  for (const [producer, url] of [
    ["registry", registry.db.url],
    ["pairing", pairing.db.url],
    ["visits", visitsDb.url],
    ["health", healthDb.url],
    ["activities", activitiesDb.url],
    ["reporting", reportingDb.url],
  ] as const) {
    const pool = createPgPool(url, { max: 2 });
    pools.push(pool);
    const relay = new OutboxRelay({ pool, connection, prefix, producer, routes: subscriptions, pollIntervalMs: 100 });
    relay.start();
    stoppers.push(() => relay.stop());
  }
  const visitsSchedule = new Queue(jobQueues.visitsSchedule, { connection, prefix });
  const pairingSnapshots = new Queue(jobQueues.pairingSnapshot, { connection, prefix });
  const healthSnapshots = new Queue(jobQueues.healthSnapshot, { connection, prefix });
  queues.push(visitsSchedule, pairingSnapshots, healthSnapshots);
  const consumers = [
    createEventConsumer<RegistryTx>({
      service: "registry",
      connection,
      prefix,
      handlers: registryEventHandlers({
        requestSnapshot: (runId, county) => registry.queues.schedule.add(REGISTRY_SNAPSHOT_JOB, { runId, county }, { jobId: `snapshot-${runId}` }),
      }),
      runInTransaction: (fn) => registry.prisma.$transaction(fn),
    }),
    createEventConsumer<PairingTx>({
      service: "pairing",
      connection,
      prefix,
      handlers: childEventHandlers(clock, { requestSnapshot: requestPairingSnapshot(pairingSnapshots) }),
      runInTransaction: (fn) => pairing.prisma.$transaction(fn),
    }),
    createEventConsumer<VisitsTx>({
      service: "visits",
      connection,
      prefix,
      handlers: visitEventHandlers(clock, {
        requestSnapshot: (runId, county) => visitsSchedule.add(VISITS_SNAPSHOT_JOB, { runId, county }, { jobId: `snapshot-${runId}` }),
      }),
      runInTransaction: (fn) => visits.$transaction(fn),
    }),
    createEventConsumer<HealthTx>({
      service: "health",
      connection,
      prefix,
      handlers: healthHandlers({ requestSnapshot: requestHealthSnapshot(healthSnapshots) }),
      runInTransaction: (fn) => health.$transaction(fn),
    }),
    createEventConsumer<Tx>({
      service: "activities",
      connection,
      prefix,
      handlers: activityHandlers(),
      runInTransaction: (fn) => activities.$transaction((tx) => inChildBatch(tx as never, fn as never)) as never,
    }),
    createEventConsumer<Tx>({ service: "reporting", connection, prefix, handlers: reportingHandlers(), runInTransaction: (fn) => reporting.$transaction(fn) }),
  ];
  for (const c of consumers) stoppers.push(() => c.close());
  const registryWorkers = await startRegistryWorkers({
    prisma: registry.prisma,
    pool: registry.pool,
    connection: workerRedis,
    prefix,
    queues: registry.queues,
    logger,
    ageOutCron: "0 3 1 1 *",
    now: clock,
  });
  const scan = await startScanWorker({
    prisma: visits,
    connection: workerRedis,
    prefix,
    queue: visitsSchedule,
    cron: "0 3 1 1 *",
    concernEscalationDays: 3,
    logger,
    now: clock,
  });
  const pairingWorker = startPairingSnapshots(pairing.prisma, { connection: workerRedis, prefix, logger });
  const healthWorker = startHealthSnapshots(health, { connection: workerRedis, prefix, logger });
  const matcher = startMatchPoller(pairing.prisma, { quietMs: 0, pollMs: 100, logger });
  // As the registry's main.ts does at every start: org-unit names for reports.
  await publishOrgUnits(registry.prisma);
  stoppers.push(
    ...registryWorkers.map((w) => () => w.close()),
    () => scan.close(),
    () => pairingWorker.close(),
    () => healthWorker.close(),
    () => matcher.close(),
  );
}, 60_000);

afterAll(async () => {
  for (const stop of stoppers) await stop().catch(() => undefined);
  for (const service of ["registry", "pairing", "visits", "health", "activities", "notifications", "reporting"]) {
    const q = new Queue(eventsQueue(service), { connection: { url: REDIS_URL }, prefix });
    queues.push(q, new Queue(`${eventsQueue(service)}.dead`, { connection: { url: REDIS_URL }, prefix }));
  }
  for (const name of [
    jobQueues.visitsSchedule,
    jobQueues.pairingSnapshot,
    jobQueues.healthSnapshot,
    jobQueues.registryImport,
    jobQueues.registryExport,
    jobQueues.registrySchedule,
  ])
    queues.push(new Queue(`${name}.dead`, { connection: { url: REDIS_URL }, prefix }));
  for (const q of queues) {
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
  }
  workerRedis?.disconnect();
  for (const p of pools) await p.end();
  await healthApp?.close();
  await reportingApp?.close();
  await visits?.$disconnect();
  await health?.$disconnect();
  await activities?.$disconnect();
  await activitiesDb?.drop();
  await reporting?.$disconnect();
  await visitsDb?.drop();
  await healthDb?.drop();
  await reportingDb?.drop();
  await pairing?.close();
  // Whatever else the workers left under this file's prefix (dead-letter queues' meta keys).
  const cleaner = createRedisConnection(REDIS_URL, { role: "worker" });
  const left = await cleaner.keys(`${prefix}:*`);
  if (left.length) await cleaner.del(...left);
  cleaner.disconnect();
}, 60_000);

async function api(app: ServiceApp, method: "GET" | "POST", url: string, user: string, payload?: object) {
  const res = await app.inject({ method, url, headers: await registry.as(user), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as any };
}

/** Every outbox published and every event queue empty: nothing left in flight. */
async function settled() {
  const dbs = [registry.prisma, pairing.prisma, visits, health, activities, reporting] as unknown as { $queryRawUnsafe<T>(sql: string): Promise<T> }[];
  const events = ["registry", "pairing", "visits", "health", "activities", "notifications", "reporting"].map(
    (s) => new Queue(eventsQueue(s), { connection: { url: REDIS_URL }, prefix }),
  );
  try {
    await expect
      .poll(
        async () => {
          let pending = 0;
          for (const db of dbs)
            pending += (await db.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`))[0]!.n;
          // Notifications has no consumer here: its queue only fills.
          for (const q of events.filter((_, i) => i !== 5))
            pending += Object.values(await q.getJobCounts("waiting", "active", "delayed", "prioritized")).reduce((a, b) => a + b, 0);
          return pending;
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBe(0);
  } finally {
    await Promise.all(events.map((q) => q.close()));
  }
}

/** What a county admin reads: the overview and the township drill-downs. */
async function figures() {
  const [overview, drilldown, supervision] = await Promise.all(
    ["overview?month=2026-11", "drilldown?orgUnit=360999101&month=2026-11", "supervision?orgUnit=360999101"].map(
      async (path) => (await api(reportingApp, "GET", `/api/v1/reports/${path}`, "county.admin")).body,
    ),
  );
  // Supervision lists children by name; two 李小花 may come in either order.
  for (const list of ["unpaired", "overdue", "unexamined", "openConcerns"])
    supervision[list] = [...supervision[list]].sort((a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id));
  return [overview, drilldown, supervision];
}

describe("a rebuild fans out to every producer by itself", () => {
  it("rebuild → every producer publishes its county → the read models equal the live numbers, with no snapshot posted by hand", async () => {
    // Live traffic: a helper, three children, one pairing approved, one exam.
    const helper = await api(pairing.app, "POST", "/api/v1/helpers", "changling.supervisor", {
      kind: "proxy_parent",
      name: "黄爱心",
      phone: "13907318888",
      orgUnitCode: "360999101201",
    });
    expect(helper.status, JSON.stringify(helper.body)).toBe(201);
    const ids: string[] = [];
    for (const seq of [61, 62, 63]) {
      const res = await api(registry.app, "POST", "/api/v1/children", "changling.supervisor", childBody({ seq, riskLevel: seq === 61 ? "high" : "medium" }));
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      ids.push(res.body.id);
    }
    let proposal: { id: string } | undefined;
    await expect
      .poll(async () => (proposal = (await api(pairing.app, "GET", "/api/v1/pairings?status=proposed", "changling.supervisor")).body.items[0]) !== undefined, {
        timeout: 20_000,
        interval: 100,
      })
      .toBe(true);
    expect((await api(pairing.app, "POST", `/api/v1/pairings/${proposal!.id}/approve`, "changling.supervisor")).status).toBe(200);
    await expect.poll(async () => health.child.count(), { timeout: 15_000, interval: 100 }).toBe(3);
    const exam = await api(healthApp, "POST", "/api/v1/exams", "changling.doctor", {
      childId: ids[0],
      date: "2026-11-20",
      examiner: "李医生",
      heightCm: 140,
      weightKg: 27.2,
      visionLeft: 4.7,
      visionRight: 5.0,
    });
    expect(exam.status, JSON.stringify(exam.body)).toBe(201);

    // A session at 长岭村's home whose activity.recorded never reached reporting (written here by hand): the rebuild
    // brings it in from activities' own tables.
    await expect.poll(async () => activities.child.count(), { timeout: 15_000, interval: 100 }).toBe(3);
    const siteId = "0190f000-0000-7000-8000-0000000000a1";
    const sessionId = "0190f000-0000-7000-8000-0000000000a2";
    await activities.$executeRawUnsafe(
      `INSERT INTO sites (id, name, kind, org_unit, adults, status, created_by) VALUES ($1::uuid, '长岭村留守儿童之家', 'village', '360999101201', '[]', 'active', 'test')`,
      siteId,
    );
    await activities.$executeRawUnsafe(
      `INSERT INTO activity_sessions (id, site_id, date, kind, leader, summary, recorded_by, recorded_name) VALUES ($1::uuid, $2::uuid, '2026-11-21', 'safety', '张主任', '防溺水', 'test', '张主任')`,
      sessionId,
      siteId,
    );
    await activities.$executeRawUnsafe(
      `INSERT INTO activity_attendance (session_id, child_id) SELECT $1::uuid, unnest($2::uuid[])`,
      sessionId,
      ids.slice(0, 2),
    );

    // The daily scan announces what is due (visit.due), as it does every morning.
    await dailyScan(visits, new Date("2026-11-30T02:00:00Z"), { concernEscalationDays: 3 });

    // Reporting has heard it all: three children, a pairing, visit items, the check-up.
    await expect
      .poll(
        async () => {
          const [overview] = await figures();
          const counts = await reporting.$queryRawUnsafe<{ c: number; p: number; i: number; k: number }[]>(
            `SELECT (SELECT count(*) FROM children)::int AS c, (SELECT count(*) FROM pairings)::int AS p, (SELECT count(*) FROM visit_items)::int AS i, (SELECT count(*) FROM checkups)::int AS k`,
          );
          return overview.total?.children === 3 && counts[0]!.p === 1 && counts[0]!.k === 1;
        },
        { timeout: 20_000, interval: 200 },
      )
      .toBe(true);
    await settled();
    const live = await figures();

    const started = await api(reportingApp, "POST", "/api/v1/reports/rebuild", "county.admin");
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ county: "360999", status: "running" });
    const rebuildId = started.body.id as string;
    // The request itself went out through reporting's outbox, for this county.
    const [request] = await reporting.outboxEvent.findMany({ where: { type: "snapshot.requested" } });
    expect((request!.envelope as unknown as Envelope).data).toEqual({
      runId: rebuildId,
      county: "360999",
      producers: ["registry", "pairing", "visits", "health", "activities"],
    });

    // Each producer's part shows as it completes; all four without anyone posting a snapshot.
    let status: any;
    await expect
      .poll(async () => (status = (await api(reportingApp, "GET", "/api/v1/reports/rebuild", "county.admin")).body).status, { timeout: 30_000, interval: 200 })
      .toBe("finished");
    expect(status).toMatchObject({ id: rebuildId, county: "360999" });
    expect(status.producers).toEqual(["registry", "pairing", "visits", "health", "activities"].map((producer) => ({ producer, done: true, label: "已完成" })));
    for (const outbox of [registry.prisma.outboxEvent, pairing.prisma.outboxEvent]) {
      const done = (await (outbox as any).findMany({ where: { type: "snapshot.completed" } })) as { envelope: Envelope }[];
      expect(done.map((d) => d.envelope.data)).toContainEqual(expect.objectContaining({ runId: rebuildId }));
    }

    // Snapshot events still in flight after the last completion marker are applied too.
    await settled();
    expect(await figures()).toEqual(live);
    // …and the session the live path lost, from activities' snapshot.
    expect(await reporting.$queryRawUnsafe(`SELECT id::text, org_unit AS "orgUnit", kind, attendance FROM activities`)).toEqual([
      { id: sessionId, orgUnit: "360999101201", kind: "safety", attendance: 2 },
    ]);
    // The numbers came back from the producers' snapshots (the rebuild emptied them first).
    const applied = await reporting.$queryRawUnsafe<{ type: string; n: number }[]>(
      `SELECT type, count(*)::int AS n FROM inbox WHERE type LIKE 'snapshot.%' GROUP BY type ORDER BY type`,
    );
    expect(Object.fromEntries(applied.map((a) => [a.type, a.n]))).toMatchObject({
      "snapshot.child": 3,
      "snapshot.pairing": 1,
      "snapshot.completed": 5,
      "snapshot.activity": 1,
      "snapshot.visit-item": expect.any(Number),
    });
  });

  it("a rebuild's status is the requester's county's: another county sees none of it", async () => {
    const other = await api(reportingApp, "GET", "/api/v1/reports/rebuild", "county.admin");
    expect(other.body.county).toBe("360999");
    const res = await reportingApp.inject({
      url: "/api/v1/reports/rebuild",
      headers: {
        authorization: `Bearer ${await registry.issuer.issueToken("county.admin", "shouhu-web", { issuer: registry.issuerUrl, overrides: { org_unit: "360888" } })}`,
      },
    });
    expect(res.json()).toEqual({ status: "never" });
  });
});
