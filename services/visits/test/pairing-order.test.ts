// Pairing events in any order, twice, or at the same moment on parallel workers must
// leave each child with the right mentor — and so hand the child's open items to the
// right person (the mentor, else the village child director). Its own database and
// queue prefix; events go through Redis to real BullMQ consumers (two, as two worker
// processes, each at concurrency 8) unless a test needs the exact interleaving.
import { randomUUID } from "node:crypto";
import { Queue, type Worker } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import type { ServiceApp } from "@shouhu/kit";
import { eventsQueue, type ChildSnapshot, type Envelope } from "@shouhu/contracts";
import { buildEvent, consumeEvent, createEventConsumer } from "@shouhu/messaging";
import {
  childSnapshot,
  mentorPairing,
  pairingEndedData,
  pairingStartedData,
  teacherHelper,
  until,
  type TestDatabase,
  type TestHelper,
  type TestIssuer,
} from "@shouhu/testing";
import { createPrisma, type PrismaClient, type Tx } from "../src/data/db.js";
import { visitEventHandlers } from "../src/events/handlers.js";
import { visitsTest } from "./fixtures.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const connection = { url: REDIS_URL };
const VILLAGE = "360999101201";
const actor = { kind: "user" as const, id: "u-supervisor", name: "督导员" };
const clock = { now: new Date("2026-11-22T02:00:00Z") };
const handlers = visitEventHandlers(() => clock.now);

let db: TestDatabase;
/** Two clients with their own pools, as two worker processes have. */
let prismaA: PrismaClient;
let prismaB: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;
let prefix: string;
let events: Queue;
let consumers: Worker[] = [];

visitsTest("visits_pairing_order", { now: () => clock.now }).beforeAll(async ({ visits }) => {
  ({ db, prisma: prismaA, issuer, app, prefix } = visits);
  prismaB = createPrisma(db.url);
  events = new Queue(eventsQueue("visits"), { connection, prefix });
  // What runService starts for ROLE=worker, twice: the handler and its inbox row in one transaction, 8 jobs at once each.
  consumers = [prismaA, prismaB].map((prisma) =>
    createEventConsumer<Tx>({ service: "visits", connection, prefix, handlers, concurrency: 8, runInTransaction: (fn) => prisma.$transaction(fn) }),
  );
});

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.close()));
  await events?.obliterate({ force: true }).catch(() => undefined);
  await events?.close();
  await prismaB?.$disconnect();
});

/** Through Redis as the relay sends it (job id = event id), in this order, to the two consumers; waits for every inbox row. */
async function publish(...envelopes: Envelope[]): Promise<void> {
  for (const e of envelopes) await events.add(e.type, e, { jobId: e.id });
  const ids = envelopes.map((e) => e.id);
  await until(`${envelopes.length} events consumed`, async () => (await prismaA.inboxEvent.count({ where: { eventId: { in: ids } } })) === ids.length);
}

/** Straight into the consumer's transaction: a second delivery, or a delivery on a given worker at a chosen moment. */
const deliver = (e: Envelope, prisma: PrismaClient = prismaA) => consumeEvent<Tx>(e, handlers, (fn) => prisma.$transaction(fn));

async function register(name = "李小花"): Promise<ChildSnapshot> {
  const child = childSnapshot({ name });
  await deliver(buildEvent("child.registered", { subject: child.id, orgUnit: VILLAGE, actor, data: { child } }, { producer: "registry", now: clock.now }));
  return child;
}

const started = (
  child: ChildSnapshot,
  h: TestHelper,
  pairingId: string,
  at: Date,
  startDate = "2026-11-22",
  role: "primary" | "secondary" = "primary",
): Envelope =>
  buildEvent(
    "pairing.started",
    { subject: child.id, orgUnit: child.villageCode, actor, data: pairingStartedData(mentorPairing(child, h, pairingId, "13907311111", role), startDate) },
    { producer: "pairing", now: at },
  );
const ended = (child: ChildSnapshot, h: TestHelper, pairingId: string, at: Date, endDate = "2026-11-22", role: "primary" | "secondary" = "primary"): Envelope =>
  buildEvent(
    "pairing.ended",
    { subject: child.id, orgUnit: child.villageCode, actor, data: pairingEndedData(mentorPairing(child, h, pairingId, "13907311111", role), endDate) },
    { producer: "pairing", now: at },
  );

/** Who the visit-items API says is responsible for each of the child's open items, as staff see it. */
async function responsibleForOpenItems(childId: string): Promise<string[]> {
  const res = await app.inject({ url: `/api/v1/visit-items?childId=${childId}&view=open`, headers: await issuer.as("changling.supervisor") });
  expect(res.statusCode, res.body).toBe(200);
  const items = res.json().items as { responsible: { kind: string; name: string | null } }[];
  expect(items.length).toBeGreaterThan(0);
  return [...new Set(items.map((i) => (i.responsible.kind === "village_director" ? "村儿童主任" : i.responsible.name!)))];
}

const assignmentOf = (childId: string) => prismaA.assignment.findUnique({ where: { childId } });
/**
 * `first` applied on worker A and its transaction held open until `second`, on
 * worker B, has finished (or half a second has passed, when B waits for A's lock):
 * the one interleaving in which each misses the other's uncommitted rows.
 */
async function interleaved(first: Envelope, second: Envelope): Promise<void> {
  let secondDone: Promise<unknown> | undefined;
  await consumeEvent<Tx>(first, handlers, (fn) =>
    prismaA.$transaction(async (tx) => {
      const outcome = await fn(tx);
      secondDone = deliver(second, prismaB);
      await Promise.race([secondDone, new Promise((r) => setTimeout(r, 500))]);
      return outcome;
    }),
  );
  await secondDone;
}

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

describe("pairing events in any order converge on the right mentor and hand-over", () => {
  it("a secondary helper (协助帮扶人) never takes the visits: they stay with the primary, and with the director once the primary ends", async () => {
    const child = await register();
    const primary = teacherHelper("王老师", "changling.teacher");
    const secondary = teacherHelper("陈书记", null);
    const [p, s] = [randomUUID(), randomUUID()];
    // The secondary started later than the primary (a later start would win were it a primary).
    await publish(started(child, primary, p, minutesAgo(3)), started(child, secondary, s, minutesAgo(1), "2026-11-22", "secondary"));
    expect(await assignmentOf(child.id)).toMatchObject({ pairingId: p, name: "王老师" });
    expect(await responsibleForOpenItems(child.id)).toEqual(["王老师"]);
    await publish(ended(child, secondary, s, new Date(), "2026-11-22", "secondary"));
    expect(await assignmentOf(child.id)).toMatchObject({ pairingId: p });
    await publish(ended(child, primary, p, new Date()));
    expect(await assignmentOf(child.id)).toBeNull();
    expect(await responsibleForOpenItems(child.id)).toEqual(["村儿童主任"]);
  });

  it("a pairing.ended delivered before its pairing.started leaves no mentor: the items stay with the village child director", async () => {
    const child = await register();
    const wang = teacherHelper("王老师", "changling.teacher");
    const p = randomUUID();
    const start = started(child, wang, p, minutesAgo(2));
    const end = ended(child, wang, p, minutesAgo(1));
    await publish(end);
    await publish(start);
    expect(await assignmentOf(child.id)).toBeNull();
    expect(await responsibleForOpenItems(child.id)).toEqual(["村儿童主任"]);
  });

  it("a late pairing.started of an older pairing (same start date) neither displaces the newer mentor nor takes the items; its late pairing.ended leaves them too", async () => {
    const child = await register();
    const older = teacherHelper("旧老师", "old.teacher");
    const newer = teacherHelper("王老师", "changling.teacher");
    const olderId = randomUUID();
    const newerId = randomUUID();
    // Happened: older start → older end → newer start, all on 2026-11-22. Arrive: newer start → older start → older end.
    await publish(started(child, newer, newerId, minutesAgo(1)));
    await publish(started(child, older, olderId, minutesAgo(3)));
    expect(await assignmentOf(child.id)).toMatchObject({ pairingId: newerId, name: "王老师" });
    expect(await responsibleForOpenItems(child.id)).toEqual(["王老师"]);
    await publish(ended(child, older, olderId, minutesAgo(2)));
    expect(await assignmentOf(child.id)).toMatchObject({ pairingId: newerId });
    expect(await responsibleForOpenItems(child.id)).toEqual(["王老师"]);

    // The newer one ends too: the village child director again, and the older one's events, delivered again, change nothing.
    const end = ended(child, newer, newerId, new Date());
    await publish(end);
    expect(await responsibleForOpenItems(child.id)).toEqual(["村儿童主任"]);
    expect(await deliver(started(child, older, olderId, minutesAgo(3)))).toBe("applied"); // another delivery of the same start under a new id (replay): still a tombstone
    expect(await assignmentOf(child.id)).toBeNull();
  });

  it("a start whose transaction is still open while its end commits on another worker, and the reverse, leave no mentor", async () => {
    const wang = teacherHelper("王老师", "changling.teacher");
    for (const order of ["start first", "end first"]) {
      const child = await register();
      const p = randomUUID();
      const start = started(child, wang, p, minutesAgo(2));
      const end = ended(child, wang, p, minutesAgo(1));
      await (order === "start first" ? interleaved(start, end) : interleaved(end, start));
      expect(await assignmentOf(child.id), order).toBeNull();
      expect(await responsibleForOpenItems(child.id), order).toEqual(["村儿童主任"]);
    }
  });

  it("a pairing's start and end handled at the same moment on two workers converge on no mentor, and no item is left with a ghost", async () => {
    const children = await Promise.all(Array.from({ length: 16 }, (_, i) => register(`并发${i}`)));
    const wang = teacherHelper("王老师", "changling.teacher");
    const t = Date.now();
    // Each child's start on one worker and its end on the other, all at once: the exact interleaving the lock is for.
    await Promise.all(
      children.flatMap((c, i) => {
        const p = randomUUID();
        const [a, b] = i % 2 ? [prismaA, prismaB] : [prismaB, prismaA];
        return [deliver(started(c, wang, p, new Date(t - 1_000)), a), deliver(ended(c, wang, p, new Date(t)), b)];
      }),
    );
    const ids = children.map((c) => c.id);
    expect(await prismaA.assignment.count({ where: { childId: { in: ids } } })).toBe(0);
    for (const c of children.slice(0, 4)) expect(await responsibleForOpenItems(c.id)).toEqual(["村儿童主任"]);
  });

  it("the same through Redis: start and end queued back to back for many children, consumed by two workers at concurrency 8", async () => {
    const children = await Promise.all(Array.from({ length: 16 }, (_, i) => register(`队列${i}`)));
    const wang = teacherHelper("王老师", "changling.teacher");
    const t = Date.now();
    await publish(
      ...children.flatMap((c) => {
        const p = randomUUID();
        return [started(c, wang, p, new Date(t - 1_000)), ended(c, wang, p, new Date(t))];
      }),
    );
    expect(await prismaA.assignment.count({ where: { childId: { in: children.map((c) => c.id) } } })).toBe(0);
  });

  it("a redelivered event has one effect: no second hand-over, no duplicate items, one inbox row", async () => {
    const child = await register();
    const wang = teacherHelper("王老师", "changling.teacher");
    const liu = teacherHelper("刘爱心", null);
    const first = randomUUID();
    const start = started(child, wang, first, minutesAgo(3));
    await publish(start);
    const itemsBefore = await prismaA.dueItem.count({ where: { childId: child.id } });
    expect(await deliver(start)).toBe("duplicate");
    expect(await deliver(start, prismaB)).toBe("duplicate");
    expect(await prismaA.dueItem.count({ where: { childId: child.id } })).toBe(itemsBefore);
    expect(await prismaA.inboxEvent.count({ where: { eventId: start.id } })).toBe(1);
    expect(await responsibleForOpenItems(child.id)).toEqual(["王老师"]);

    // After the first ended and another began, the old events delivered again take nothing from the new mentor.
    const end = ended(child, wang, first, minutesAgo(2));
    await publish(end, started(child, liu, randomUUID(), minutesAgo(1)));
    expect(await Promise.all([deliver(start), deliver(end, prismaB)])).toEqual(["duplicate", "duplicate"]);
    expect(await responsibleForOpenItems(child.id)).toEqual(["刘爱心"]);
    expect(await prismaA.dueItem.count({ where: { childId: child.id } })).toBe(itemsBefore);
  });
});
