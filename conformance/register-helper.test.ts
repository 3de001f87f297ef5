/**
 * End to end (issue 19.3): a child registered with the register's 帮扶责任人, its child.registered delivered
 * to the real pairing handlers, which pair it with the one helper of that name (match reason `register`); the
 * pairing.started then delivered to the registry (contact card) and visits (who makes the visits). A
 * secondary helper (协助帮扶人) paired by hand afterwards is named on the card beside the primary and never
 * takes the visits.
 */
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { consumeEvent, consumeEvents, inPgTransaction, type EventHandlers, type SqlTx } from "@shouhu/messaging";
import { createPgPool } from "@shouhu/db";
import { subscriptions, type Envelope } from "@shouhu/contracts";
import { createTestDatabase, type TestDatabase } from "@shouhu/testing";
import { childBody, startRegistry, type Harness } from "../services/registry/test/harness.js";
import type { Tx as RegistryTx } from "../services/registry/src/data/db.js";
import { registryEventHandlers } from "../services/registry/src/events/pairing-events.js";
import { inChildBatch as visitsChildBatch, visitEventHandlers } from "../services/visits/src/events/handlers.js";
import { childEventHandlers, inChildBatch as pairingChildBatch } from "../services/pairing/src/events/child-events.js";
import { createPrisma as createPairingPrisma, type PrismaClient as PairingPrisma } from "../services/pairing/src/data/db.js";
import { pairByHand } from "../services/pairing/src/data/pairings.js";

const migrations = (service: string) => fileURLToPath(new URL(`../services/${service}/prisma/migrations`, import.meta.url));

interface Consumer {
  db: TestDatabase;
  pool: ReturnType<typeof createPgPool>;
  handlers: EventHandlers<SqlTx>;
  inBatch: <T>(tx: SqlTx, fn: (tx: SqlTx) => Promise<T>) => Promise<T>;
}

let registry: Harness;
let pairingPrisma: PairingPrisma;
const consumers: Record<"pairing" | "visits", Consumer> = {} as never;

async function consumer(name: "pairing" | "visits", handlers: EventHandlers<SqlTx>, inBatch: Consumer["inBatch"]) {
  const db = await createTestDatabase(`reg19_${name}`, { migrationsDir: migrations(name) });
  consumers[name] = { db, pool: createPgPool(db.url, { max: 2 }), handlers, inBatch };
}

beforeAll(async () => {
  registry = await startRegistry("reg19_registry");
  await Promise.all([
    consumer("pairing", childEventHandlers() as EventHandlers<SqlTx>, pairingChildBatch),
    consumer("visits", visitEventHandlers() as unknown as EventHandlers<SqlTx>, visitsChildBatch),
  ]);
  pairingPrisma = createPairingPrisma(consumers.pairing.db.url);
}, 120_000);

afterAll(async () => {
  await pairingPrisma?.$disconnect();
  for (const c of Object.values(consumers)) {
    await c.pool.end();
    await c.db.drop();
  }
  await registry?.close();
});

const q = async <T>(name: "pairing" | "visits", sql: string, ...values: unknown[]) => (await consumers[name].pool.query(sql, values)).rows as T[];

/** Events delivered to the consumers (and the registry) that subscriptions route them to. */
async function deliver(events: Envelope[]) {
  for (const [name, c] of Object.entries(consumers)) {
    const mine = events.filter((e) => (subscriptions[e.type] as readonly string[]).includes(name));
    await consumeEvents<SqlTx>(mine, c.handlers, (fn) => inPgTransaction(c.pool, (tx) => c.inBatch(tx, fn)));
  }
  for (const e of events.filter((e) => (subscriptions[e.type] as readonly string[]).includes("registry"))) {
    await consumeEvent<RegistryTx>(e, registryEventHandlers(), (fn) => registry.prisma.$transaction(fn));
  }
}
const registryOutbox = async (childId: string) =>
  (await registry.prisma.outboxEvent.findMany({ where: { subject: childId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] })).map(
    (r) => r.envelope as unknown as Envelope,
  );
const pairingOutbox = async (childId: string, seen: Set<string>) =>
  (await q<{ id: string; envelope: Envelope }>("pairing", "SELECT id::text, envelope FROM outbox WHERE subject = $1 ORDER BY created_at, id", childId))
    .filter((r) => !seen.has(r.id) && seen.add(r.id))
    .map((r) => r.envelope);

it("the register's 帮扶责任人 becomes the child's primary mentor everywhere; a secondary is named beside it and never takes the visits", async () => {
  const [zhang, assistant] = [randomUUID(), randomUUID()];
  for (const [id, kind, name, phone] of [
    [zhang, "volunteer", "张伟", "13907319001"],
    [assistant, "proxy_parent", "李协助", "13907319002"],
  ]) {
    await q(
      "pairing",
      `INSERT INTO helpers (id, kind, name, phone, org_unit_code, township_code, capacity, updated_at) VALUES ($1, $2, $3, $4, '360999101201', '360999101', 3, now())`,
      id,
      kind,
      name,
      phone,
    );
  }
  const created = await registry.app.inject({
    method: "POST",
    url: "/api/v1/children",
    headers: await registry.as("changling.supervisor"),
    payload: childBody({ seq: 19, name: "登记生", helperName: "张 伟" }),
  });
  expect(created.statusCode, created.body).toBe(201);
  const childId = created.json().id as string;
  const registered = await registryOutbox(childId);
  expect(registered.map((e) => [e.type, (e.data as { child: { helperName?: string } }).child.helperName])).toEqual([["child.registered", "张 伟"]]);
  await deliver(registered);

  const seen = new Set<string>();
  const started = await pairingOutbox(childId, seen);
  expect(started.map((e) => [e.type, (e.data as { role: string; helper: { id: string } }).role, (e.data as { helper: { id: string } }).helper.id])).toEqual([
    ["pairing.started", "primary", zhang],
  ]);
  expect(await q("pairing", "SELECT match_reason, role FROM pairings WHERE child_id = $1 AND status = 'active'", childId)).toEqual([
    { match_reason: "register", role: "primary" },
  ]);
  await deliver(started);

  // A secondary by hand, its pairing.started delivered the same way.
  const decider = { actor: { kind: "user" as const, id: "u-sup", name: "王丽" }, name: "王丽", orgUnit: "360999101" };
  await pairByHand(pairingPrisma, { childId, helperId: assistant, kind: "mentor", role: "secondary", note: null }, decider, "2026-12-06");
  await deliver(await pairingOutbox(childId, seen));

  const card = await registry.app.inject({ url: `/api/v1/children/${childId}/contact-card`, headers: await registry.as("changling.supervisor") });
  expect(card.json()).toMatchObject({
    helper: { name: "张伟", source: "pairing", helperKindLabel: "志愿者" },
    assistantHelper: { name: "李协助", source: "pairing", helperKindLabel: "代理家长" },
  });
  expect(await q("visits", "SELECT helper_id::text AS helper, name FROM assignments WHERE child_id = $1", childId)).toEqual([{ helper: zhang, name: "张伟" }]);
});
