/**
 * One conformance test for every copy of the child and of its current mentor (issue 16.3): the
 * registry (contact card), visits (who is responsible), health (who follows up) and
 * notifications (whom to remind) — and every copy of the child (activities too) each get the same shuffled, redelivered streams of
 * pairing events through their real handlers and real migrated databases, and must all
 * end where the events say: the mentor of the latest-started pairing that has not ended.
 */
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildEvent, consumeEvent, consumeEvents, inPgTransaction, type BatchPrepare, type EventHandlers, type SqlTx } from "@shouhu/messaging";
import { createPgPool } from "@shouhu/db";
import type { Envelope } from "@shouhu/contracts";
import { childSnapshot, createTestDatabase, mentorPairing, pairingEndedData, pairingStartedData, type TestDatabase } from "@shouhu/testing";
import { createPrisma as registryPrisma } from "../services/registry/src/data/db.js";
import { createPrisma as visitsPrisma } from "../services/visits/src/data/db.js";
import { createPrisma as healthPrisma } from "../services/health/src/data/db.js";
import { registryEventHandlers } from "../services/registry/src/events/pairing-events.js";
import { inChildBatch as visitsChildBatch, visitEventHandlers } from "../services/visits/src/events/handlers.js";
import { healthHandlers, inChildBatch as healthChildBatch } from "../services/health/src/events/handlers.js";
import { createPrisma as pairingPrisma } from "../services/pairing/src/data/db.js";
import { childEventHandlers, inChildBatch as pairingChildBatch } from "../services/pairing/src/events/child-events.js";
import { inChildBatch as reportingChildBatch, prepareReportingBatch, reportingHandlers } from "../services/reporting/src/events/handlers.js";
import { inBatch as reportingBatch } from "../services/reporting/src/data/projection.js";
import { inChildBatch as notificationsChildBatch, notificationHandlers } from "../services/notifications/src/events/handlers.js";
import { parseQuietHours } from "../services/notifications/src/domain/quiet-hours.js";
import { createPrisma as activitiesPrisma } from "../services/activities/src/data/db.js";
import { activityHandlers, inChildBatch as activitiesChildBatch } from "../services/activities/src/events/handlers.js";

interface Consumer {
  name: string;
  db: TestDatabase;
  deliver: (e: Envelope) => Promise<unknown>;
  /** Several events in one transaction, as the service's consumer applies a batch (its `runInTransaction` and `prepare`). */
  deliverBatch: (events: Envelope[]) => Promise<unknown>;
  /** The event types it handles. */
  handles: Set<string>;
  /** Rows of the database, for comparing side effects. */
  query: <T>(sql: string, ...values: unknown[]) => Promise<T[]>;
  /** child id → the pairing id the service holds as the child's current mentor (services that keep one). */
  mentors?: (childIds: string[]) => Promise<Map<string, string>>;
  /** child id → the revision and village the service holds (services that keep the child). */
  children?: (childIds: string[]) => Promise<Map<string, string>>;
  close: () => Promise<void>;
}

const migrations = (service: string) => fileURLToPath(new URL(`../services/${service}/prisma/migrations`, import.meta.url));
const consumers: Consumer[] = [];

const CHILDREN_SQL = "SELECT id::text, revision || '@' || village_code AS state FROM children WHERE id = ANY($1::uuid[])";

async function prismaConsumer(
  name: string,
  create: (url: string) => {
    $transaction: (fn: (tx: never) => Promise<unknown>) => Promise<unknown>;
    $queryRawUnsafe: <T>(sql: string, ...v: unknown[]) => Promise<T>;
    $disconnect: () => Promise<void>;
  },
  handlers: EventHandlers<never>,
  keeps: { mentors?: { table: string; where?: string }; children?: boolean },
  /** The service's consumer batch on a plain pg transaction (its main.ts); without, batches run in a Prisma transaction as registry's do. */
  inBatch?: <T>(tx: SqlTx, fn: (tx: SqlTx) => Promise<T>) => Promise<T>,
) {
  const db = await createTestDatabase(`conf_${name}`, { migrationsDir: migrations(name) });
  const prisma = create(db.url);
  const pool = inBatch ? createPgPool(db.url, { max: 2 }) : undefined;
  const m = keeps.mentors;
  consumers.push({
    name,
    db,
    handles: new Set(Object.keys(handlers)),
    deliver: (e) => consumeEvent<never>(e, handlers, (fn) => prisma.$transaction(fn) as never),
    deliverBatch: (events) =>
      pool && inBatch
        ? consumeEvents<SqlTx>(events, handlers as EventHandlers<SqlTx>, (fn) => inPgTransaction(pool, (tx) => inBatch(tx, fn)))
        : consumeEvents<never>(events, handlers, (fn) => prisma.$transaction(fn) as never),
    query: (sql, ...values) => prisma.$queryRawUnsafe(sql, ...values),
    mentors: m
      ? async (ids) =>
          new Map(
            (
              await prisma.$queryRawUnsafe<{ child_id: string; pairing_id: string }[]>(
                `SELECT child_id::text, pairing_id::text FROM ${m.table} WHERE child_id = ANY($1::uuid[]) ${m.where ?? ""}`,
                ids,
              )
            ).map((r) => [r.child_id, r.pairing_id]),
          )
      : undefined,
    children: keeps.children
      ? async (ids) => new Map((await prisma.$queryRawUnsafe<{ id: string; state: string }[]>(CHILDREN_SQL, ids)).map((r) => [r.id, r.state]))
      : undefined,
    close: async () => {
      await pool?.end();
      await prisma.$disconnect();
      await db.drop();
    },
  });
}

/** A consumer on a plain pg pool (reporting, notifications), with its batch wrapper and prepare step. */
async function pgConsumer(
  name: string,
  handlers: EventHandlers<SqlTx>,
  keeps: { mentors?: boolean },
  batch: { inBatch?: <T>(tx: SqlTx, fn: (tx: SqlTx) => Promise<T>) => Promise<T>; prepare?: BatchPrepare<SqlTx> } = {},
) {
  const db = await createTestDatabase(`conf_${name}`, { migrationsDir: migrations(name) });
  const pool = createPgPool(db.url, { max: 2 });
  const run = <T>(fn: (tx: SqlTx) => Promise<T>) => inPgTransaction(pool, (tx) => (batch.inBatch ? batch.inBatch(tx, fn) : fn(tx)));
  consumers.push({
    name,
    db,
    handles: new Set(Object.keys(handlers)),
    deliver: (e) => consumeEvent<SqlTx>(e, handlers, (fn) => inPgTransaction(pool, fn)),
    deliverBatch: (events) => consumeEvents<SqlTx>(events, handlers, run, undefined, batch.prepare),
    query: async (sql, ...values) => (await pool.query(sql, values)).rows,
    mentors: keeps.mentors
      ? async (ids) =>
          new Map(
            (await pool.query("SELECT child_id::text, pairing_id::text FROM mentors WHERE child_id = ANY($1::uuid[])", [ids])).rows.map((r) => [
              r.child_id,
              r.pairing_id,
            ]),
          )
      : undefined,
    children: async (ids) => new Map((await pool.query(CHILDREN_SQL, [ids])).rows.map((r) => [r.id, r.state])),
    close: async () => {
      await pool.end();
      await db.drop();
    },
  });
}

beforeAll(async () => {
  await Promise.all([
    prismaConsumer("registry", registryPrisma as never, registryEventHandlers() as never, {
      mentors: { table: "current_pairings", where: "AND kind = 'mentor'" },
    }),
    prismaConsumer("visits", visitsPrisma as never, visitEventHandlers() as never, { mentors: { table: "assignments" }, children: true }, visitsChildBatch),
    prismaConsumer("health", healthPrisma as never, healthHandlers() as never, { mentors: { table: "mentors" }, children: true }, healthChildBatch),
    prismaConsumer("pairing", pairingPrisma as never, childEventHandlers() as never, { children: true }, pairingChildBatch),
    prismaConsumer("activities", activitiesPrisma as never, activityHandlers() as never, { children: true }, activitiesChildBatch),
    pgConsumer(
      "reporting",
      reportingHandlers(),
      {},
      { inBatch: (tx, fn) => reportingBatch(tx, (t) => reportingChildBatch(t, fn)), prepare: prepareReportingBatch },
    ),
    pgConsumer("notifications", notificationHandlers({ quiet: parseQuietHours("22:00-07:00") }), { mentors: true }, { inBatch: notificationsChildBatch }),
  ]);
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.close()));
});

function shuffled<T>(list: T[], seed: number): T[] {
  let s = seed;
  const random = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
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
      buildEvent(
        type,
        { subject: child.id, orgUnit: child.villageCode, actor: { kind: "system", id: "pairing" }, data: data as never },
        { producer: "pairing", now: at() },
      );
    const [a, b, c] = [
      mentorPairing(child, helper(1), randomUUID()),
      mentorPairing(child, helper(2), randomUUID()),
      mentorPairing(child, helper(3), randomUUID()),
    ];
    events.push(
      ev("pairing.started", pairingStartedData(a, "2026-11-01")),
      ev("pairing.ended", pairingEndedData(a, "2026-11-05")),
      ev("pairing.started", pairingStartedData(b, "2026-11-05")),
    );
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
    const keepers = consumers.filter((c) => c.mentors);
    expect(keepers.map((c) => c.name).sort()).toEqual(["health", "notifications", "registry", "visits"]);
    const { events, expected } = histories(9);
    const stream = shuffled([...events, ...events.filter((_, n) => n % 3 === 0)], seed);
    const ids = [...expected.keys()];
    const want = new Map([...expected].filter(([, p]) => p !== null) as [string, string][]);
    await Promise.all(
      keepers.map(async (c) => {
        for (const e of stream) await c.deliver(e);
      }),
    );
    for (const c of keepers) expect(Object.fromEntries(await c.mentors!(ids)), c.name).toEqual(Object.fromEntries(want));
  });

  it("the same stream delivered concurrently (start and end of one pairing at once) ends the same", async () => {
    const { events, expected } = histories(6);
    const ids = [...expected.keys()];
    const want = new Map([...expected].filter(([, p]) => p !== null) as [string, string][]);
    const keepers = consumers.filter((c) => c.mentors);
    await Promise.all(keepers.map((c) => Promise.all(shuffled(events, 99).map((e) => c.deliver(e).catch(() => c.deliver(e))))));
    for (const c of keepers) expect(Object.fromEntries(await c.mentors!(ids)), c.name).toEqual(Object.fromEntries(want));
  });
});

/**
 * Per child, registered, updated twice (moving village, then township), then updated again
 * (every other child) or exited. Returns the events and each child's last revision and village.
 */
function childHistories(children: number) {
  const events: Envelope[] = [];
  const want = new Map<string, string>();
  for (let i = 0; i < children; i++) {
    const id = randomUUID();
    const rev = (revision: number, villageCode: string, status: "active" | "exited" = "active") =>
      childSnapshot({ id, revision, villageCode, townshipCode: villageCode.slice(0, 9), status });
    const ev = (type: "child.registered" | "child.updated" | "child.status-changed", child: ReturnType<typeof childSnapshot>) =>
      buildEvent(
        type,
        {
          subject: id,
          orgUnit: child.villageCode,
          actor: { kind: "system", id: "registry" },
          data: (type === "child.registered"
            ? { child }
            : type === "child.updated"
              ? { child, changes: [] }
              : { child, from: "active", to: child.status, reason: "moved_away", note: null }) as never,
        },
        { producer: "registry" },
      );
    events.push(ev("child.registered", rev(1, "360999101201")), ev("child.updated", rev(2, "360999101202")), ev("child.updated", rev(3, "360999102201")));
    const last = i % 2 ? rev(4, "360999102201", "exited") : rev(4, "360999102202");
    events.push(ev(i % 2 ? "child.status-changed" : "child.updated", last));
    want.set(id, `4@${last.villageCode}`);
  }
  return { events, want };
}

describe("every service's copy of the child ends at the registry's latest revision, whatever the order", () => {
  it.each([5, 6, 7])("registered, updated twice (moving village), status changed: shuffled stream %i, redelivered", async (seed) => {
    const keepers = consumers.filter((c) => c.children);
    expect(keepers.map((c) => c.name).sort()).toEqual(["activities", "health", "notifications", "pairing", "reporting", "visits"]);
    const { events, want } = childHistories(8);
    const stream = shuffled([...events, ...events.filter((_, n) => n % 2 === 0)], seed);
    await Promise.all(
      keepers.map(async (c) => {
        for (const e of stream) await c.deliver(e);
      }),
    );
    for (const c of keepers) expect(Object.fromEntries(await c.children!([...want.keys()])), c.name).toEqual(Object.fromEntries(want));
  });
});

/** Consecutive slices of `size`: the batches a consumer would take. */
const batchesOf = <T>(list: T[], size: number) => Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));

describe("the same streams applied in consumer batches (many events per transaction, as the services run them)", () => {
  it.each([11, 12])("child and mentor histories mixed, shuffled %i, redelivered, in batches of 16: every copy ends where the events say", async (seed) => {
    const kids = childHistories(8);
    const mentors = histories(9);
    const all = [...kids.events, ...mentors.events];
    const stream = shuffled([...all, ...all.filter((_, n) => n % 3 === 0)], seed);
    await Promise.all(
      consumers.map(async (c) => {
        for (const batch of batchesOf(
          stream.filter((e) => c.handles.has(e.type)),
          16,
        ))
          await c.deliverBatch(batch);
      }),
    );
    const wantMentors = new Map([...mentors.expected].filter(([, p]) => p !== null) as [string, string][]);
    for (const c of consumers.filter((k) => k.children))
      expect(Object.fromEntries(await c.children!([...kids.want.keys()])), c.name).toEqual(Object.fromEntries(kids.want));
    for (const c of consumers.filter((k) => k.mentors))
      expect(Object.fromEntries(await c.mentors!([...mentors.expected.keys()])), c.name).toEqual(Object.fromEntries(wantMentors));
  });

  it("visits creates and closes the same items in batches as one event at a time", async () => {
    const visits = consumers.find((c) => c.name === "visits")!;
    // Two copies of one history shape (the same order by position), one delivered event by event, one in batches.
    const [one, two] = [childHistories(8), childHistories(8)];
    const order = shuffled(
      one.events.map((_, n) => n),
      21,
    );
    for (const n of order) await visits.deliver(one.events[n]!);
    for (const batch of batchesOf(
      order.map((n) => two.events[n]!),
      10,
    ))
      await visits.deliverBatch(batch);
    const items = async (ids: string[]) => {
      const rows = await visits.query<{ child: string; item: string }>(
        `SELECT child_id::text AS child, kind || ' ' || period_key || ' ' || status AS item FROM due_items WHERE child_id = ANY($1::uuid[]) ORDER BY 1, 2`,
        ids,
      );
      return ids.map((id) => rows.filter((r) => r.child === id).map((r) => r.item));
    };
    const [byEvent, byBatch] = [await items([...one.want.keys()]), await items([...two.want.keys()])];
    expect(byEvent.flat().length).toBeGreaterThan(0);
    expect(byBatch).toEqual(byEvent);
  });
});

/**
 * Issue 21.6: the registry keeps the growth file's strands (visits, activities, check-ups) for the handover pack. Shuffled,
 * redelivered, one at a time or in batches, each visit, attendance and check-up is kept once, with the check-up's figures.
 */
describe("the registry's growth-file strands (交接包) take each visit, activity and check-up once, whatever the order", () => {
  function strandEvents(children: number) {
    const events: Envelope[] = [];
    const actor = { kind: "system", id: "test" } as const;
    const kids = Array.from({ length: children }, () => childSnapshot());
    for (const child of kids) {
      const vc = { id: child.id, name: child.name, villageCode: child.villageCode, townshipCode: child.townshipCode };
      for (const date of ["2026-09-10", "2026-10-10"])
        events.push(
          buildEvent(
            "visit.recorded",
            {
              subject: child.id,
              orgUnit: child.villageCode,
              actor,
              data: {
                recordId: randomUUID(),
                kind: "home_visit",
                date,
                child: vc,
                visitor: { userId: "u1", name: "李主任" },
                satisfied: null,
                followUpNeeded: false,
                concernRaised: false,
              },
            },
            { producer: "visits" },
          ),
        );
      events.push(
        buildEvent(
          "checkup.recorded",
          {
            subject: child.id,
            orgUnit: child.villageCode,
            actor,
            data: { examId: randomUUID(), campaignId: null, date: "2026-09-01", child: vc, flags: [], measures: { heightCm: 130, weightKg: 27.5, bmi: 16.3 } },
          },
          { producer: "health" },
        ),
      );
    }
    // One session every child attended, one with half of them.
    for (const attendance of [kids.map((k) => k.id), kids.filter((_, n) => n % 2 === 0).map((k) => k.id)])
      events.push(
        buildEvent(
          "activity.recorded",
          {
            subject: randomUUID(),
            orgUnit: kids[0]!.villageCode,
            actor,
            data: {
              sessionId: randomUUID(),
              site: { id: randomUUID(), name: "儿童之家", kind: "village", orgUnit: kids[0]!.villageCode, townshipCode: kids[0]!.townshipCode },
              kind: "recreation",
              date: "2026-10-01",
              leader: "周老师",
              attendance,
            },
          },
          { producer: "activities" },
        ),
      );
    return { events, ids: kids.map((k) => k.id), attendances: children + Math.ceil(children / 2) };
  }
  const counts = async (c: Consumer, ids: string[]) =>
    (
      await c.query<{ v: number; a: number; x: number; h: number }>(
        `SELECT (SELECT count(*)::int FROM growth_visits WHERE child_id = ANY($1::uuid[])) AS v,
                (SELECT count(*)::int FROM growth_activities WHERE child_id = ANY($1::uuid[])) AS a,
                (SELECT count(*)::int FROM growth_checkups WHERE child_id = ANY($1::uuid[])) AS x,
                (SELECT count(*)::int FROM growth_checkups WHERE child_id = ANY($1::uuid[]) AND height_cm = 130 AND weight_kg = 27.5) AS h`,
        ids,
      )
    )[0];

  it.each([31, 32])("shuffled %i, redelivered, by event and in batches of 7", async (seed) => {
    const registry = consumers.find((c) => c.name === "registry")!;
    for (const t of ["visit.recorded", "activity.recorded", "checkup.recorded"]) expect(registry.handles.has(t), t).toBe(true);
    const [one, two] = [strandEvents(6), strandEvents(6)];
    for (const e of shuffled([...one.events, ...one.events.filter((_, n) => n % 2 === 0)], seed)) await registry.deliver(e);
    for (const batch of batchesOf(shuffled([...two.events, ...two.events.filter((_, n) => n % 3 === 0)], seed), 7)) await registry.deliverBatch(batch);
    for (const run of [one, two]) expect(await counts(registry, run.ids)).toEqual({ v: 12, a: run.attendances, x: 6, h: 6 });
  });
});
