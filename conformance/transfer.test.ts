/**
 * End to end (issue 19.6): a transfer approved in the registry, its outbox events delivered to the
 * real handlers of pairing, visits, reporting and notifications on their migrated databases, as
 * their consumers apply a batch. Every read model must follow the child into the new township:
 * pairing ends its pairing (child_moved) and queues the new township for proposals, visits keys
 * the child's schedule by the new village, reporting counts it there, and both townships'
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
