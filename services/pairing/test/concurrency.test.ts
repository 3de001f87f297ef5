import { afterAll, describe, expect, it } from "vitest";
import pg from "pg";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { buildPairingApp } from "../src/app.js";
import { createPrisma, type PrismaClient, type Tx } from "../src/data/db.js";
import { matchOrgUnit, runPendingMatches } from "../src/data/matching.js";
import { consumeEvent } from "@shouhu/messaging";
import { childEventHandlers } from "../src/events/child-events.js";
import { childEvent, snapshot, pairingTest, type PairingHarness } from "./harness.js";

/**
 * Races as they happen in production: several API replicas (each its own
 * Prisma client and connection pool) and several workers on one PostgreSQL.
 * Where a race must be proven to overlap, a barrier holds the row lock the
 * requests queue behind until every one of them is waiting in PostgreSQL.
 */

const CHANGLING = "360999101";
const REPLICAS = 4;

let h: PairingHarness;
const replicas: { prisma: PrismaClient; app: ServiceApp }[] = [];

pairingTest("pairing_race").beforeAll(async ({ pairing }) => {
  h = pairing;
  for (let i = 0; i < REPLICAS; i++) {
    const prisma = createPrisma(h.db.url);
    const app = await buildPairingApp({
      prisma,
      verifier: createTokenVerifier({ issuerUrl: h.issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] }),
      logger: createLogger("pairing-replica", "silent"),
      now: () => h.clock.now,
    });
    await app.ready();
    replicas.push({ prisma, app });
  }
});
afterAll(async () => {
  for (const r of replicas) {
    await r.app.close();
    await r.prisma.$disconnect();
  }
});

async function call(replica: number, method: "GET" | "POST" | "PATCH", url: string, user: string, payload?: unknown) {
  const res = await replicas[replica % REPLICAS]!.app.inject({
    method,
    url,
    headers: await h.as(user),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return { status: res.statusCode, body: res.json() as any };
}

async function addHelper(body: Record<string, unknown>) {
  const res = await call(0, "POST", "/api/v1/helpers", "changling.supervisor", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
}

async function register(count: number, village: string) {
  const children = Array.from({ length: count }, () => snapshot({ villageCode: village, schoolId: null }));
  for (const c of children) await h.deliver(childEvent("child.registered", c));
  return children;
}

/** Backends of this test's database waiting for a lock while running `fragment`. */
async function waitingOn(client: pg.Client, fragment: string): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%' || $1 || '%'`,
    [fragment],
  );
  return rows[0]!.n;
}

/** Holds `FOR UPDATE` on a helper row in its own transaction until release(). */
async function holdHelper(helperId: string) {
  const client = new pg.Client({ connectionString: h.db.url });
  await client.connect();
  await client.query("BEGIN");
  await client.query("SELECT 1 FROM helpers WHERE id = $1::uuid FOR UPDATE", [helperId]);
  const observer = new pg.Client({ connectionString: h.db.url });
  await observer.connect();
  return {
    waiting: (fragment: string) => waitingOn(observer, fragment),
    async release() {
      await client.query("COMMIT");
      await client.end();
      await observer.end();
    },
  };
}

describe("capacity under concurrent approvals", () => {
  it("approves at most `capacity` of eight proposals approved at the same moment on four replicas", async () => {
    const village = "360999101211";
    // Eight places when matched, then cut to two (the supervisor learned she can take only two):
    // eight open proposals now compete for two places.
    const helper = await addHelper({ kind: "proxy_parent", name: "并发妈妈", phone: "13907312001", orgUnitCode: village, capacity: 8 });
    const children = await register(8, village);
    await h.match();
    const proposals = await h.prisma.pairing.findMany({ where: { helperId: helper.id, status: "proposed" } });
    expect(proposals).toHaveLength(8);
    expect((await call(0, "PATCH", `/api/v1/helpers/${helper.id}`, "changling.supervisor", { capacity: 2 })).status).toBe(200);

    // Every approval gets past its first read and queues on the helper's row lock;
    // only when all eight are waiting inside PostgreSQL is the lock released.
    const barrier = await holdHelper(helper.id);
    const pending = proposals.map((p, i) => call(i, "POST", `/api/v1/pairings/${p.id}/approve`, "changling.supervisor"));
    try {
      await expect.poll(() => barrier.waiting("FROM helpers WHERE id = $1::uuid FOR NO KEY UPDATE"), { timeout: 10_000, interval: 20 }).toBe(8);
    } finally {
      await barrier.release();
    }
    const results = await Promise.all(pending);

    expect(results.filter((r) => r.status === 200)).toHaveLength(2);
    const refused = results.filter((r) => r.status !== 200);
    expect(refused.map((r) => [r.status, r.body.error.code])).toEqual(Array(6).fill([409, "HELPER_FULL"]));
    expect(await h.prisma.pairing.count({ where: { helperId: helper.id, status: "active" } })).toBe(2);
    expect(new Set(children.map((c) => c.id))).toEqual(new Set(proposals.map((p) => p.childId)));
    // pairing.started only for the two that were approved (refusals roll back whole).
    expect((await h.outbox("pairing.started")).filter((e) => (e.data as { helper: { id: string } }).helper.id === helper.id)).toHaveLength(2);
  });

  it("keeps capacity when two supervisors send overlapping bulk approvals at once", async () => {
    const village = "360999101212";
    const a = await addHelper({ kind: "volunteer", name: "批量并发甲", phone: "13907312002", orgUnitCode: village, capacity: 6 });
    const b = await addHelper({ kind: "volunteer", name: "批量并发乙", phone: "13907312003", orgUnitCode: village, capacity: 6 });
    await register(12, village);
    await h.match();
    const ids = (await h.prisma.pairing.findMany({ where: { helperId: { in: [a.id, b.id] }, status: "proposed" }, orderBy: { id: "asc" } })).map((p) => p.id);
    expect(ids).toHaveLength(12);
    for (const id of [a.id, b.id]) expect((await call(0, "PATCH", `/api/v1/helpers/${id}`, "changling.supervisor", { capacity: 2 })).status).toBe(200);

    // The county admin and the township supervisor approve the same list, in opposite orders, on different replicas.
    const [one, two] = await Promise.all([
      call(1, "POST", "/api/v1/pairings/decisions", "changling.supervisor", { ids, action: "approve" }),
      call(2, "POST", "/api/v1/pairings/decisions", "county.admin", { ids: [...ids].reverse(), action: "approve" }),
    ]);
    expect(one.status).toBe(200);
    expect(two.status).toBe(200);
    expect(one.body.succeeded + two.body.succeeded).toBe(4);
    for (const id of [a.id, b.id]) expect(await h.prisma.pairing.count({ where: { helperId: id, status: "active" } })).toBe(2);
    const started = (await h.outbox("pairing.started")).filter((e) => [a.id, b.id].includes((e.data as { helper: { id: string } }).helper.id));
    expect(started).toHaveLength(4);
    // Each approved proposal is "already decided" for the other supervisor; the rest are full.
    const codes = [...one.body.results, ...two.body.results].filter((r: { ok: boolean }) => !r.ok).map((r: { error: { code: string } }) => r.error.code);
    expect(codes.filter((c: string) => c === "NOT_PROPOSED")).toHaveLength(4);
    expect(codes.filter((c: string) => c === "HELPER_FULL")).toHaveLength(16);
  });
});

describe("one open mentor per child under concurrency", () => {
  it("delivers the same child.registered on four workers at once: one effect, one proposal", async () => {
    const village = "360999101213";
    await addHelper({ kind: "volunteer", name: "重复投递", phone: "13907312004", orgUnitCode: village, capacity: 3 });
    const child = snapshot({ villageCode: village, schoolId: null });
    const event = childEvent("child.registered", child);
    const handlers = childEventHandlers(() => h.clock.now);
    const outcomes = await Promise.all(replicas.map((r) => consumeEvent<Tx>(event, handlers, (fn) => r.prisma.$transaction(fn))));
    expect(outcomes.sort()).toEqual(["applied", "duplicate", "duplicate", "duplicate"]);
    // Four workers' matchers and an on-demand run, all at once.
    await Promise.all([...replicas.map((r) => runPendingMatches(r.prisma, { quietMs: 0 })), matchOrgUnit(h.prisma, CHANGLING, { trigger: "on-demand" })]);
    const open = await h.prisma.pairing.findMany({ where: { childId: child.id, status: { in: ["proposed", "active"] } } });
    expect(open).toHaveLength(1);
  });

  it("never gives a child two mentors when approvals race a re-plan of the township", async () => {
    const village = "360999101214";
    await addHelper({ kind: "volunteer", name: "重排甲", phone: "13907312005", orgUnitCode: village, capacity: 3 });
    await addHelper({ kind: "volunteer", name: "重排乙", phone: "13907312006", orgUnitCode: village, capacity: 3 });
    const children = await register(5, village);
    await h.match();
    const proposals = await h.prisma.pairing.findMany({ where: { childId: { in: children.map((c) => c.id) }, status: "proposed" } });
    expect(proposals).toHaveLength(5);

    // Approving every proposal while replans withdraw and re-propose them on other replicas.
    const results = await Promise.all([
      ...proposals.map((p, i) => call(i, "POST", `/api/v1/pairings/${p.id}/approve`, "changling.supervisor")),
      call(1, "POST", "/api/v1/pairing-runs", "changling.supervisor", { orgUnit: CHANGLING, replan: true }),
      call(3, "POST", "/api/v1/pairing-runs", "county.admin", { orgUnit: CHANGLING, replan: true }),
    ]);
    // Approvals that lost the race to a re-plan are refused cleanly; the runs themselves succeed.
    for (const r of results.slice(0, 5)) expect([200, 409], JSON.stringify(r.body)).toContain(r.status);
    for (const r of results.slice(5)) expect(r.status, JSON.stringify(r.body)).toBe(201);
    for (const c of children) {
      const open = await h.prisma.pairing.findMany({ where: { childId: c.id, kind: "mentor", status: { in: ["proposed", "active"] } } });
      expect(open, c.id).toHaveLength(1);
    }
    const active = await h.prisma.pairing.groupBy({ by: ["helperId"], where: { status: "active", childId: { in: children.map((c) => c.id) } }, _count: true });
    for (const g of active) expect(g._count).toBeLessThanOrEqual(3);
  });

  it("refuses a second active mentor in the database itself, even from two transactions at once", async () => {
    const village = "360999101215";
    const x = await addHelper({ kind: "volunteer", name: "约束甲", phone: "13907312007", orgUnitCode: village, capacity: 3 });
    const y = await addHelper({ kind: "volunteer", name: "约束乙", phone: "13907312008", orgUnitCode: village, capacity: 3 });
    const [child] = await register(1, village);
    const first = new pg.Client({ connectionString: h.db.url });
    const second = new pg.Client({ connectionString: h.db.url });
    const observer = new pg.Client({ connectionString: h.db.url });
    await Promise.all([first.connect(), second.connect(), observer.connect()]);
    try {
      const insert = `INSERT INTO pairings (id, child_id, helper_id, kind, status, start_date) VALUES (gen_random_uuid(), $1::uuid, $2::uuid, 'mentor', 'active', CURRENT_DATE)`;
      await first.query("BEGIN");
      await second.query("BEGIN");
      await first.query(insert, [child!.id, x.id]);
      // The second insert waits on the first's uncommitted index entry ...
      const racing = second.query(insert, [child!.id, y.id]).then(
        () => "inserted",
        (err: { code?: string }) => err.code,
      );
      await expect.poll(() => waitingOn(observer, "INSERT INTO pairings"), { timeout: 10_000, interval: 20 }).toBe(1);
      await first.query("COMMIT");
      // ... and fails with a unique violation once the first commits.
      expect(await racing).toBe("23505");
      await second.query("ROLLBACK");
    } finally {
      await Promise.all([first.end(), second.end(), observer.end()]);
    }
    expect(await h.prisma.pairing.count({ where: { childId: child!.id, status: "active" } })).toBe(1);
  });
});
