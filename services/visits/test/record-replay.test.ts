import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { jobQueues, type ChildSnapshot, type Envelope } from "@shouhu/contracts";
import { buildEvent, consumeEvent, createJobQueue, createRedisConnection } from "@shouhu/messaging";
import { childSnapshot, createTestDatabase, startTestIssuer, testPrefix, type TestDatabase, type TestIssuer } from "@shouhu/testing";
import { createPrisma, type PrismaClient, type Tx } from "../src/data/db.js";
import { buildVisitsApp } from "../src/app.js";
import { visitEventHandlers } from "../src/events/handlers.js";

/**
 * Issue 18.2: a phone queues records offline with ids it makes itself and syncs them when
 * the signal returns — perhaps twice (an answer lost on the way back), perhaps twice at
 * once (two tabs). The id is the idempotency key: one record, whatever the number of sends.
 */
const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
const VILLAGE = "360999101201";
const actor = { kind: "user" as const, id: "registrar", name: "登记员" };
const now = new Date("2026-11-22T02:00:00Z");

let db: TestDatabase;
let prisma: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;
let scheduleQueue: ReturnType<typeof createJobQueue>;
let queueConnection: ReturnType<typeof createRedisConnection>;
const handlers = visitEventHandlers(() => now);

beforeAll(async () => {
  db = await createTestDatabase("visits_replay", { migrationsDir });
  prisma = createPrisma(db.url);
  issuer = await startTestIssuer();
  queueConnection = createRedisConnection(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { role: "producer" });
  scheduleQueue = createJobQueue(jobQueues.visitsSchedule, queueConnection, testPrefix("visits_replay"));
  app = await buildVisitsApp({
    scheduleQueue,
    prisma,
    verifier: createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] }),
    logger: createLogger("visits-replay-test", process.env.TEST_LOG_LEVEL ?? "silent"),
    now: () => now,
    backdateDays: 31,
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  await scheduleQueue?.obliterate({ force: true }).catch(() => undefined);
  await scheduleQueue?.close();
  queueConnection?.disconnect();
  await issuer?.close();
  await prisma?.$disconnect();
  await db?.drop();
});

const deliver = (event: Envelope) => consumeEvent<Tx>(event, handlers, (fn) => prisma.$transaction(fn));

async function register(over: Partial<ChildSnapshot> = {}): Promise<ChildSnapshot> {
  const child = childSnapshot({ villageCode: VILLAGE, ...over });
  await deliver(buildEvent("child.registered", { subject: child.id, orgUnit: child.villageCode, actor, data: { child } }, { producer: "registry", now }));
  return child;
}

async function exit(child: ChildSnapshot) {
  const exited = { ...child, status: "exited" as const, exitReason: "turned_16" as const, revision: 2 };
  await deliver(
    buildEvent(
      "child.status-changed",
      { subject: child.id, orgUnit: child.villageCode, actor, data: { child: exited, from: "active", to: "exited", reason: "turned_16", note: null } },
      { producer: "registry", now },
    ),
  );
}

async function post(user: string, payload: object) {
  const res = await app.inject({ method: "POST", url: "/api/v1/visit-records", headers: await issuer.as(user), payload });
  return { status: res.statusCode, body: res.json() as any };
}

const rows = async (id: string) =>
  (await prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM visit_records WHERE id = $1::uuid`, id))[0]!.n;
const recorded = async (childId: string) => (await prisma.outboxEvent.findMany({ where: { type: "visit.recorded", subject: childId } })).length;

describe("POST /api/v1/visit-records with a client id (idempotency key)", () => {
  it("stores the record under the client's id; the same send again answers 200 with the same record and stores nothing", async () => {
    const child = await register();
    const id = randomUUID();
    const body = { id, childId: child.id, kind: "home_visit", date: "2026-11-21", findings: { mood: "开朗" } };
    const first = await post("changling.director", body);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ id, childId: child.id, kind: "home_visit", kindLabel: "家访", date: "2026-11-21", replayed: false });
    expect(first.body.satisfied).toMatchObject({ period: "2026-11", onTime: true });

    const again = await post("changling.director", body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ ...first.body, replayed: true });
    expect(await rows(id)).toBe(1);
    expect(await recorded(child.id)).toBe(1);
  });

  it("a replay of a record that raised a concern answers the same concern and raises no second one", async () => {
    const child = await register();
    const body = {
      id: randomUUID(),
      childId: child.id,
      kind: "home_visit",
      date: "2026-11-22",
      findings: { safety: "手臂有淤青" },
      concern: { category: "abuse_suspected", description: "疑似遭受家庭暴力" },
    };
    const first = await post("changling.director", body);
    expect(first.status).toBe(201);
    expect(first.body.concernId).toEqual(expect.any(String));
    const again = await post("changling.director", body);
    expect(again.body.concernId).toBe(first.body.concernId);
    const concerns = await prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM concerns WHERE child_id = $1::uuid`, child.id);
    expect(concerns[0]!.n).toBe(1);
  });

  it("two sends of one id at once store one record; both answer it", async () => {
    const child = await register();
    const id = randomUUID();
    const body = { id, childId: child.id, kind: "parent_call", date: "2026-11-22" };
    const answers = await Promise.all([post("changling.director", body), post("changling.director", body), post("changling.director", body)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 201]);
    expect(new Set(answers.map((a) => a.body.id))).toEqual(new Set([id]));
    expect(new Set(answers.map((a) => JSON.stringify(a.body.satisfied)))).toHaveProperty("size", 1);
    expect(await rows(id)).toBe(1);
    expect(await recorded(child.id)).toBe(1);
  });

  it("the same id for a different child, kind, date or recorder is a 409 naming the field, and stores nothing", async () => {
    const child = await register();
    const other = await register();
    const id = randomUUID();
    expect((await post("changling.director", { id, childId: child.id, kind: "talk", date: "2026-11-20" })).status).toBe(201);
    for (const [user, body] of [
      ["changling.director", { id, childId: other.id, kind: "talk", date: "2026-11-20" }],
      ["changling.director", { id, childId: child.id, kind: "letter", date: "2026-11-20" }],
      ["changling.director", { id, childId: child.id, kind: "talk", date: "2026-11-21" }],
      ["changling.supervisor", { id, childId: child.id, kind: "talk", date: "2026-11-20" }],
    ] as const) {
      const res = await post(user, body);
      expect(res.status, JSON.stringify(body)).toBe(409);
      expect(res.body.error).toMatchObject({ code: "RECORD_ID_REUSED", details: { field: "id" } });
      expect(res.body.error.message).toMatch(/记录编号已用于另一条走访记录/);
    }
    expect(await rows(id)).toBe(1);
    expect(await recorded(other.id)).toBe(0);
  });

  it("a child who left the programme meanwhile: 409 CHILD_EXITED naming the child; an earlier record's replay still answers it", async () => {
    const child = await register({ name: "李小花" });
    const before = { id: randomUUID(), childId: child.id, kind: "home_visit", date: "2026-11-20" };
    expect((await post("changling.director", before)).status).toBe(201);
    await exit(child);

    const queued = { id: randomUUID(), childId: child.id, kind: "parent_call", date: "2026-11-21" };
    const res = await post("changling.director", queued);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: "CHILD_EXITED", details: { childId: child.id, childName: "李小花" } });
    expect(res.body.error.message).toContain("李小花已退出关爱对象");
    expect(await rows(queued.id)).toBe(0);

    // The answer to the first send was lost; the phone sends it again after the exit.
    const replay = await post("changling.director", before);
    expect(replay.status).toBe(200);
    expect(replay.body).toMatchObject({ id: before.id, replayed: true });
  });

  it("an id that is not a UUID is a 400 naming the field", async () => {
    const child = await register();
    const res = await post("changling.director", { id: "abc", childId: child.id, kind: "talk", date: "2026-11-20" });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.error.details)).toContain("id");
  });

  it("a record sent without an id still gets one from the server (old clients)", async () => {
    const child = await register();
    const res = await post("changling.director", { childId: child.id, kind: "talk", date: "2026-11-20" });
    expect(res.status).toBe(201);
    expect(await rows(res.body.id)).toBe(1);
  });

  it("the list documents and answers kindLabel and the narrative for a director, date/kind/on-time for an inspector", async () => {
    const child = await register();
    await post("changling.director", { id: randomUUID(), childId: child.id, kind: "talk", date: "2026-11-20", findings: { mood: "开朗" } });
    const list = await app.inject({ url: `/api/v1/visit-records?childId=${child.id}`, headers: await issuer.as("changling.director") });
    expect(list.statusCode).toBe(200);
    const [item] = list.json().items;
    expect(item).toMatchObject({ kind: "talk", kindLabel: "谈心", findings: { mood: "开朗" }, visitorName: expect.any(String), createdAt: expect.any(String) });
    const inspected = await app.inject({ url: `/api/v1/visit-records?childId=${child.id}`, headers: await issuer.as("county.inspector") });
    expect(Object.keys(inspected.json().items[0]).sort()).toEqual([
      "childId",
      "childName",
      "date",
      "id",
      "itemId",
      "kind",
      "kindLabel",
      "onTime",
      "villageCode",
    ]);
  });
});
