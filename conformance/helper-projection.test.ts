/**
 * One conformance test for every copy of "the child's current mentor" (issue 16.3): the
 * registry (contact card), visits (who is responsible), health (who follows up) and
 * notifications (whom to remind) each get the same shuffled, redelivered streams of
 * pairing events through their real handlers and real migrated databases, and must all
 * end where the events say: the mentor of the latest-started pairing that has not ended.
 */
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEvent, consumeEvent, inPgTransaction, type EventHandlers, type SqlTx } from "@shouhu/messaging";
import { createPgPool, migrate } from "@shouhu/db";
import type { Envelope } from "@shouhu/contracts";
import { childSnapshot, createTestDatabase, mentorPairing, pairingEndedData, pairingStartedData, type TestDatabase } from "@shouhu/testing";
import { createPrisma as registryPrisma } from "../services/registry/src/data/db.js";
import { createPrisma as visitsPrisma } from "../services/visits/src/data/db.js";
import { createPrisma as healthPrisma } from "../services/health/src/data/db.js";
import { registryEventHandlers } from "../services/registry/src/events/pairing-events.js";
import { visitEventHandlers } from "../services/visits/src/events/handlers.js";
import { healthHandlers } from "../services/health/src/events/handlers.js";
import { notificationHandlers } from "../services/notifications/src/events/handlers.js";
import { parseQuietHours } from "../services/notifications/src/domain/quiet-hours.js";

interface Consumer {
  name: string;
  db: TestDatabase;
  deliver: (e: Envelope) => Promise<unknown>;
  /** child id → the pairing id the service holds as the child's current mentor. */
  mentors: (childIds: string[]) => Promise<Map<string, string>>;
  close: () => Promise<void>;
}

const migrations = (service: string) => fileURLToPath(new URL(`../services/${service}/prisma/migrations`, import.meta.url));
const consumers: Consumer[] = [];

async function prismaConsumer(name: string, create: (url: string) => { $transaction: (fn: (tx: never) => Promise<unknown>) => Promise<unknown>; $queryRawUnsafe: <T>(sql: string, ...v: unknown[]) => Promise<T>; $disconnect: () => Promise<void> }, handlers: EventHandlers<never>, table: string, where = "") {
  const db = await createTestDatabase(`conf_${name}`);
  await migrate({ databaseUrl: db.url, migrationsDir: migrations(name) });
  const prisma = create(db.url);
  consumers.push({
    name,
    db,
    deliver: (e) => consumeEvent<never>(e, handlers, (fn) => prisma.$transaction(fn) as never),
    mentors: async (ids) =>
      new Map((await prisma.$queryRawUnsafe<{ child_id: string; pairing_id: string }[]>(`SELECT child_id::text, pairing_id::text FROM ${table} WHERE child_id = ANY($1::uuid[]) ${where}`, ids)).map((r) => [r.child_id, r.pairing_id])),
    close: async () => {
      await prisma.$disconnect();
      await db.drop();
    },
  });
}

beforeAll(async () => {
  await Promise.all([
    prismaConsumer("registry", registryPrisma as never, registryEventHandlers() as never, "current_pairings", "AND kind = 'mentor'"),
    prismaConsumer("visits", visitsPrisma as never, visitEventHandlers() as never, "assignments"),
    prismaConsumer("health", healthPrisma as never, healthHandlers() as never, "mentors"),
    (async () => {
      const db = await createTestDatabase("conf_notifications");
      await migrate({ databaseUrl: db.url, migrationsDir: migrations("notifications") });
      const pool = createPgPool(db.url, { max: 2 });
      const handlers = notificationHandlers({ quiet: parseQuietHours("22:00-07:00") });
      consumers.push({
        name: "notifications",
        db,
        deliver: (e) => consumeEvent<SqlTx>(e, handlers, (fn) => inPgTransaction(pool, fn)),
        mentors: async (ids) => new Map((await pool.query("SELECT child_id::text, pairing_id::text FROM mentors WHERE child_id = ANY($1::uuid[])", [ids])).rows.map((r) => [r.child_id, r.pairing_id])),
        close: async () => {
          await pool.end();
          await db.drop();
        },
      });
    })(),
  ]);
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.close()));
});

function shuffled<T>(list: T[], seed: number): T[] {
  let s = seed;
  const random = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const out = [...list];
  for (let n = out.length - 1; n > 0; n--) {
    const j = Math.floor(random() * (n + 1));
    [out[n], out[j]] = [out[j]!, out[n]!];
  }
  return out;
}

/**
 * Per child, a history as pairing produces it: mentor A starts, ends; B starts (and for some
 * children ends too, or C starts after B without B's end having been seen yet — a hand-over).
 * Returns the events and the mentor the history ends with.
 */
function histories(children: number) {
  const events: Envelope[] = [];
  const expected = new Map<string, string | null>();
  const helper = (n: number) => ({ id: randomUUID(), name: `帮扶人${n}`, username: `helper.${n}` });
  let clock = Date.parse("2026-11-01T01:00:00Z");
  const at = () => new Date((clock += 60_000));
  for (let i = 0; i < children; i++) {
    const child = childSnapshot();
    const ev = (type: "pairing.started" | "pairing.ended", data: ReturnType<typeof pairingStartedData> | ReturnType<typeof pairingEndedData>) =>
      buildEvent(type, { subject: child.id, orgUnit: child.villageCode, actor: { kind: "system", id: "pairing" }, data: data as never }, { producer: "pairing", now: at() });
    const [a, b, c] = [mentorPairing(child, helper(1), randomUUID()), mentorPairing(child, helper(2), randomUUID()), mentorPairing(child, helper(3), randomUUID())];
    events.push(ev("pairing.started", pairingStartedData(a, "2026-11-01")), ev("pairing.ended", pairingEndedData(a, "2026-11-05")), ev("pairing.started", pairingStartedData(b, "2026-11-05")));
    if (i % 3 === 0) {
      events.push(ev("pairing.ended", pairingEndedData(b, "2026-11-10")));
      expected.set(child.id, null);
    } else if (i % 3 === 1) {
      events.push(ev("pairing.started", pairingStartedData(c, "2026-11-10")), ev("pairing.ended", pairingEndedData(b, "2026-11-10")));
      expected.set(child.id, c.pairingId);
    } else expected.set(child.id, b.pairingId);
  }
  return { events, expected };
}

describe("every service's current mentor ends in the same state, whatever the order", () => {
  it.each([1, 2, 3, 4])("shuffled stream %i with every third event redelivered", async (seed) => {
    expect(consumers.map((c) => c.name).sort()).toEqual(["health", "notifications", "registry", "visits"]);
    const { events, expected } = histories(9);
    const stream = shuffled([...events, ...events.filter((_, n) => n % 3 === 0)], seed);
    const ids = [...expected.keys()];
    const want = new Map([...expected].filter(([, p]) => p !== null) as [string, string][]);
    await Promise.all(
      consumers.map(async (c) => {
        for (const e of stream) await c.deliver(e);
      }),
    );
    for (const c of consumers) expect(Object.fromEntries(await c.mentors(ids)), c.name).toEqual(Object.fromEntries(want));
  });

  it("the same stream delivered concurrently (start and end of one pairing at once) ends the same", async () => {
    const { events, expected } = histories(6);
    const ids = [...expected.keys()];
    const want = new Map([...expected].filter(([, p]) => p !== null) as [string, string][]);
    await Promise.all(consumers.map((c) => Promise.all(shuffled(events, 99).map((e) => c.deliver(e).catch(() => c.deliver(e))))));
    for (const c of consumers) expect(Object.fromEntries(await c.mentors(ids)), c.name).toEqual(Object.fromEntries(want));
  });
});
