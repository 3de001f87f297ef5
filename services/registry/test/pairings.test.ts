import { randomUUID } from "node:crypto";
import { Queue, type Worker } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { eventsQueue, type Envelope, type EventData, type HelperKind, type PairingKind } from "@shouhu/contracts";
import { buildEvent, consumeEvent, createEventConsumer } from "@shouhu/messaging";
import { until } from "@shouhu/testing";
import type { Tx } from "../src/data/db.js";
import { registryEventHandlers } from "../src/events/pairing-events.js";
import { REDIS_URL, childBody, registryTest, type Harness } from "./harness.js";

let h: Harness;
let events: Queue;
let consumer: Worker;
const handlers = registryEventHandlers();
const actor = { kind: "user" as const, id: "u-supervisor", name: "督导员" };
const connection = { url: REDIS_URL };

registryTest("pairings").beforeAll(async ({ registry }) => {
  h = registry;
  // A second school in 长岭乡, so a teacher of 长岭乡中心小学 is "of another school" for its children.
  await h.prisma.school.create({ data: { id: "S360999101002", name: "白水村小学", townshipCode: "360999101" } });
  events = new Queue(eventsQueue("registry"), { connection, prefix: h.prefix });
  // What runService starts for ROLE=worker|all: the registry's queue, the handler and inbox row in one transaction.
  consumer = createEventConsumer<Tx>({ service: "registry", connection, prefix: h.prefix, handlers, runInTransaction: (fn) => h.prisma.$transaction(fn) });
});
afterAll(async () => {
  await consumer?.close();
  await events?.obliterate({ force: true }).catch(() => undefined);
  await events?.close();
});

async function create(body: Record<string, unknown>): Promise<string> {
  const res = await h.app.inject({ method: "POST", url: "/api/v1/children", headers: await h.as("county.admin"), payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

interface HelperFields {
  kind: HelperKind;
  name: string;
  phone: string | null;
  username: string | null;
}
const teacher: HelperFields = { kind: "teacher", name: "王老师", phone: "13907300301", username: "changling.teacher" };
const peerStudent: HelperFields = { kind: "peer_student", name: "周小军", phone: null, username: null };

interface Pairing {
  pairingId: string;
  kind: PairingKind;
  role: "primary" | "secondary";
  child: EventData<"pairing.started">["child"];
  helper: EventData<"pairing.started">["helper"];
}

async function pairingOf(childId: string, kind: PairingKind, helper: HelperFields, role: Pairing["role"] = "primary"): Promise<Pairing> {
  const c = (await h.prisma.child.findUniqueOrThrow({ where: { id: childId } }))!;
  return {
    pairingId: randomUUID(),
    kind,
    role,
    child: { id: c.id, name: c.name, villageCode: c.villageCode, townshipCode: c.townshipCode, schoolId: c.schoolId },
    helper: { id: randomUUID(), ...helper, orgUnitCode: c.villageCode, schoolId: helper.kind === "teacher" ? "S360999101001" : c.schoolId },
  };
}

const started = (p: Pairing, at = new Date(), startDate = "2026-11-20") =>
  buildEvent(
    "pairing.started",
    { subject: p.child.id, orgUnit: p.child.villageCode, actor, data: { ...p, startDate, approvedBy: "督导员" } },
    { producer: "pairing", now: at },
  );
const ended = (p: Pairing, at = new Date(), endDate = "2026-11-21") =>
  buildEvent(
    "pairing.ended",
    { subject: p.child.id, orgUnit: p.child.villageCode, actor, data: { ...p, endDate, reason: "helper_deactivated", note: null } },
    { producer: "pairing", now: at },
  );

/** Through Redis as the relay sends it (job id = event id), consumed by the registry's consumer; waits for its inbox row. */
async function publish(...envelopes: Envelope[]): Promise<void> {
  for (const e of envelopes) await events.add(e.type, e, { jobId: e.id });
  await until(
    `${envelopes.map((e) => e.type).join(", ")} consumed`,
    async () => (await h.prisma.inboxEvent.count({ where: { eventId: { in: envelopes.map((e) => e.id) } } })) === envelopes.length,
  );
}

/** A second delivery of an event already consumed (relay retry after the job was removed, stalled job, replay). */
const redeliver = (e: Envelope) => consumeEvent<Tx>(e, handlers, (fn) => h.prisma.$transaction(fn));

async function card(childId: string, user = "changling.director") {
  const res = await h.app.inject({ url: `/api/v1/children/${childId}/contact-card`, headers: await h.as(user) });
  return { status: res.statusCode, body: res.json() as any };
}

describe("contact card with pairing", () => {
  it("shows the paired mentor and peer buddy after pairing.started, the register's 帮扶责任人 again after pairing.ended", async () => {
    const id = await create(childBody({ seq: 101, helperName: "张老师" }));
    expect((await card(id)).body).toMatchObject({ helper: { name: "张老师", source: "register" }, peerBuddy: null });

    const mentor = await pairingOf(id, "mentor", teacher);
    const peer = await pairingOf(id, "peer", peerStudent);
    await publish(started(mentor), started(peer));
    const paired = await card(id);
    expect(paired.status).toBe(200);
    expect(paired.body.helper).toEqual({
      name: "王老师",
      phone: "13907300301",
      helperKind: "teacher",
      helperKindLabel: "教师",
      since: "2026-11-20",
      source: "pairing",
    });
    expect(paired.body.peerBuddy).toEqual({
      name: "周小军",
      phone: null,
      helperKind: "peer_student",
      helperKindLabel: "同伴学生",
      since: "2026-11-20",
      source: "pairing",
    });
    // 已结对 / 未结对 filter the list by the mentor pairing.
    const list = async (paired: string) =>
      (await h.app.inject({ url: `/api/v1/children?paired=${paired}&limit=200`, headers: await h.as("county.admin") })).json() as { items: { id: string }[] };
    expect((await list("true")).items.map((c) => c.id)).toContain(id);
    expect((await list("false")).items.map((c) => c.id)).not.toContain(id);
    expect((await h.app.inject({ url: `/api/v1/children?paired=yes`, headers: await h.as("county.admin") })).json().error.message).toContain("paired");
    // The helper's phone follows the family's: an inspector sees neither.
    const inspector = await card(id, "county.inspector");
    expect(inspector.status).toBe(200);
    expect(inspector.body.guardians).toEqual([]);
    expect(inspector.body.helper).toMatchObject({ name: "王老师", phone: null, source: "pairing" });

    await publish(ended(mentor));
    const after = await card(id);
    expect(after.body.helper).toEqual({ name: "张老师", source: "register" });
    expect(after.body.peerBuddy).toMatchObject({ name: "周小军", source: "pairing" });
  });

  it("names the secondary helper (协助帮扶人) beside the primary, never in its place, whatever the order", async () => {
    const id = await create(childBody({ seq: 140, helperName: "张老师" }));
    const volunteer: HelperFields = { kind: "village_cadre", name: "陈书记", phone: "13907300309", username: null };
    const secondary = await pairingOf(id, "mentor", volunteer, "secondary");
    const primary = await pairingOf(id, "mentor", teacher);
    // The secondary's start arrives after the primary's and later in time: the primary stays the card's helper.
    await publish(started(primary, new Date(Date.now() - 60_000)), started(secondary));
    const both = await card(id);
    expect(both.body.helper).toMatchObject({ name: "王老师", source: "pairing" });
    expect(both.body.assistantHelper).toEqual({
      name: "陈书记",
      phone: "13907300309",
      helperKind: "village_cadre",
      helperKindLabel: "村干部",
      since: "2026-11-20",
      source: "pairing",
    });
    // The child counts as paired by its primary; ending the primary leaves the secondary named.
    await publish(ended(primary));
    const after = await card(id);
    expect(after.body.helper).toEqual({ name: "张老师", source: "register" });
    expect(after.body.assistantHelper).toMatchObject({ name: "陈书记" });
    const unpaired = (await h.app.inject({ url: `/api/v1/children?paired=false&limit=200`, headers: await h.as("county.admin") })).json();
    expect(unpaired.items.map((c: { id: string }) => c.id)).toContain(id);
    await publish(ended(secondary));
    expect((await card(id)).body.assistantHelper).toBeNull();
  });

  it("with neither a pairing nor a 帮扶责任人 on the register, the card has no helper", async () => {
    const id = await create(childBody({ seq: 102 }));
    expect((await card(id)).body).toMatchObject({ helper: null, assistantHelper: null, peerBuddy: null });
  });
});

describe("consuming pairing events", () => {
  it("a redelivered event has one effect", async () => {
    const id = await create(childBody({ seq: 103 }));
    const first = await pairingOf(id, "mentor", teacher);
    const start = started(first, new Date(Date.now() - 2_000));
    await publish(start);
    expect(await redeliver(start)).toBe("duplicate");
    expect(await h.prisma.currentPairing.count({ where: { childId: id } })).toBe(1);
    expect(await h.prisma.inboxEvent.count({ where: { eventId: start.id } })).toBe(1);

    // After the pairing ended and another began, old events delivered again change nothing.
    const end = ended(first, new Date(Date.now() - 1_000));
    const second = await pairingOf(id, "mentor", { ...teacher, name: "刘爱心", kind: "proxy_parent", username: null });
    await publish(end, started(second));
    expect(await redeliver(start)).toBe("duplicate");
    expect(await redeliver(end)).toBe("duplicate");
    expect((await card(id)).body.helper).toMatchObject({ name: "刘爱心", source: "pairing" });
    expect(await h.prisma.currentPairing.findMany({ where: { childId: id } })).toMatchObject([{ pairingId: second.pairingId }]);
  });

  it("a pairing.ended delivered before its pairing.started leaves no ghost pairing", async () => {
    const id = await create(childBody({ seq: 104, helperName: "张老师" }));
    const p = await pairingOf(id, "mentor", teacher);
    const start = started(p, new Date(Date.now() - 1_000));
    await publish(ended(p));
    await publish(start);
    expect(await h.prisma.currentPairing.count({ where: { childId: id } })).toBe(0);
    expect((await card(id)).body.helper).toEqual({ name: "张老师", source: "register" });
  });

  it("a late pairing.started of an older pairing does not replace the newer one, nor does its pairing.ended remove it", async () => {
    const id = await create(childBody({ seq: 105 }));
    const older = await pairingOf(id, "mentor", { ...teacher, name: "旧老师", username: "old.teacher" });
    const newer = await pairingOf(id, "mentor", teacher);
    const t = Date.now();
    // Events happened older start → older end → newer start, and arrive newer start → older start → older end.
    await publish(started(newer, new Date(t - 1_000), "2026-11-21"));
    await publish(started(older, new Date(t - 3_000), "2026-11-01"));
    expect((await card(id)).body.helper).toMatchObject({ name: "王老师" });
    await publish(ended(older, new Date(t - 2_000)));
    expect((await card(id)).body.helper).toMatchObject({ name: "王老师", since: "2026-11-21" });
  });

  it("a pairing's start and end handled at the same time still converge on no pairing", async () => {
    const ids = await Promise.all(Array.from({ length: 12 }, (_, i) => create(childBody({ seq: 110 + i }))));
    const pairs = await Promise.all(ids.map((id) => pairingOf(id, "mentor", teacher)));
    const t = Date.now();
    await Promise.all(pairs.flatMap((p) => [redeliver(started(p, new Date(t - 1_000))), redeliver(ended(p, new Date(t)))]));
    expect(await h.prisma.currentPairing.count({ where: { childId: { in: ids } } })).toBe(0);
  });
});

describe("teacher scope", () => {
  async function asTeacher(url: string) {
    const res = await h.app.inject({ url, headers: await h.as("changling.teacher") });
    return { status: res.statusCode, body: res.json() as any };
  }
  const listed = async () => (await asTeacher("/api/v1/children?limit=200")).body.items.map((c: { id: string }) => c.id) as string[];

  it("a teacher of another school sees a child paired to them in get, list and contact card, until the pairing ends", async () => {
    const id = await create(childBody({ seq: 130, villageCode: "360999101202", address: "白水村1组", schoolId: "S360999101002", name: "白小燕" }));
    expect((await asTeacher(`/api/v1/children/${id}`)).status).toBe(404);
    expect(await listed()).not.toContain(id);
    expect((await asTeacher(`/api/v1/children/${id}/contact-card`)).status).toBe(404);

    const p = await pairingOf(id, "mentor", teacher);
    await publish(started(p));
    const child = await asTeacher(`/api/v1/children/${id}`);
    expect(child.status).toBe(200);
    expect(child.body).toMatchObject({ id, schoolId: "S360999101002" });
    expect(await listed()).toContain(id);
    const seen = await asTeacher(`/api/v1/children/${id}/contact-card`);
    expect(seen.status).toBe(200);
    expect(seen.body.helper).toMatchObject({ name: "王老师", source: "pairing" });
    // Their own school's children are still theirs.
    const own = await create(childBody({ seq: 131 }));
    expect(await listed()).toEqual(expect.arrayContaining([id, own]));

    await publish(ended(p));
    expect((await asTeacher(`/api/v1/children/${id}`)).status).toBe(404);
    expect(await listed()).not.toContain(id);
    expect((await asTeacher(`/api/v1/children/${id}/contact-card`)).status).toBe(404);
    expect(await listed()).toContain(own);
  });

  it("a child paired to someone else, or a peer buddy's pairing without a login, gives a teacher nothing", async () => {
    const id = await create(childBody({ seq: 132, villageCode: "360999101202", address: "白水村2组", schoolId: "S360999101002" }));
    await publish(
      started(await pairingOf(id, "mentor", { ...teacher, name: "赵老师", username: "baishui.teacher" })),
      started(await pairingOf(id, "peer", peerStudent)),
    );
    expect((await asTeacher(`/api/v1/children/${id}`)).status).toBe(404);
    expect(await listed()).not.toContain(id);
  });

  it("pairing does not widen a teacher's area: a child of another township paired to them stays out of reach, as in pairing", async () => {
    const id = await create(childBody({ seq: 133, villageCode: "360999102201", address: "石门村", schoolId: "S360999102001" }));
    await publish(started(await pairingOf(id, "mentor", teacher)));
    expect((await asTeacher(`/api/v1/children/${id}`)).status).toBe(404);
    expect(await listed()).not.toContain(id);
  });
});
