import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { childEvent, snapshot, pairingTest, type PairingHarness } from "./harness.js";

const V201 = "360999101201";
const SCHOOL = "S360999101001";
let h: PairingHarness;
pairingTest("pairing-manual").beforeAll(async ({ pairing }) => {
  h = pairing;
});

async function api(method: "GET" | "POST", url: string, user: string, payload?: unknown) {
  const res = await h.app.inject({ method, url, headers: await h.as(user), ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.json() as any };
}
async function addHelper(body: Record<string, unknown>) {
  const res = await api("POST", "/api/v1/helpers", "changling.supervisor", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; name: string };
}
const events = (type: string, subject: string) => h.prisma.outboxEvent.count({ where: { type, subject } });

describe("pairing by hand, transfer and end with a reason", () => {
  it("a supervisor pairs a child by hand over the optimiser's proposal; transfer ends one and starts the other; end needs a reason", async () => {
    const a = await addHelper({ kind: "volunteer", name: "甲志愿者", phone: "13907314001", orgUnitCode: V201, capacity: 1 });
    const b = await addHelper({ kind: "proxy_parent", name: "乙妈妈", phone: "13907314002", orgUnitCode: V201, capacity: 2 });
    const peer = await addHelper({ kind: "peer_student", name: "小伙伴", sex: "male", birthDate: "2014-05-01", orgUnitCode: V201, schoolId: SCHOOL });
    const child = snapshot({ villageCode: V201, schoolId: SCHOOL });
    const other = snapshot({ villageCode: V201, schoolId: SCHOOL });
    for (const c of [child, other]) await h.deliver(childEvent("child.registered", c));
    await h.match();
    const proposals = await h.prisma.pairing.findMany({ where: { childId: child.id, status: "proposed" } });

    const made = await api("POST", "/api/v1/pairings", "changling.supervisor", { childId: child.id, helperId: a.id, note: "家长点名" });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    expect(made.body).toMatchObject({ status: "active", kind: "mentor", helper: { id: a.id } });
    for (const p of proposals.filter((p) => p.kind === "mentor"))
      expect((await h.prisma.pairing.findUnique({ where: { id: p.id } }))!.status).toBe("withdrawn");
    expect(await events("pairing.started", child.id)).toBe(1);

    // A second mentor by hand: refused, transfer instead. A full helper: refused. Wrong kind: refused.
    const twice = await api("POST", "/api/v1/pairings", "changling.supervisor", { childId: child.id, helperId: b.id });
    expect(twice.status).toBe(409);
    expect(twice.body.error).toMatchObject({ code: "ALREADY_PAIRED", details: { field: "childId" } });
    expect(twice.body.error.message).toMatch(/移交/);
    const full = await api("POST", "/api/v1/pairings", "changling.supervisor", { childId: other.id, helperId: a.id });
    expect(full.body.error).toMatchObject({ code: "HELPER_FULL", details: { field: "helperId" } });
    const wrongKind = await api("POST", "/api/v1/pairings", "changling.supervisor", { childId: other.id, helperId: peer.id, kind: "mentor" });
    expect(wrongKind.body.error).toMatchObject({ code: "KIND_MISMATCH", details: { field: "helperId" } });
    // A 手拉手 buddy is a pairing kind of its own, beside the mentor.
    const buddy = await api("POST", "/api/v1/pairings", "changling.supervisor", { childId: child.id, helperId: peer.id, kind: "peer" });
    expect(buddy.status, JSON.stringify(buddy.body)).toBe(201);
    expect(buddy.body.kind).toBe("peer");

    // Transfer with a reason: the old ends ("transferred", reason kept), the new starts, both events.
    const noReason = await api("POST", `/api/v1/pairings/${made.body.id}/transfer`, "changling.supervisor", { helperId: b.id });
    expect(noReason.status).toBe(400);
    expect(JSON.stringify(noReason.body.error)).toContain("reason");
    const moved = await api("POST", `/api/v1/pairings/${made.body.id}/transfer`, "changling.supervisor", { helperId: b.id, reason: "甲志愿者外出务工" });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.ended).toMatchObject({ status: "ended", endReason: "transferred", endReasonLabel: "移交其他帮扶人" });
    expect(moved.body.ended.endNote).toContain("甲志愿者外出务工");
    expect(moved.body.started).toMatchObject({ status: "active", helper: { id: b.id } });
    expect(await events("pairing.ended", child.id)).toBe(1);
    expect(await events("pairing.started", child.id)).toBe(3);
    const again = await api("POST", `/api/v1/pairings/${made.body.id}/transfer`, "changling.supervisor", { helperId: a.id, reason: "再次移交" });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("NOT_ACTIVE");

    // End needs a reason.
    expect((await api("POST", `/api/v1/pairings/${moved.body.started.id}/end`, "changling.supervisor", {})).status).toBe(400);
    const ended = await api("POST", `/api/v1/pairings/${moved.body.started.id}/end`, "changling.supervisor", { note: "儿童随父母外出" });
    expect(ended.status).toBe(200);
    expect(ended.body).toMatchObject({ status: "ended", endReason: "manual", endNote: "儿童随父母外出" });
  });

  it("bad input is a 400 naming the field; other townships and roles are refused, nothing stored", async () => {
    const helper = await addHelper({ kind: "volunteer", name: "丙志愿者", phone: "13907314003", orgUnitCode: V201, capacity: 3 });
    const child = snapshot({ villageCode: V201, schoolId: SCHOOL });
    await h.deliver(childEvent("child.registered", child));
    const cases: [unknown, string][] = [
      [{ childId: "x", helperId: helper.id }, "childId"],
      [{ childId: child.id, helperId: "x" }, "helperId"],
      [{ childId: child.id, helperId: helper.id, kind: "friend" }, "kind"],
      [{ childId: child.id, helperId: helper.id, note: "长".repeat(501) }, "note"],
      [{ childId: child.id, helperId: helper.id, extra: 1 }, "extra"],
    ];
    for (const [body, field] of cases) {
      const r = await api("POST", "/api/v1/pairings", "changling.supervisor", body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(r.body.error.details)).toContain(field);
      expect(r.body.error.message).toMatch(/[\u4e00-\u9fa5]/);
    }
    expect((await api("POST", `/api/v1/pairings/${randomUUID()}/transfer`, "changling.supervisor", { helperId: helper.id, reason: "x" })).status).toBe(400);
    expect((await api("POST", "/api/v1/pairings", "shimen.supervisor", { childId: child.id, helperId: helper.id })).status).toBe(404);
    expect((await api("POST", "/api/v1/pairings", "changling.director", { childId: child.id, helperId: helper.id })).status).toBe(403);
    expect((await api("POST", "/api/v1/pairings", "changling.teacher", { childId: child.id, helperId: helper.id })).status).toBe(403);
    expect((await api("POST", "/api/v1/pairings", "changling.supervisor", { childId: randomUUID(), helperId: helper.id })).status).toBe(404);
    expect(await h.prisma.pairing.count({ where: { childId: child.id, status: "active" } })).toBe(0);
  });

  it("two hand pairings of one child at once: one wins, the other is a 409", async () => {
    const x = await addHelper({ kind: "volunteer", name: "丁志愿者", phone: "13907314004", orgUnitCode: V201, capacity: 3 });
    const y = await addHelper({ kind: "volunteer", name: "戊志愿者", phone: "13907314005", orgUnitCode: V201, capacity: 3 });
    const child = snapshot({ villageCode: V201, schoolId: SCHOOL });
    await h.deliver(childEvent("child.registered", child));
    const results = await Promise.all(
      [x, y].map((helper) => api("POST", "/api/v1/pairings", "changling.supervisor", { childId: child.id, helperId: helper.id })),
    );
    expect(results.map((r) => r.status).sort(), JSON.stringify(results)).toEqual([201, 409]);
    expect(await h.prisma.pairing.count({ where: { childId: child.id, status: "active" } })).toBe(1);
  });
});
