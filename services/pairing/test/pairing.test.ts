import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import { eventsQueue } from "@shouhu/contracts";
import { createEventConsumer, eventJobOptions } from "@shouhu/messaging";
import { testPrefix } from "@shouhu/testing";
import type { Tx } from "../src/data/db.js";
import { childEventHandlers } from "../src/events/child-events.js";
import { childEvent, exitEvent, snapshot, pairingTest, type PairingHarness } from "./harness.js";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const CHANGLING = "360999101";
const V201 = "360999101201";
const V202 = "360999101202";
const SCHOOL = "S360999101001";

let h: PairingHarness;

pairingTest("pairing").beforeAll(async ({ pairing }) => {
  h = pairing;
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
    const teacher = await addHelper({
      kind: "teacher",
      name: "王 老师",
      phone: "139-0731-1111",
      orgUnitCode: CHANGLING,
      schoolId: SCHOOL,
      username: "changling.teacher",
    });
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
      expect(
        res.body.error.details.map((d: { field: string }) => d.field),
        JSON.stringify(res.body),
      ).toContain(field);
    }
  });

  it("keeps helpers inside jurisdiction: other townships cannot see or register them", async () => {
    const helper = await addHelper({ kind: "volunteer", name: "孙志愿", phone: "13907314444", orgUnitCode: V202 });
    expect((await api("GET", `/api/v1/helpers/${helper.id}`, "shimen.supervisor")).status).toBe(404);
    expect((await api("GET", `/api/v1/helpers?orgUnit=${CHANGLING}`, "shimen.supervisor")).status).toBe(403);
    const mine = await api("GET", "/api/v1/helpers", "shimen.supervisor");
    expect(mine.body.items.find((x: { id: string }) => x.id === helper.id)).toBeUndefined();
    expect(
      (await api("POST", "/api/v1/helpers", "shimen.supervisor", { kind: "volunteer", name: "越界", phone: "13907315555", orgUnitCode: V202 })).status,
    ).toBe(403);
    expect(
      (await api("POST", "/api/v1/helpers", "changling.teacher", { kind: "volunteer", name: "无权", phone: "13907315555", orgUnitCode: V202 })).status,
    ).toBe(403);
    // Inspectors read without contact details.
    const seen = await api("GET", `/api/v1/helpers/${helper.id}`, "county.inspector");
    expect(seen.body.phone).toBeNull(); // inspectors: no contact details at all
  });

  it("teachers see the helpers of their own school only", async () => {
    const own = await api("POST", "/api/v1/helpers", "changling.supervisor", {
      kind: "teacher",
      name: "本校老师",
      phone: "13907316001",
      orgUnitCode: "360999101",
      schoolId: "S360999101001",
    });
    const other = await api("POST", "/api/v1/helpers", "county.admin", {
      kind: "teacher",
      name: "外校老师",
      phone: "13907316002",
      orgUnitCode: "360999102",
      schoolId: "S360999102001",
    });
    const village = await api("POST", "/api/v1/helpers", "changling.supervisor", {
      kind: "volunteer",
      name: "村志愿者",
      phone: "13907316003",
      orgUnitCode: V202,
    });
    for (const r of [own, other, village]) expect(r.status).toBe(201);
    const listed = await api("GET", "/api/v1/helpers?limit=200", "changling.teacher");
    expect(listed.status).toBe(200);
    const ids = listed.body.items.map((x: { id: string }) => x.id);
    expect(ids).toContain(own.body.id);
    expect(ids).not.toContain(village.body.id);
    expect(ids).not.toContain(other.body.id);
    expect(listed.body.items.every((x: { schoolId: string | null }) => x.schoolId === "S360999101001")).toBe(true);
    expect((await api("GET", "/api/v1/helpers?schoolId=S360999102001", "changling.teacher")).body.items).toEqual([]);
    expect((await api("GET", `/api/v1/helpers/${village.body.id}`, "changling.teacher")).status).toBe(404);
    expect((await api("GET", `/api/v1/helpers/${own.body.id}`, "changling.teacher")).status).toBe(200);
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
      await expect
        .poll(async () => (await h.prisma.inboxEvent.count({ where: { eventId: event.id } })) === 1 && (await queue.getCompletedCount()) === 2, {
          timeout: 10_000,
        })
        .toBe(true);
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
    const helper = await addHelper({
      kind: "proxy_parent",
      name: "刘妈妈",
      phone: "13907316666",
      orgUnitCode: "360999101203",
      capacity: 2,
      sex: "female",
      birthDate: "1980-05-01",
    });
    const child = snapshot({ villageCode: "360999101203", schoolId: null, name: "陈小雨", birthDate: "2016-03-01" });
    await h.deliver(childEvent("child.registered", child));
    await h.match();
    const [proposal] = await openPairings(child.id);
    expect(proposal).toMatchObject({ helperId: helper.id, matchReason: "same_village" });

    // Teachers and village directors cannot approve; another township cannot see it.
    expect((await api("POST", `/api/v1/pairings/${proposal!.id}/approve`, "changling.teacher")).status).toBe(403);
    expect((await api("POST", `/api/v1/pairings/${proposal!.id}/approve`, "shimen.supervisor")).status).toBe(404);

    const approved = await api("POST", `/api/v1/pairings/${proposal!.id}/approve`, "changling.supervisor");
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    // What the approver weighs: how near (by the register's geography) and the age gap, never the birth dates.
    expect(approved.body).toMatchObject({ status: "active", statusLabel: "结对中", startDate: "2026-11-22", proximityLabel: "同村", ageGapYears: 35 });
    expect(JSON.stringify(approved.body)).not.toContain("1980-05-01");
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
    await expect(h.prisma.pairing.create({ data: { childId: child.id, helperId: helper.id, kind: "mentor", status: "proposed" } })).rejects.toThrow();
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
    const leaving = await addHelper({
      kind: "teacher",
      name: "调离教师",
      phone: "13907310011",
      orgUnitCode: CHANGLING,
      schoolId: "S360999101007",
      capacity: 3,
    });
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
    expect(summary.body.orgUnits).toEqual([{ villageCode: village, children: 3, paired: 0, proposed: 2, unmatched: 1, registerUnmatched: 0 }]);

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

    // A child of another school becomes visible to the teacher once paired to them, and only then.
    const teacher = (await h.prisma.helper.findFirst({ where: { username: "changling.teacher" } }))!;
    const [other] = await openPairings(otherSchool.id);
    if (other) await h.prisma.pairing.update({ where: { id: other.id }, data: { status: "withdrawn" } });
    const hidden = await api("GET", "/api/v1/pairings?orgUnit=360999101208", "changling.teacher");
    expect(hidden.body.items.map((p: { child: { id: string } }) => p.child.id)).not.toContain(otherSchool.id);
    // (The supervisor proposes the teacher by hand, e.g. after a hand-over; the proposal is approved as usual.)
    const proposal = await h.prisma.pairing.create({ data: { childId: otherSchool.id, helperId: teacher.id, kind: "mentor", status: "proposed" } });
    expect((await api("GET", `/api/v1/pairings/${proposal.id}`, "changling.teacher")).status).toBe(200);
    const approved = await api("POST", `/api/v1/pairings/${proposal.id}/approve`, "changling.supervisor");
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    const pairings = await api("GET", "/api/v1/pairings?orgUnit=360999101208&status=active", "changling.teacher");
    expect(pairings.body.items.map((p: { child: { id: string } }) => p.child.id)).toContain(otherSchool.id);
    const mine = await api("GET", "/api/v1/pairings?mine=true", "changling.teacher");
    expect(mine.body.items.map((p: { id: string }) => p.id)).toContain(proposal.id);
    for (const p of pairings.body.items) expect(p.child.schoolId === "S360999101001" || p.helper.username === "changling.teacher").toBe(true);
    // A pairing of another school's child with someone else stays hidden.
    const stranger = snapshot({ villageCode: "360999101208", schoolId: "S360999101009" });
    await h.deliver(childEvent("child.registered", stranger));
    const volunteer = await addHelper({ kind: "volunteer", name: "他校志愿者", phone: "13907313101", orgUnitCode: "360999101208", capacity: 1 });
    const strangers = await h.prisma.pairing.create({ data: { childId: stranger.id, helperId: volunteer.id, kind: "mentor", status: "proposed" } });
    expect((await api("GET", `/api/v1/pairings/${strangers.id}`, "changling.teacher")).status).toBe(404);
    expect((await api("GET", `/api/v1/pairings/${strangers.id}`, "changling.supervisor")).status).toBe(200);
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

describe("jurisdiction on pairings", () => {
  it("hides another township's pairings and refuses every decision on them (404 on the record, 403 on the scope)", async () => {
    const village = "360999101221";
    const helper = await addHelper({ kind: "volunteer", name: "辖区志愿者", phone: "13907313001", orgUnitCode: village, capacity: 3 });
    const [a, b] = [snapshot({ villageCode: village, schoolId: null }), snapshot({ villageCode: village, schoolId: null })];
    for (const c of [a!, b!]) await h.deliver(childEvent("child.registered", c));
    await h.match();
    const [proposed] = await openPairings(a!.id);
    const [toApprove] = await openPairings(b!.id);
    expect((await api("POST", `/api/v1/pairings/${toApprove!.id}/approve`, "changling.supervisor")).status).toBe(200);

    // Reads: the record does not exist for another township; asking for Changling's scope is forbidden.
    for (const id of [proposed!.id, toApprove!.id]) expect((await api("GET", `/api/v1/pairings/${id}`, "shimen.supervisor")).status).toBe(404);
    expect((await api("GET", `/api/v1/pairings?orgUnit=${CHANGLING}`, "shimen.supervisor")).status).toBe(403);
    expect((await api("GET", `/api/v1/unpaired-children?orgUnit=${CHANGLING}`, "shimen.supervisor")).status).toBe(403);
    expect((await api("GET", `/api/v1/unpaired-children/summary?orgUnit=${CHANGLING}`, "shimen.supervisor")).status).toBe(403);
    const own = await api("GET", "/api/v1/pairings", "shimen.supervisor");
    expect(own.status).toBe(200);
    expect(own.body.items.filter((p: { child: { villageCode: string } }) => p.child.villageCode.startsWith(CHANGLING))).toEqual([]);
    // A village director sees only their own village, not a neighbour's.
    expect((await api("GET", `/api/v1/pairings/${toApprove!.id}`, "changling.director")).status).toBe(404);

    // Decisions: approve, reject, bulk, end and the helper's hand-over are all refused, and nothing changes.
    expect((await api("POST", `/api/v1/pairings/${proposed!.id}/approve`, "shimen.supervisor")).status).toBe(404);
    expect((await api("POST", `/api/v1/pairings/${proposed!.id}/reject`, "shimen.supervisor", { note: "越权" })).status).toBe(404);
    expect((await api("POST", `/api/v1/pairings/${toApprove!.id}/end`, "shimen.supervisor", { note: "越权" })).status).toBe(404);
    const bulk = await api("POST", "/api/v1/pairings/decisions", "shimen.supervisor", { ids: [proposed!.id], action: "approve" });
    expect(bulk.body).toMatchObject({ succeeded: 0, failed: 1, results: [{ id: proposed!.id, ok: false, error: { code: "NOT_FOUND" } }] });
    expect((await api("POST", `/api/v1/helpers/${helper.id}/deactivate`, "shimen.supervisor", { reason: "越权" })).status).toBe(404);
    expect((await api("PATCH", `/api/v1/helpers/${helper.id}`, "shimen.supervisor", { capacity: 1 })).status).toBe(404);
    expect((await h.prisma.pairing.findUnique({ where: { id: proposed!.id } }))!.status).toBe("proposed");
    expect((await h.prisma.pairing.findUnique({ where: { id: toApprove!.id } }))!.status).toBe("active");
    expect((await h.prisma.helper.findUnique({ where: { id: helper.id } }))!).toMatchObject({ active: true, capacity: 3 });

    // The inspector (county, read-only) sees the pairing without the helper's phone, and cannot decide.
    const inspected = await api("GET", `/api/v1/pairings/${toApprove!.id}`, "county.inspector");
    expect(inspected.body.helper.phone).toBeNull();
    expect((await api("POST", `/api/v1/pairings/${proposed!.id}/approve`, "county.inspector")).status).toBe(403);
  });
});

describe("helpers moving township", () => {
  it("refuses to move a helper with active pairings to another township, and withdraws their proposals when they move free", async () => {
    const village = "360999101231";
    const helper = await addHelper({ kind: "volunteer", name: "搬家志愿者", phone: "13907313201", orgUnitCode: village, capacity: 2 }, "county.admin");
    const [a, b] = [snapshot({ villageCode: village, schoolId: null }), snapshot({ villageCode: village, schoolId: null })];
    for (const c of [a!, b!]) await h.deliver(childEvent("child.registered", c));
    await h.match();
    const [pa] = await openPairings(a!.id);
    const [pb] = await openPairings(b!.id);
    expect([pa!.helperId, pb!.helperId]).toEqual([helper.id, helper.id]);
    expect((await api("POST", `/api/v1/pairings/${pa!.id}/approve`, "county.admin")).status).toBe(200);

    const refused = await api("PATCH", `/api/v1/helpers/${helper.id}`, "county.admin", { orgUnitCode: "360999102201" });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: "HELPER_HAS_PAIRINGS", details: { field: "orgUnitCode" } });

    expect((await api("POST", `/api/v1/pairings/${pa!.id}/end`, "county.admin", { note: "家长要求" })).status).toBe(200);
    const moved = await api("PATCH", `/api/v1/helpers/${helper.id}`, "county.admin", { orgUnitCode: "360999102201" });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect((await h.prisma.pairing.findUnique({ where: { id: pb!.id } }))!.status).toBe("withdrawn");
    expect(await h.prisma.matchRequest.count({ where: { townshipCode: CHANGLING } })).toBe(1);
  });
});

describe("matching rules through the service", () => {
  // Townships of their own (no other test's helpers or children), worked by the county admin.
  const school = "S360999105001";
  const kid = (village: string, over: Parameters<typeof snapshot>[0] = {}) =>
    snapshot({ villageCode: village, townshipCode: village.slice(0, 9), schoolId: null, schoolName: null, ...over });
  const register = async (...children: ReturnType<typeof snapshot>[]) => {
    for (const c of children) await h.deliver(childEvent("child.registered", c));
    await h.match();
  };
  const proposalOf = async (childId: string, kind: "mentor" | "peer" = "mentor") => (await openPairings(childId)).find((p) => p.kind === kind) ?? null;

  it("pairs a peer buddy only from the same school, of the same sex, at most two years apart, nearest in age", async () => {
    const village = "360999105201";
    const peer = (name: string, sex: string, birthDate: string, schoolId = school) =>
      addHelper({ kind: "peer_student", name, sex, birthDate, orgUnitCode: village, schoolId }, "county.admin");
    await peer("男同学", "male", "2015-04-01");
    await peer("外校女同学", "female", "2015-04-01", "S360999105009");
    await peer("大三岁女同学", "female", "2012-02-01");
    const farther = await peer("大一岁半女同学", "female", "2013-09-07");
    const nearest = await peer("同龄女同学", "female", "2015-05-07");
    const girl = kid(village, { sex: "female", birthDate: "2015-03-07", schoolId: school, schoolName: "五号乡中心小学" });
    const outOfSchool = kid(village, { sex: "female", birthDate: "2015-03-07" });
    await register(girl, outOfSchool);
    expect(await proposalOf(girl.id, "peer")).toMatchObject({ helperId: nearest.id, matchReason: "peer" });
    // A second girl of the same age gets the only other eligible peer.
    const second = kid(village, { sex: "female", birthDate: "2015-01-01", schoolId: school, schoolName: "五号乡中心小学" });
    await register(second);
    expect(await proposalOf(second.id, "peer")).toMatchObject({ helperId: farther.id });
    // A third has no one left: listed as unpaired for peers, with the reason; the child out of school is not on the peer list.
    const third = kid(village, { sex: "female", birthDate: "2015-06-01", schoolId: school, schoolName: "五号乡中心小学" });
    await register(third);
    expect(await proposalOf(third.id, "peer")).toBeNull();
    expect(await proposalOf(outOfSchool.id, "peer")).toBeNull();
    const list = await api("GET", `/api/v1/unpaired-children?orgUnit=${village}&kind=peer`, "county.admin");
    const listed = list.body.items.filter((i: { proposal: unknown }) => i.proposal === null);
    expect(listed.map((i: { id: string }) => i.id)).toEqual([third.id]);
    expect(listed[0].note).toBe("本校同性别、年龄相差2岁以内的同伴学生均已结对");
  });

  it("takes adults from the child's village or school first, then the township, and spreads load evenly", async () => {
    const village = "360999106202";
    const local1 = await addHelper({ kind: "volunteer", name: "本村甲", phone: "13907315001", orgUnitCode: village, capacity: 3 }, "county.admin");
    const local2 = await addHelper({ kind: "proxy_parent", name: "本村乙", phone: "13907315002", orgUnitCode: village, capacity: 3 }, "county.admin");
    const elsewhere = await addHelper({ kind: "volunteer", name: "外村丙", phone: "13907315003", orgUnitCode: "360999106203", capacity: 3 }, "county.admin");
    const children = [0, 1, 2, 3].map(() => kid(village));
    await register(...children);
    const proposals = await Promise.all(children.map((c) => proposalOf(c.id)));
    const per = (id: string) => proposals.filter((p) => p!.helperId === id).length;
    expect([per(local1.id), per(local2.id), per(elsewhere.id)]).toEqual([2, 2, 0]);
    expect(proposals.every((p) => p!.matchReason === "same_village")).toBe(true);
    // Two more: the village's last two places go first, only then the other village's helper.
    const more = [0, 1, 2].map(() => kid(village));
    await register(...more);
    const reasons = (await Promise.all(more.map((c) => proposalOf(c.id)))).map((p) => p!.matchReason).sort();
    expect(reasons).toEqual(["same_village", "same_village", "township"]);
  });

  it("serves the high-risk, both-parents-away child first when places run short, and says why the other waits", async () => {
    const village = "360999107204";
    const only = await addHelper({ kind: "volunteer", name: "唯一名额", phone: "13907315004", orgUnitCode: village, capacity: 1 }, "county.admin");
    const ordinary = kid(village, { riskLevel: "low", leftBehindType: "one_parent_away" });
    const urgent = kid(village, { riskLevel: "high", leftBehindType: "both_parents_away" });
    // The ordinary child registers first: first come is not first served.
    await h.deliver(childEvent("child.registered", ordinary));
    await register(urgent);
    expect(await proposalOf(urgent.id)).toMatchObject({ helperId: only.id });
    // Nobody else in the township has a place; the ordinary child waits with the reason given.
    const list = await api("GET", `/api/v1/unpaired-children?orgUnit=${village}`, "county.admin");
    const waiting = list.body.items.find((i: { id: string }) => i.id === ordinary.id);
    expect(waiting).toMatchObject({ proposal: null, waiting: "未能匹配" });
    expect(waiting.note).toContain("名额已满");
  });
});

describe("API contract", () => {
  it("documents every route in OpenAPI, with request schemas", async () => {
    const res = await h.app.inject({ method: "GET", url: "/openapi.json" });
    expect(res.statusCode).toBe(200);
    const doc = res.json() as { paths: Record<string, Record<string, { summary?: string; requestBody?: unknown; parameters?: { name: string }[] }>> };
    const routes: [string, string][] = [
      ["/api/v1/helpers", "post"],
      ["/api/v1/helpers", "get"],
      ["/api/v1/helpers/{id}", "get"],
      ["/api/v1/helpers/{id}", "patch"],
      ["/api/v1/helpers/{id}/deactivate", "post"],
      ["/api/v1/helpers/{id}/activate", "post"],
      ["/api/v1/pairings", "get"],
      ["/api/v1/pairings/{id}", "get"],
      ["/api/v1/pairings/{id}/approve", "post"],
      ["/api/v1/pairings/{id}/reject", "post"],
      ["/api/v1/pairings/{id}/end", "post"],
      ["/api/v1/pairings/decisions", "post"],
      ["/api/v1/pairing-runs", "post"],
      ["/api/v1/pairing-runs", "get"],
      ["/api/v1/unpaired-children", "get"],
      ["/api/v1/unpaired-children/summary", "get"],
      ["/api/v1/snapshots/pairing", "post"],
    ];
    for (const [path, method] of routes) expect(doc.paths[path]?.[method]?.summary, `${method} ${path}`).toBeTruthy();
    expect(JSON.stringify(doc.paths["/api/v1/helpers"]!.post!.requestBody)).toContain("capacity");
    expect(doc.paths["/api/v1/pairings"]!.get!.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(["orgUnit", "status", "kind", "childId"]));
    expect(JSON.stringify(doc.paths["/api/v1/pairings/decisions"]!.post!.requestBody)).toContain("action");
  });

  it("answers bad input with 400 naming the field, never a 500", async () => {
    const cases: [method: "GET" | "POST" | "PATCH", url: string, payload: unknown, field: string][] = [
      ["GET", "/api/v1/pairings/not-a-uuid", undefined, "id"],
      ["POST", "/api/v1/pairings/not-a-uuid/approve", undefined, "id"],
      ["GET", "/api/v1/pairings?status=maybe", undefined, "status"],
      ["GET", "/api/v1/pairings?limit=0", undefined, "limit"],
      ["GET", "/api/v1/pairings?orgUnit=3609", undefined, "orgUnit"],
      ["POST", "/api/v1/pairings/decisions", { ids: ["x"], action: "approve" }, "ids"],
      ["POST", "/api/v1/pairings/decisions", { ids: [randomUUID()], action: "maybe" }, "action"],
      ["POST", `/api/v1/pairings/${randomUUID()}/reject`, { note: "长".repeat(501) }, "note"],
      ["POST", `/api/v1/helpers/${randomUUID()}/deactivate`, { reason: "" }, "reason"],
      ["PATCH", `/api/v1/helpers/${randomUUID()}`, { capacity: 51 }, "capacity"],
      ["PATCH", `/api/v1/helpers/${randomUUID()}`, { kind: "teacher" }, "kind"],
      ["GET", "/api/v1/unpaired-children?cursor=abc", undefined, "cursor"],
      ["GET", "/api/v1/unpaired-children?kind=uncle", undefined, "kind"],
      ["POST", "/api/v1/pairing-runs", {}, "orgUnit"],
    ];
    for (const [method, url, payload, field] of cases) {
      const res = await api(method, url, "changling.supervisor", payload);
      expect(res.status, `${method} ${url} ${JSON.stringify(res.body)}`).toBe(400);
      // The field is named in `details` (an unknown key is reported on its object, with the key in the message).
      const named = res.body.error.details.some(
        (d: { field: string; message: string }) => d.field.split(".").includes(field) || d.message.includes(`"${field}"`),
      );
      expect(named, `${method} ${url} ${JSON.stringify(res.body)}`).toBe(true);
    }
    // Unknown records are 404, not 500.
    expect((await api("POST", `/api/v1/pairings/${randomUUID()}/approve`, "changling.supervisor")).status).toBe(404);
  });
});
