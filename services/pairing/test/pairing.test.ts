import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import { eventsQueue } from "@shouhu/contracts";
import { createEventConsumer, eventJobOptions } from "@shouhu/messaging";
import { testPrefix } from "@shouhu/testing";
import type { Tx } from "../src/data/db.js";
import { childEventHandlers } from "../src/events/child-events.js";
import { childEvent, exitEvent, snapshot, startPairing, type PairingHarness } from "./harness.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const CHANGLING = "360999101";
const V201 = "360999101201";
const V202 = "360999101202";
const SCHOOL = "S360999101001";

let h: PairingHarness;

beforeAll(async () => {
  h = await startPairing("pairing");
});
afterAll(async () => {
  await h?.close();
});

async function api(method: "GET" | "POST" | "PATCH", url: string, user: string, payload?: unknown) {
  const res = await h.app.inject({ method, url, headers: await h.as(user), ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.json() as any, headers: res.headers };
}

async function addHelper(body: Record<string, unknown>, user = "changling.supervisor") {
  const res = await api("POST", "/api/v1/helpers", user, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; name: string; capacity: number };
}

async function openPairings(childId: string) {
  return h.prisma.pairing.findMany({ where: { childId, status: { in: ["proposed", "active"] } } });
}

describe("helpers", () => {
  it("registers helpers with kind defaults and rejects bad input naming the field", async () => {
    const teacher = await addHelper({ kind: "teacher", name: "王 老师", phone: "139-0731-1111", orgUnitCode: CHANGLING, schoolId: SCHOOL, username: "changling.teacher" });
    expect(teacher).toMatchObject({ name: "王老师", capacity: 3, phone: "13907311111", kindLabel: "教师" });
    const peer = await addHelper({ kind: "peer_student", name: "小明", sex: "male", birthDate: "2014-05-01", orgUnitCode: V201, schoolId: SCHOOL });
    expect(peer.capacity).toBe(1);

    const cases: [Record<string, unknown>, string][] = [
      [{ kind: "peer_student", name: "小红", orgUnitCode: V201, schoolId: SCHOOL, sex: "female" }, "birthDate"],
      [{ kind: "teacher", name: "李老师", phone: "13907312222", orgUnitCode: CHANGLING }, "schoolId"],
      [{ kind: "proxy_parent", name: "赵妈妈", orgUnitCode: V201 }, "phone"],
      [{ kind: "proxy_parent", name: "赵妈妈", phone: "12345", orgUnitCode: V201 }, "phone"],
      [{ kind: "village_director", name: "周主任", phone: "13907313333", orgUnitCode: CHANGLING }, "orgUnitCode"],
      [{ kind: "volunteer", name: "钱", phone: "13907313333", orgUnitCode: "360999" }, "orgUnitCode"],
      [{ kind: "astronaut", name: "钱", phone: "13907313333", orgUnitCode: V201 }, "kind"],
      [{ kind: "volunteer", name: "钱", phone: "13907313333", orgUnitCode: V201, capacity: 0 }, "capacity"],
      [{ kind: "peer_student", name: "小红", orgUnitCode: V201, schoolId: SCHOOL, sex: "female", birthDate: "2030-01-01" }, "birthDate"],
    ];
    for (const [body, field] of cases) {
      const res = await api("POST", "/api/v1/helpers", "changling.supervisor", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field), JSON.stringify(res.body)).toContain(field);
    }
  });

  it("keeps helpers inside jurisdiction: other townships cannot see or register them", async () => {
    const helper = await addHelper({ kind: "volunteer", name: "孙志愿", phone: "13907314444", orgUnitCode: V202 });
    expect((await api("GET", `/api/v1/helpers/${helper.id}`, "shimen.supervisor")).status).toBe(404);
    expect((await api("GET", `/api/v1/helpers?orgUnit=${CHANGLING}`, "shimen.supervisor")).status).toBe(403);
    const mine = await api("GET", "/api/v1/helpers", "shimen.supervisor");
    expect(mine.body.items.find((x: { id: string }) => x.id === helper.id)).toBeUndefined();
    expect((await api("POST", "/api/v1/helpers", "shimen.supervisor", { kind: "volunteer", name: "越界", phone: "13907315555", orgUnitCode: V202 })).status).toBe(403);
    expect((await api("POST", "/api/v1/helpers", "changling.teacher", { kind: "volunteer", name: "无权", phone: "13907315555", orgUnitCode: V202 })).status).toBe(403);
    // Inspectors read without contact details.
    const seen = await api("GET", `/api/v1/helpers/${helper.id}`, "county.inspector");
    expect(seen.body.phone).toBe("139****4444");
  });
});

describe("matching from registry events", () => {
  it("proposes once for the same child.registered delivered twice, and ignores a stale revision", async () => {
    const child = snapshot({ villageCode: V202, schoolId: null, riskLevel: "high" });
    const event = childEvent("child.registered", child);
    expect(await h.deliver(event)).toBe("applied");
    expect(await h.deliver(event)).toBe("duplicate");
    await h.match();
    // A second, distinct event with the same revision (e.g. a replayed snapshot) changes nothing.
    expect(await h.deliver(childEvent("child.updated", child))).toBe("applied");
    await h.match();
    const open = await openPairings(child.id);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ status: "proposed", kind: "mentor" });
  });

  it("consumes events from the real BullMQ queue with redelivery giving one effect", async () => {
    const prefix = testPrefix("pairing_queue");
    const connection = { url: REDIS_URL };
    const queue = new Queue(eventsQueue("pairing"), { connection, prefix });
    const consumer = createEventConsumer<Tx>({
      service: "pairing",
      connection,
      prefix,
      handlers: childEventHandlers(() => h.clock.now),
      runInTransaction: (fn) => h.prisma.$transaction(fn),
    });
    try {
      const child = snapshot({ villageCode: V202, schoolId: null });
      const event = childEvent("child.registered", child);
      // The relay publishes with job id = event id; a replay from the dead-letter queue comes with another id.
      await queue.add(event.type, event, { ...eventJobOptions, jobId: event.id });
      await queue.add(event.type, event, { ...eventJobOptions, jobId: `${event.id}-replay` });
      await expect.poll(async () => (await h.prisma.inboxEvent.count({ where: { eventId: event.id } })) === 1 && (await queue.getCompletedCount()) === 2, { timeout: 10_000 }).toBe(true);
      await h.match();
      expect(await openPairings(child.id)).toHaveLength(1);
    } finally {
      await consumer.close();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});

describe("approval", () => {
  it("approves a proposal, publishes pairing.started with what visits and notifications need, and keeps one mentor per child", async () => {
    const helper = await addHelper({ kind: "proxy_parent", name: "刘妈妈", phone: "13907316666", orgUnitCode: "360999101203", capacity: 2 });
    const child = snapshot({ villageCode: "360999101203", schoolId: null, name: "陈小雨" });
    await h.deliver(childEvent("child.registered", child));
    await h.match();
    const [proposal] = await openPairings(child.id);
    expect(proposal).toMatchObject({ helperId: helper.id, matchReason: "same_village" });

    // Teachers and village directors cannot approve; another township cannot see it.
    expect((await api("POST", `/api/v1/pairings/${proposal!.id}/approve`, "changling.teacher")).status).toBe(403);
    expect((await api("POST", `/api/v1/pairings/${proposal!.id}/approve`, "shimen.supervisor")).status).toBe(404);

    const approved = await api("POST", `/api/v1/pairings/${proposal!.id}/approve`, "changling.supervisor");
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    expect(approved.body).toMatchObject({ status: "active", statusLabel: "结对中", startDate: "2026-11-22" });
    expect(JSON.parse(approved.headers["x-shouhu-audit"] as string)).toEqual({ action: "pairing-decision", childIds: [child.id] });

    const started = (await h.outbox("pairing.started")).find((e) => e.subject === child.id)!;
    expect(started.orgUnit).toBe("360999101203");
    expect(started.data).toMatchObject({
      pairingId: proposal!.id,
      kind: "mentor",
      child: { id: child.id, name: "陈小雨", villageCode: "360999101203", townshipCode: CHANGLING },
      helper: { id: helper.id, name: "刘妈妈", phone: "13907316666", kind: "proxy_parent" },
      startDate: "2026-11-22",
    });

    expect((await api("POST", `/api/v1/pairings/${proposal!.id}/approve`, "changling.supervisor")).body.error.code).toBe("NOT_PROPOSED");
    // The database itself refuses a second open mentor pairing for the child.
    await expect(
      h.prisma.pairing.create({ data: { childId: child.id, helperId: helper.id, kind: "mentor", status: "proposed" } }),
    ).rejects.toThrow();
  });

  it("never exceeds a helper's capacity under concurrent approvals", async () => {
    const helper = await addHelper({ kind: "volunteer", name: "并发志愿者", phone: "13907317777", orgUnitCode: "360999101204", capacity: 2 });
    const children = Array.from({ length: 6 }, () => snapshot({ villageCode: "360999101204", schoolId: null }));
    for (const c of children) await h.deliver(childEvent("child.registered", c));
    // Proposals from several runs (e.g. made before the capacity was lowered) all point at one helper.
    const proposals = await Promise.all(
      children.map((c) => h.prisma.pairing.create({ data: { childId: c.id, helperId: helper.id, kind: "mentor", status: "proposed" } })),
    );
    const results = await Promise.all(proposals.map((p) => api("POST", `/api/v1/pairings/${p.id}/approve`, "changling.supervisor")));
    expect(results.filter((r) => r.status === 200)).toHaveLength(2);
    const refused = results.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(4);
    for (const r of refused) expect(r.body.error.code).toBe("HELPER_FULL");
    expect(await h.prisma.pairing.count({ where: { helperId: helper.id, status: "active" } })).toBe(2);
  });

  it("approves and rejects in bulk, reporting each proposal", async () => {
    const a = await addHelper({ kind: "volunteer", name: "批量甲", phone: "13907318881", orgUnitCode: "360999101205", capacity: 1 });
    await addHelper({ kind: "volunteer", name: "批量乙", phone: "13907318882", orgUnitCode: "360999101205", capacity: 1 });
    const kids = [snapshot({ villageCode: "360999101205", schoolId: null }), snapshot({ villageCode: "360999101205", schoolId: null })];
    for (const c of kids) await h.deliver(childEvent("child.registered", c));
    await h.match();
    const proposals = (await Promise.all(kids.map((c) => openPairings(c.id)))).flat();
    expect(proposals).toHaveLength(2);
    const toReject = proposals.find((p) => p.helperId === a.id)!;
    const toApprove = proposals.find((p) => p.helperId !== a.id)!;

    const rejected = await api("POST", "/api/v1/pairings/decisions", "changling.supervisor", { ids: [toReject.id], action: "reject", note: "距离太远" });
    expect(rejected.body).toMatchObject({ succeeded: 1, failed: 0 });
    const bulk = await api("POST", "/api/v1/pairings/decisions", "changling.supervisor", { ids: [toApprove.id, toReject.id], action: "approve" });
    expect(bulk.body).toMatchObject({ succeeded: 1, failed: 1 });
    expect(bulk.body.results.find((r: { id: string }) => r.id === toReject.id).error.code).toBe("NOT_PROPOSED");
    expect((await api("POST", "/api/v1/pairings/decisions", "changling.supervisor", { ids: [], action: "approve" })).status).toBe(400);

    // The rejected child is matched again, never with the rejected helper (the other one is full now).
    await h.match();
    const again = await openPairings(toReject.childId);
    expect(again.every((p) => p.helperId !== a.id)).toBe(true);
  });
});

describe("life cycle", () => {
  it("ends active pairings when the child exits, publishing pairing.ended", async () => {
    const helper = await addHelper({ kind: "volunteer", name: "退出测试", phone: "13907319991", orgUnitCode: "360999101206" });
    const child = snapshot({ villageCode: "360999101206", schoolId: null });
    await h.deliver(childEvent("child.registered", child));
    await h.match();
    const [proposal] = await openPairings(child.id);
    await api("POST", `/api/v1/pairings/${proposal!.id}/approve`, "changling.supervisor");

    await h.deliver(exitEvent({ ...child, revision: 2 }));
    expect(await openPairings(child.id)).toHaveLength(0);
    const ended = (await h.outbox("pairing.ended")).find((e) => e.subject === child.id)!;
    expect(ended.data).toMatchObject({ reason: "child_exited", helper: { id: helper.id }, endDate: "2026-11-22" });
    // A stale update arriving after the exit does not bring the child back.
    await h.deliver(childEvent("child.updated", { ...child, revision: 1 }));
    expect((await h.prisma.child.findUnique({ where: { id: child.id } }))!.status).toBe("exited");
  });

  it("re-proposes a deactivated helper's children to others, and lists who could not be re-paired", async () => {
    const village = "360999101207";
    const leaving = await addHelper({ kind: "teacher", name: "调离教师", phone: "13907310011", orgUnitCode: CHANGLING, schoolId: "S360999101007", capacity: 3 });
    const children = [0, 1, 2].map(() => snapshot({ villageCode: village, schoolId: "S360999101007" }));
    for (const c of children) await h.deliver(childEvent("child.registered", c));
    await h.match();
    for (const c of children) {
      const [p] = await openPairings(c.id);
      expect(p!.helperId).toBe(leaving.id);
      await api("POST", `/api/v1/pairings/${p!.id}/approve`, "changling.supervisor");
    }
    // Someone takes over part of the load: a volunteer in the village with room for two.
    const successor = await addHelper({ kind: "volunteer", name: "接手志愿者", phone: "13907310022", orgUnitCode: village, capacity: 2 });
    // Everyone else in the township is full, so the third child cannot be re-paired.
    await h.prisma.helper.updateMany({ where: { id: { notIn: [successor.id, leaving.id] } }, data: { active: false } });

    const res = await api("POST", `/api/v1/helpers/${leaving.id}/deactivate`, "changling.supervisor", { reason: "学年交接：调往县城" });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.endedPairings).toHaveLength(3);
    expect((await h.outbox("pairing.ended")).filter((e) => (e.data as { reason: string }).reason === "helper_deactivated")).toHaveLength(3);

    await h.match();
    const reproposed = (await Promise.all(children.map((c) => openPairings(c.id)))).flat();
    expect(reproposed).toHaveLength(2);
    expect(reproposed.every((p) => p.helperId === successor.id && p.status === "proposed")).toBe(true);

    const unpaired = await api("GET", `/api/v1/unpaired-children?orgUnit=${village}`, "changling.supervisor");
    expect(unpaired.status).toBe(200);
    const left = unpaired.body.items.filter((i: { id: string }) => children.some((c) => c.id === i.id));
    expect(left).toHaveLength(3);
    const withoutProposal = left.filter((i: { proposal: unknown }) => i.proposal === null);
    expect(withoutProposal).toHaveLength(1);
    expect(withoutProposal[0].note).toContain("名额已满");
    const summary = await api("GET", `/api/v1/unpaired-children/summary?orgUnit=${village}`, "changling.supervisor");
    expect(summary.body.orgUnits).toEqual([{ villageCode: village, children: 3, paired: 0, proposed: 2, unmatched: 1 }]);

    // Bring the township back for later tests.
    await h.prisma.helper.updateMany({ where: { deactivationReason: null }, data: { active: true } });
  });

  it("lets a teacher see only their school's children and the children paired to them", async () => {
    const mineSchool = snapshot({ villageCode: "360999101208", schoolId: "S360999101001" });
    const otherSchool = snapshot({ villageCode: "360999101208", schoolId: "S360999101009" });
    for (const c of [mineSchool, otherSchool]) await h.deliver(childEvent("child.registered", c));
    await h.match();
    const list = await api("GET", "/api/v1/unpaired-children?orgUnit=360999101208", "changling.teacher");
    const ids = list.body.items.map((i: { id: string }) => i.id);
    expect(ids).toContain(mineSchool.id);
    expect(ids).not.toContain(otherSchool.id);
    const pairings = await api("GET", "/api/v1/pairings?orgUnit=360999101208", "changling.teacher");
    expect(pairings.body.items.every((p: { child: { schoolId: string }; helper: { username: string } }) => p.child.schoolId === "S360999101001" || p.helper.username === "changling.teacher")).toBe(true);
  });

  it("re-publishes active pairings as snapshot events for a reporting rebuild", async () => {
    expect((await api("POST", "/api/v1/snapshots/pairing", "changling.supervisor")).status).toBe(403);
    const res = await api("POST", "/api/v1/snapshots/pairing", "county.admin");
    expect(res.status).toBe(201);
    const active = await h.prisma.pairing.count({ where: { status: "active" } });
    expect(res.body.events).toBe(active);
    const snapshots = await h.outbox("snapshot.pairing");
    expect(snapshots.filter((e) => (e.data as { runId: string }).runId === res.body.runId)).toHaveLength(active);
    expect((await h.outbox("snapshot.completed")).at(-1)!.data).toEqual({ runId: res.body.runId, producer: "pairing", events: active });
  });

  it("runs matching on demand for a township and keeps other townships out", async () => {
    expect((await api("POST", "/api/v1/pairing-runs", "shimen.supervisor", { orgUnit: CHANGLING })).status).toBe(403);
    expect((await api("POST", "/api/v1/pairing-runs", "changling.teacher", { orgUnit: CHANGLING })).status).toBe(403);
    expect((await api("POST", "/api/v1/pairing-runs", "changling.supervisor", { orgUnit: "36099910120" })).body.error.details[0].field).toBe("orgUnit");
    const run = await api("POST", "/api/v1/pairing-runs", "changling.supervisor", { orgUnit: CHANGLING, replan: true });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    expect(run.body.runs.map((r: { kind: string }) => r.kind).sort()).toEqual(["mentor", "peer"]);
    const runs = await api("GET", "/api/v1/pairing-runs", "changling.supervisor");
    expect(runs.body.items.length).toBeGreaterThan(0);
  });
});
