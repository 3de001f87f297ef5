/**
 * End to end (issue 19.6): a transfer approved in the registry, its outbox events delivered to the
 * real handlers of pairing, visits, reporting and notifications on their migrated databases, as
 * their consumers apply a batch. Every read model must follow the child into the new township:
 * pairing ends its pairing (child_moved) and queues the new township for proposals, visits keys
 * the child's schedule by the new village and hands its open cases to the new township (resolved
 * ones stay), reporting counts it there, and both townships'
 * supervisors get a message.
 */
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { consumeEvents, inPgTransaction, type EventHandlers, type SqlTx } from "@shouhu/messaging";
import { createPgPool } from "@shouhu/db";
import type { Envelope } from "@shouhu/contracts";
import { subscriptions } from "@shouhu/contracts";
import { createTestDatabase, type TestDatabase } from "@shouhu/testing";
import { childBody, startRegistry, type Harness } from "../services/registry/test/harness.js";
import { inChildBatch as visitsChildBatch, visitEventHandlers } from "../services/visits/src/events/handlers.js";
import { applyChildSnapshots } from "../services/visits/src/data/children.js";
import { childEventHandlers, inChildBatch as pairingChildBatch } from "../services/pairing/src/events/child-events.js";
import { inChildBatch as reportingChildBatch, prepareReportingBatch, reportingHandlers } from "../services/reporting/src/events/handlers.js";
import { inBatch as reportingBatch } from "../services/reporting/src/data/projection.js";
import { inChildBatch as notificationsChildBatch, notificationHandlers } from "../services/notifications/src/events/handlers.js";
import { parseQuietHours } from "../services/notifications/src/domain/quiet-hours.js";

const migrations = (service: string) => fileURLToPath(new URL(`../services/${service}/prisma/migrations`, import.meta.url));

interface Consumer {
  name: string;
  db: TestDatabase;
  pool: ReturnType<typeof createPgPool>;
  handlers: EventHandlers<SqlTx>;
  inBatch: <T>(tx: SqlTx, fn: (tx: SqlTx) => Promise<T>) => Promise<T>;
  prepare?: Parameters<typeof consumeEvents<SqlTx>>[4];
}

let registry: Harness;
const consumers: Record<string, Consumer> = {};

async function consumer(name: string, handlers: EventHandlers<SqlTx>, inBatch: Consumer["inBatch"], prepare?: Consumer["prepare"]) {
  const db = await createTestDatabase(`xfer_${name}`, { migrationsDir: migrations(name) });
  consumers[name] = { name, db, pool: createPgPool(db.url, { max: 2 }), handlers, inBatch, prepare };
}

beforeAll(async () => {
  registry = await startRegistry("xfer_registry");
  await Promise.all([
    consumer("pairing", childEventHandlers() as EventHandlers<SqlTx>, pairingChildBatch),
    consumer("visits", visitEventHandlers() as unknown as EventHandlers<SqlTx>, visitsChildBatch),
    consumer("reporting", reportingHandlers(), (tx, fn) => reportingBatch(tx, (t) => reportingChildBatch(t, fn)), prepareReportingBatch),
    consumer("notifications", notificationHandlers({ quiet: parseQuietHours("22:00-07:00") }), notificationsChildBatch),
  ]);
}, 120_000);

afterAll(async () => {
  for (const c of Object.values(consumers)) {
    await c.pool.end();
    await c.db.drop();
  }
  await registry?.close();
});

/** The registry's outbox for a child, in order, delivered to each consumer its subscriptions route it to. */
async function deliver(childId: string, after: Date) {
  const rows = await registry.prisma.outboxEvent.findMany({
    where: { subject: childId, createdAt: { gte: after } },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const events = rows.map((r) => r.envelope as unknown as Envelope);
  for (const c of Object.values(consumers)) {
    const mine = events.filter((e) => (subscriptions[e.type] as readonly string[]).includes(c.name));
    const run = <T>(fn: (tx: SqlTx) => Promise<T>) => inPgTransaction(c.pool, (tx) => c.inBatch(tx, fn));
    await consumeEvents<SqlTx>(mine, c.handlers, run, undefined, c.prepare);
  }
  return events.map((e) => e.type);
}

const q = async <T>(name: string, sql: string, ...values: unknown[]) => (await consumers[name]!.pool.query(sql, values)).rows as T[];

it("read models follow a transfer from 长岭乡 to 石门镇", async () => {
  const start = new Date(Date.now() - 1000);
  const body = childBody({ seq: 7, name: "转学生" });
  const created = await registry.app.inject({ method: "POST", url: "/api/v1/children", headers: await registry.as("changling.supervisor"), payload: body });
  expect(created.statusCode).toBe(201);
  const childId = created.json().id as string;
  expect(await deliver(childId, start)).toEqual(["child.registered"]);

  // A mentor in 长岭乡 (pairing's own tables), and both supervisors in notifications' directory.
  const helperId = randomUUID();
  const pairingId = randomUUID();
  await q(
    "pairing",
    `INSERT INTO helpers (id, kind, name, org_unit_code, township_code, capacity, updated_at) VALUES ($1, 'teacher', '王老师', '360999101', '360999101', 3, now())`,
    helperId,
  );
  await q(
    "pairing",
    `INSERT INTO pairings (id, child_id, helper_id, kind, status, start_date) VALUES ($1, $2, $3, 'mentor', 'active', '2026-09-01')`,
    pairingId,
    childId,
    helperId,
  );
  await q(
    "notifications",
    `INSERT INTO staff_users (username, name, roles, org_unit) VALUES ('changling.supervisor', '长岭督导', '{township-supervisor}', '360999101'), ('shimen.supervisor', '石门督导', '{township-supervisor}', '360999102')`,
  );
  await q("pairing", "DELETE FROM match_requests");
  // Two cases in 长岭乡 (visits' own tables): one still open and assigned to a case worker there, one resolved.
  const openConcern = randomUUID();
  const resolvedConcern = randomUUID();
  await q("visits", "INSERT INTO org_units (code, name) VALUES ('360999101', '长岭乡'), ('360999102', '石门镇')");
  await q(
    "visits",
    `INSERT INTO concerns (id, child_id, category, description, status, owner_org_unit, owner_username, raised_by, raised_by_name, raised_at, resolved_at, resolution)
     VALUES ($1, $3, 'safety', '房屋漏雨', 'acknowledged', '360999101', 'changling.worker', 'u1', '李主任', now(), NULL, NULL),
            ($2, $3, 'health', '发烧', 'resolved', '360999101', 'changling.worker', 'u1', '李主任', now(), now(), '已就医')`,
    openConcern,
    resolvedConcern,
    childId,
  );

  const at = new Date();
  const asked = await registry.app.inject({
    method: "POST",
    url: "/api/v1/transfers",
    headers: await registry.as("shimen.supervisor"),
    payload: { idNumber: body.idNumber, villageCode: "360999102201", reason: "随父母回石门镇" },
  });
  expect(asked.statusCode).toBe(201);
  const approved = await registry.app.inject({
    method: "POST",
    url: `/api/v1/transfers/${asked.json().id}/approve`,
    headers: await registry.as("changling.supervisor"),
    payload: {},
  });
  expect(approved.statusCode).toBe(200);
  expect(await deliver(childId, at)).toEqual(["child.updated", "child.transferred"]);

  // pairing: the child is in 石门镇, the 长岭乡 pairing ended as child_moved, 石门镇 is queued for proposals.
  expect(await q("pairing", "SELECT township_code FROM children WHERE id = $1", childId)).toEqual([{ township_code: "360999102" }]);
  expect(await q("pairing", "SELECT status, end_reason FROM pairings WHERE id = $1", pairingId)).toEqual([{ status: "ended", end_reason: "child_moved" }]);
  expect((await q<{ township_code: string }>("pairing", "SELECT township_code FROM match_requests")).map((r) => r.township_code)).toContain("360999102");

  // visits: the child's schedule is read through its village: now 石门村.
  expect(await q("visits", "SELECT village_code, township_code FROM children WHERE id = $1", childId)).toEqual([
    { village_code: "360999102201", township_code: "360999102" },
  ]);

  // visits: the open case moved to 石门镇 (its 长岭乡 case worker no longer owns it), with a note; the resolved one stayed.
  const concerns = await q("visits", "SELECT id, owner_org_unit, owner_username FROM concerns WHERE child_id = $1 ORDER BY status", childId);
  expect(concerns).toEqual([
    { id: openConcern, owner_org_unit: "360999102", owner_username: null },
    { id: resolvedConcern, owner_org_unit: "360999101", owner_username: "changling.worker" },
  ]);
  const notes = await q<{ concern_id: string; note: string }>("visits", "SELECT concern_id, note FROM concern_notes");
  expect(notes).toEqual([{ concern_id: openConcern, note: "儿童已转至石门镇，本关注事项随儿童移交石门镇处理（原属长岭乡）" }]);
  // Cases are listed through the child's village: 石门镇's supervisor sees the open case, 长岭乡's no longer does.
  const listed = (township: string) =>
    q("visits", "SELECT k.id FROM concerns k JOIN children c ON c.id = k.child_id WHERE c.village_code LIKE $1 || '%' AND k.status <> 'resolved'", township);
  expect(await listed("360999102")).toEqual([{ id: openConcern }]);
  expect(await listed("360999101")).toEqual([]);
  // Delivered again (a redelivery, or the child's next update): nothing moves twice.
  const redelivered = await registry.prisma.outboxEvent.findMany({
    where: { subject: childId, type: "child.updated" },
    orderBy: { createdAt: "desc" },
    take: 1,
  });
  await inPgTransaction(consumers.visits!.pool, (tx) =>
    visitsChildBatch(tx, async (t) => {
      const e = redelivered[0]!.envelope as unknown as Envelope<"child.updated">;
      await applyChildSnapshots(t, [
        { child: { ...e.data.child, revision: e.data.child.revision + 1 }, today: "2026-12-06", at: new Date(), occurredOn: "2026-12-06" },
      ]);
    }),
  );
  expect(await q("visits", "SELECT count(*)::int AS n FROM concern_notes")).toEqual([{ n: 1 }]);

  // reporting: the child is counted in 石门村, no longer in 长岭村.
  expect(await q("reporting", "SELECT village_code FROM children WHERE id = $1", childId)).toEqual([{ village_code: "360999102201" }]);

  // notifications: both supervisors told, in-app.
  const messages = await q<{ rule: string; recipient_username: string; body: string }>(
    "notifications",
    "SELECT rule, recipient_username, body FROM messages WHERE source_event_type = 'child.transferred' ORDER BY rule",
  );
  expect(messages.map((m) => `${m.rule} ${m.recipient_username}`)).toEqual(["transfer-in shimen.supervisor", "transfer-out changling.supervisor"]);
  expect(messages[0]!.body).toContain("已从长岭乡转入本乡镇");
}, 120_000);
