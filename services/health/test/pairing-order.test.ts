// Pairing events in any order, twice, or at the same moment on parallel workers must
// leave each child with the right mentor — and so the child's open findings with the
// right owner (the mentor, else the village child director). Its own database and
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
import { healthHandlers } from "../src/events/handlers.js";
import { healthTest } from "./fixtures.js";

const connection = { url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379" };
const actor = { kind: "user" as const, id: "u-supervisor", name: "督导员" };
const handlers = healthHandlers();

let db: TestDatabase;
/** Two clients with their own pools, as two worker processes have. */
let prismaA: PrismaClient;
let prismaB: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;
let prefix: string;
let events: Queue;
let consumers: Worker[] = [];

healthTest("health_pairing_order").beforeAll(async ({ health }) => {
  ({ db, prisma: prismaA, issuer, app, prefix } = health);
  prismaB = createPrisma(db.url);
  events = new Queue(eventsQueue("health"), { connection, prefix });
  // What runService starts for ROLE=worker, twice: the handler and its inbox row in one transaction, 8 jobs at once each.
  consumers = [prismaA, prismaB].map((prisma) =>
    createEventConsumer<Tx>({ service: "health", connection, prefix, handlers, concurrency: 8, runInTransaction: (fn) => prisma.$transaction(fn) }),
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

async function api(method: "GET" | "POST", url: string, user: string, payload?: object) {
  const res = await app.inject({ method, url, headers: await issuer.as(user), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as any };
}

async function register(name = "赵小军"): Promise<ChildSnapshot> {
  const c = childSnapshot({ name, sex: "male", schoolName: null, riskLevel: "low", guardian: { name: "赵奶奶", relation: "祖母", phone: "13977778888" } });
  await deliver(buildEvent("child.registered", { subject: c.id, orgUnit: c.villageCode, actor, data: { child: c } }, { producer: "registry" }));
  return c;
}

/** An exam with three carious teeth: one finding, one open follow-up. */
async function examWithFinding(childId: string): Promise<string> {
  const res = await api("POST", "/api/v1/exams", "changling.doctor", { childId, date: "2026-11-20", examiner: "李医生", caries: 3 });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  expect(res.body.followUpsOpened).toHaveLength(1);
  return res.body.followUpsOpened[0];
}

const started = (c: ChildSnapshot, h: TestHelper, pairingId: string, at: Date): Envelope =>
  buildEvent(
    "pairing.started",
    { subject: c.id, orgUnit: c.villageCode, actor, data: pairingStartedData(mentorPairing(c, h, pairingId)) },
    { producer: "pairing", now: at },
  );
const ended = (c: ChildSnapshot, h: TestHelper, pairingId: string, at: Date): Envelope =>
  buildEvent(
    "pairing.ended",
    { subject: c.id, orgUnit: c.villageCode, actor, data: pairingEndedData(mentorPairing(c, h, pairingId)) },
    { producer: "pairing", now: at },
  );

/** The owner of a follow-up as the follow-ups API shows it to the village child director. */
async function ownerOf(followUpId: string): Promise<string> {
  const res = await api("GET", "/api/v1/follow-ups?status=open&limit=500", "changling.director");
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const f = (res.body.items as { id: string; ownerRole: string; ownerName: string }[]).find((i) => i.id === followUpId);
  expect(f, `follow-up ${followUpId} listed`).toBeDefined();
  return f!.ownerRole === "village-director" ? "村儿童主任" : f!.ownerName;
}

const mentorOf = (childId: string) => prismaA.mentor.findUnique({ where: { childId } });
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

describe("pairing events in any order converge on the right mentor and follow-up owner", () => {
  it("a pairing.ended delivered before its pairing.started leaves no ghost mentor: findings stay with the village child director, later exams name no helper", async () => {
    const c = await register();
    const followUp = await examWithFinding(c.id);
    const wang = teacherHelper("王老师", "changling.teacher");
    const p = randomUUID();
    await publish(ended(c, wang, p, minutesAgo(1)));
    await publish(started(c, wang, p, minutesAgo(2)));
    expect(await mentorOf(c.id)).toBeNull();
    expect(await ownerOf(followUp)).toBe("村儿童主任");

    const again = await api("POST", "/api/v1/exams", "changling.doctor", {
      childId: c.id,
      date: "2026-11-21",
      examiner: "李医生",
      caries: 4,
      visionLeft: 4.6,
      visionRight: 4.6,
    });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    const flagged = (await prismaA.outboxEvent.findMany({ where: { type: "checkup.flagged", subject: c.id }, orderBy: { createdAt: "asc" } })).map(
      (r) => (r.envelope as any).data,
    );
    expect(flagged.at(-1)).toMatchObject({ helper: null });
    expect(await prismaA.followUp.findMany({ where: { childId: c.id, status: "open" }, select: { owner: true } })).toEqual([{ owner: null }, { owner: null }]);
  });

  it("a late pairing.started of an older pairing neither displaces the newer mentor nor takes the findings; its late pairing.ended leaves them too", async () => {
    const c = await register();
    const followUp = await examWithFinding(c.id);
    const older = teacherHelper("旧老师", "old.teacher");
    const newer = teacherHelper("王老师", "changling.teacher");
    const olderId = randomUUID();
    const newerId = randomUUID();
    // Happened: older start → older end → newer start. Arrive: newer start → older start → older end.
    await publish(started(c, newer, newerId, minutesAgo(1)));
    expect(await ownerOf(followUp)).toBe("王老师");
    await publish(started(c, older, olderId, minutesAgo(3)));
    expect(await mentorOf(c.id)).toMatchObject({ pairingId: newerId, name: "王老师" });
    expect(await ownerOf(followUp)).toBe("王老师");
    await publish(ended(c, older, olderId, minutesAgo(2)));
    expect(await mentorOf(c.id)).toMatchObject({ pairingId: newerId });
    expect(await ownerOf(followUp)).toBe("王老师");

    await publish(ended(c, newer, newerId, new Date()));
    expect(await mentorOf(c.id)).toBeNull();
    expect(await ownerOf(followUp)).toBe("村儿童主任");
  });

  it("a start whose transaction is still open while its end commits on another worker, and the reverse, leave no mentor", async () => {
    const wang = teacherHelper("王老师", "changling.teacher");
    for (const order of ["start first", "end first"]) {
      const c = await register();
      const followUp = await examWithFinding(c.id);
      const p = randomUUID();
      const start = started(c, wang, p, minutesAgo(2));
      const end = ended(c, wang, p, minutesAgo(1));
      await (order === "start first" ? interleaved(start, end) : interleaved(end, start));
      expect(await mentorOf(c.id), order).toBeNull();
      expect(await ownerOf(followUp), order).toBe("村儿童主任");
    }
  });

  it("a pairing's start and end handled at the same moment on two workers converge on no mentor, and no finding is left with a ghost", async () => {
    const children = await Promise.all(Array.from({ length: 16 }, (_, i) => register(`并发${i}`)));
    const followUps = await Promise.all(children.map((c) => examWithFinding(c.id)));
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
    expect(await prismaA.mentor.count({ where: { childId: { in: ids } } })).toBe(0);
    expect(await prismaA.followUp.count({ where: { id: { in: followUps }, owner: { not: null } } })).toBe(0);
  });

  it("the same through Redis: start and end queued back to back for many children, consumed by two workers at concurrency 8", async () => {
    const children = await Promise.all(Array.from({ length: 16 }, (_, i) => register(`队列${i}`)));
    const followUps = await Promise.all(children.map((c) => examWithFinding(c.id)));
    const wang = teacherHelper("王老师", "changling.teacher");
    const t = Date.now();
    await publish(
      ...children.flatMap((c) => {
        const p = randomUUID();
        return [started(c, wang, p, new Date(t - 1_000)), ended(c, wang, p, new Date(t))];
      }),
    );
    expect(await prismaA.mentor.count({ where: { childId: { in: children.map((c) => c.id) } } })).toBe(0);
    expect(await prismaA.followUp.count({ where: { id: { in: followUps }, owner: { not: null } } })).toBe(0);
  });

  it("a redelivered event has one effect: one inbox row, and old events delivered again take nothing from the next mentor", async () => {
    const c = await register();
    const followUp = await examWithFinding(c.id);
    const wang = teacherHelper("王老师", "changling.teacher");
    const liu = teacherHelper("刘爱心", null);
    const first = randomUUID();
    const start = started(c, wang, first, minutesAgo(3));
    await publish(start);
    expect(await deliver(start)).toBe("duplicate");
    expect(await deliver(start, prismaB)).toBe("duplicate");
    expect(await prismaA.inboxEvent.count({ where: { eventId: start.id } })).toBe(1);
    expect(await ownerOf(followUp)).toBe("王老师");

    const end = ended(c, wang, first, minutesAgo(2));
    await publish(end, started(c, liu, randomUUID(), minutesAgo(1)));
    expect(await Promise.all([deliver(start), deliver(end, prismaB)])).toEqual(["duplicate", "duplicate"]);
    expect(await mentorOf(c.id)).toMatchObject({ name: "刘爱心" });
    expect(await ownerOf(followUp)).toBe("刘爱心");
  });

  it("an exam recorded while a mentor's pairing starts gives its finding to that mentor, whichever commits first", async () => {
    const children = await Promise.all(Array.from({ length: 12 }, (_, i) => register(`体检${i}`)));
    const wang = teacherHelper("王老师", "changling.teacher");
    await Promise.all(
      children.flatMap((c, i) => [
        api("POST", "/api/v1/exams", "changling.doctor", { childId: c.id, date: "2026-11-20", examiner: "李医生", caries: 3 }),
        deliver(started(c, wang, randomUUID(), minutesAgo(1)), i % 2 ? prismaA : prismaB),
      ]),
    );
    const open = await prismaA.followUp.findMany({ where: { childId: { in: children.map((c) => c.id) }, status: "open" }, select: { owner: true } });
    expect(open).toHaveLength(children.length);
    expect(open.every((f) => f.owner === "changling.teacher")).toBe(true);
  });
});
