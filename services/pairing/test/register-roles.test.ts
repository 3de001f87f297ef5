import { describe, expect, it } from "vitest";
import { childEvent, snapshot, pairingTest, type PairingHarness } from "./harness.js";
import { eventSchemas, roleOf } from "@shouhu/contracts";
import { matchRegisterHelper, registerName } from "../src/domain/register-match.js";

const CHANGLING = "360999101";
const V201 = "360999101201";
const V202 = "360999101202";
const V203 = "360999101203";
const SCHOOL = "S360999101001";
let h: PairingHarness;
pairingTest("pairing-register-roles").beforeAll(async ({ pairing }) => {
  h = pairing;
});

async function api(method: "GET" | "POST", url: string, payload?: unknown, user = "changling.supervisor") {
  const res = await h.app.inject({ method, url, headers: await h.as(user), ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.json() as any };
}
async function addHelper(body: Record<string, unknown>) {
  const res = await api("POST", "/api/v1/helpers", body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string; name: string };
}
const activeMentors = (childId: string) =>
  h.prisma.pairing.findMany({ where: { childId, kind: "mentor", status: "active" }, orderBy: { role: "asc" }, include: { helper: true } });
async function unpairedRow(childId: string) {
  const list = await api("GET", "/api/v1/unpaired-children?kind=mentor&limit=500");
  expect(list.status).toBe(200);
  return list.body.items.find((i: any) => i.id === childId);
}

describe("the register's 帮扶责任人 at import", () => {
  it("decides one person or none: same village first, 多人同名 / 未找到此人 / 已满额 / 已停用 never guessed (pure rules)", () => {
    const c = (id: string, orgUnitCode: string, over: Partial<{ active: boolean; capacity: number; load: number }> = {}) => ({
      id,
      orgUnitCode,
      active: true,
      capacity: 3,
      load: 0,
      ...over,
    });
    const child = { villageCode: V201 };
    expect(matchRegisterHelper(child, [])).toEqual({ issue: "not_found" });
    expect(matchRegisterHelper(child, [c("a", V202), c("b", V201)])).toEqual({ helperId: "b" });
    expect(matchRegisterHelper(child, [c("a", V202), c("b", V203)])).toEqual({ issue: "ambiguous" });
    expect(matchRegisterHelper(child, [c("a", V201), c("b", V201)])).toEqual({ issue: "ambiguous" });
    expect(matchRegisterHelper(child, [c("a", V202)])).toEqual({ helperId: "a" });
    expect(matchRegisterHelper(child, [c("a", V201, { active: false }), c("b", V202)])).toEqual({ helperId: "b" });
    expect(matchRegisterHelper(child, [c("a", V201, { active: false })])).toEqual({ issue: "inactive" });
    expect(matchRegisterHelper(child, [c("a", V201, { load: 3 })])).toEqual({ issue: "full" });
    expect(registerName(" 张　伟（教师） ")).toBe("张伟");
    expect(registerName("  ")).toBeNull();
  });

  it("one match is paired at once (register, pairing.started); none or several are listed for a decision; redelivery and a later rename change nothing paired", async () => {
    const zhang201 = await addHelper({ kind: "volunteer", name: "张伟", phone: "13907315001", orgUnitCode: V201, capacity: 3 });
    await addHelper({ kind: "volunteer", name: "张伟", phone: "13907315002", orgUnitCode: V202, capacity: 3 });
    const li = await addHelper({ kind: "proxy_parent", name: "李芳", phone: "13907315003", orgUnitCode: V201, capacity: 1 });
    const wang = await addHelper({ kind: "volunteer", name: "王停", phone: "13907315004", orgUnitCode: V201, capacity: 3 });
    expect((await api("POST", `/api/v1/helpers/${wang.id}/deactivate`, { reason: "外出务工" })).status).toBe(200);

    const matched = snapshot({ villageCode: V201, schoolId: SCHOOL, helperName: "张 伟" });
    const takesLi = snapshot({ villageCode: V201, helperName: "李芳" });
    const liFull = snapshot({ villageCode: V201, helperName: "李芳" });
    const twoZhang = snapshot({ villageCode: V203, helperName: "张伟" });
    const nobody = snapshot({ villageCode: V201, helperName: "赵无人" });
    const stopped = snapshot({ villageCode: V201, helperName: "王停" });
    const old = snapshot({ villageCode: V201 });
    delete (old as { helperName?: string | null }).helperName; // an event from before the name travelled
    const registered = childEvent("child.registered", matched);
    for (const c of [takesLi, liFull, twoZhang, nobody, stopped, old]) await h.deliver(childEvent("child.registered", c));
    expect(await h.deliver(registered)).toBe("applied");
    expect(await h.deliver(registered)).toBe("duplicate");

    const [pairing] = await activeMentors(matched.id);
    expect(pairing).toMatchObject({ helperId: zhang201.id, role: "primary", matchReason: "register", decidedBy: "登记员" });
    expect((await activeMentors(matched.id)).length).toBe(1);
    const started = (await h.outbox("pairing.started")).filter((e) => e.subject === matched.id);
    expect(started).toHaveLength(1);
    expect(started[0]!.data).toMatchObject({ role: "primary", helper: { id: zhang201.id } });
    const shown = await api("GET", `/api/v1/pairings/${pairing!.id}`);
    expect(shown.body).toMatchObject({ matchReasonLabel: "登记表帮扶责任人", role: "primary", roleLabel: "主要帮扶人" });
    expect((await activeMentors(takesLi.id))[0]?.helperId).toBe(li.id);

    // Not paired: listed with the register's name and why, for a supervisor to decide.
    const why = async (c: { id: string }) => {
      const row = await unpairedRow(c.id);
      return [row.registerHelperName, row.registerMatchIssue, row.registerMatchIssueLabel];
    };
    expect(await why(liFull)).toEqual(["李芳", "full", "已满额"]);
    expect(await why(twoZhang)).toEqual(["张伟", "ambiguous", "多人同名"]);
    expect(await why(nobody)).toEqual(["赵无人", "not_found", "未找到此人"]);
    expect(await why(stopped)).toEqual(["王停", "inactive", "已停用"]);
    expect(await why(old)).toEqual([null, null, null]);
    expect(await unpairedRow(matched.id)).toBeUndefined();
    const summary = await api("GET", "/api/v1/unpaired-children/summary?kind=mentor");
    expect(summary.body.totals.registerUnmatched).toBe(4);
    expect(summary.body.orgUnits.find((v: any) => v.villageCode === V203).registerUnmatched).toBe(1);
    // The peer list says nothing of the register's mentor.
    const peers = await api("GET", "/api/v1/unpaired-children?kind=peer&limit=500");
    expect(peers.body.items.every((i: any) => i.registerHelperName === null)).toBe(true);

    // A later update naming someone else leaves the pairing as it is.
    await h.deliver(childEvent("child.updated", { ...matched, helperName: "李芳", revision: 2 }));
    expect((await activeMentors(matched.id)).map((p) => p.helperId)).toEqual([zhang201.id]);
    // An update naming a findable person pairs a child left waiting; an old-format update keeps the name held.
    await h.deliver(childEvent("child.updated", { ...nobody, helperName: "张伟", villageCode: V202, revision: 2 }));
    expect((await activeMentors(nobody.id)).map((p) => p.helper.orgUnitCode)).toEqual([V202]);
    const oldUpdate = { ...stopped, revision: 2 };
    delete (oldUpdate as { helperName?: string | null }).helperName;
    await h.deliver(childEvent("child.updated", oldUpdate));
    expect(await why(stopped)).toEqual(["王停", "inactive", "已停用"]);
    // The supervisor decides in one step: a hand pairing takes the child off the list.
    const byHand = await api("POST", "/api/v1/pairings", { childId: twoZhang.id, helperId: zhang201.id, note: "登记表帮扶人：张伟（长岭村）" });
    expect(byHand.status, JSON.stringify(byHand.body)).toBe(201);
    expect(await unpairedRow(twoZhang.id)).toBeUndefined();

    // A helper registered after the register: the township's next matching run pairs the child it names, before proposing.
    const later = snapshot({ villageCode: V201, helperName: "孙后来" });
    await h.deliver(childEvent("child.registered", later));
    expect(await why(later)).toEqual(["孙后来", "not_found", "未找到此人"]);
    const sun = await addHelper({ kind: "village_cadre", name: "孙后来", phone: "13907315005", orgUnitCode: V202, capacity: 2 });
    await h.match();
    expect((await activeMentors(later.id)).map((p) => [p.helperId, p.matchReason, p.role])).toEqual([[sun.id, "register", "primary"]]);
    expect(await h.prisma.pairing.count({ where: { childId: later.id, status: "proposed" } })).toBe(0);
    expect(await unpairedRow(later.id)).toBeUndefined();
    // Still full, still stopped: listed as before after the run.
    expect(await why(liFull)).toEqual(["李芳", "full", "已满额"]);
    expect(await why(stopped)).toEqual(["王停", "inactive", "已停用"]);
  });
});

describe("primary and secondary helpers", () => {
  it("a secondary beside the primary; 409s in zh-CN; ending the primary leaves the secondary; the optimiser proposes primaries only", async () => {
    const first = await addHelper({ kind: "volunteer", name: "主帮扶", phone: "13907316001", orgUnitCode: V201, capacity: 3 });
    const second = await addHelper({ kind: "proxy_parent", name: "协帮扶", phone: "13907316002", orgUnitCode: V201, capacity: 3 });
    const third = await addHelper({ kind: "proxy_parent", name: "第三人", phone: "13907316003", orgUnitCode: V201, capacity: 3 });
    const child = snapshot({ villageCode: V201 });
    await h.deliver(childEvent("child.registered", child));

    const early = await api("POST", "/api/v1/pairings", { childId: child.id, helperId: second.id, role: "secondary" });
    expect(early.status).toBe(409);
    expect(early.body.error).toMatchObject({ code: "NO_PRIMARY", details: { field: "role" } });
    expect(early.body.error.message).toMatch(/主要帮扶人/);
    const primary = await api("POST", "/api/v1/pairings", { childId: child.id, helperId: first.id });
    expect(primary.status, JSON.stringify(primary.body)).toBe(201);
    expect(primary.body).toMatchObject({ role: "primary", roleLabel: "主要帮扶人" });
    const same = await api("POST", "/api/v1/pairings", { childId: child.id, helperId: first.id, role: "secondary" });
    expect(same.body.error).toMatchObject({ code: "SAME_HELPER", details: { field: "helperId" } });
    const secondary = await api("POST", "/api/v1/pairings", { childId: child.id, helperId: second.id, role: "secondary" });
    expect(secondary.status, JSON.stringify(secondary.body)).toBe(201);
    expect(secondary.body).toMatchObject({ role: "secondary", roleLabel: "协助帮扶人", status: "active" });
    const started = (await h.outbox("pairing.started")).filter((e) => e.subject === child.id);
    expect(started.map((e) => (e.data as { role: string }).role)).toEqual(["primary", "secondary"]);
    const taken = await api("POST", "/api/v1/pairings", { childId: child.id, helperId: third.id, role: "secondary" });
    expect(taken.status).toBe(409);
    expect(taken.body.error).toMatchObject({ code: "SECONDARY_TAKEN", details: { field: "role" } });
    expect(taken.body.error.message).toBe(`${child.name}已有协助帮扶人协帮扶，如需更换请使用“移交”`);
    const peerSecondary = await api("POST", "/api/v1/pairings", { childId: child.id, helperId: third.id, kind: "peer", role: "secondary" });
    expect(peerSecondary.status).toBe(400);
    expect(JSON.stringify(peerSecondary.body.error.details)).toContain("role");
    expect((await api("POST", "/api/v1/pairings", { childId: child.id, helperId: third.id, role: "boss" })).status).toBe(400);
    // Transferring the primary to the secondary's helper: refused; to the third: the secondary stays.
    const toSecond = await api("POST", `/api/v1/pairings/${primary.body.id}/transfer`, { helperId: second.id, reason: "调整分工" });
    expect(toSecond.body.error).toMatchObject({ code: "SAME_HELPER" });
    const moved = await api("POST", `/api/v1/pairings/${primary.body.id}/transfer`, { helperId: third.id, reason: "主帮扶外出务工" });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body.started).toMatchObject({ role: "primary", helper: { id: third.id } });
    expect((await activeMentors(child.id)).map((p) => [p.role, p.helperId])).toEqual([
      ["primary", third.id],
      ["secondary", second.id],
    ]);
    // Ending the primary leaves the secondary; the child is unpaired (no primary) and the optimiser proposes a primary, not the secondary's helper.
    expect((await api("POST", `/api/v1/pairings/${moved.body.started.id}/end`, { note: "第三人调离" })).status).toBe(200);
    expect((await activeMentors(child.id)).map((p) => [p.role, p.helperId])).toEqual([["secondary", second.id]]);
    expect(await unpairedRow(child.id)).toBeDefined();
    await h.match();
    const proposals = await h.prisma.pairing.findMany({ where: { childId: child.id, status: "proposed" } });
    expect(proposals.length).toBe(1);
    expect(proposals[0]).toMatchObject({ role: "primary" });
    expect(proposals[0]!.helperId).not.toBe(second.id);
    const ended = (await h.outbox("pairing.ended")).filter((e) => e.subject === child.id);
    expect(ended.every((e) => (e.data as { role: string }).role === "primary")).toBe(true);
    // Events written before roles existed parse as a primary's; child events without the register's name stay valid.
    const legacy = { ...(started[0]!.data as Record<string, unknown>) };
    delete legacy.role;
    expect(roleOf(eventSchemas["pairing.started"].data.parse(legacy))).toBe("primary");
    const { helperName: _dropped, ...oldChild } = snapshot();
    expect(eventSchemas["child.registered"].data.parse({ child: oldChild }).child.helperName).toBeUndefined();
  });
});

describe("村干部 as a helper kind of its own", () => {
  it("serves their own village's children, not the township's; needs a village code", async () => {
    const bad = await api("POST", "/api/v1/helpers", { kind: "village_cadre", name: "陈书记", phone: "13907317001", orgUnitCode: CHANGLING });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error.details)).toContain("orgUnitCode");
    const cadre = await addHelper({ kind: "village_cadre", name: "陈书记", phone: "13907317001", orgUnitCode: "360999101205", capacity: 5 });
    const listed = await api("GET", `/api/v1/helpers/${cadre.id}`);
    expect(listed.body).toMatchObject({ kind: "village_cadre", kindLabel: "村干部" });
    const own = snapshot({ villageCode: "360999101205" });
    const elsewhere = snapshot({ villageCode: "360999101206" });
    for (const c of [own, elsewhere]) await h.deliver(childEvent("child.registered", c));
    await h.match();
    const proposal = (c: { id: string }) => h.prisma.pairing.findFirst({ where: { childId: c.id, status: "proposed", kind: "mentor" } });
    expect(await proposal(own)).toMatchObject({ helperId: cadre.id, matchReason: "same_village" });
    expect((await proposal(elsewhere))?.helperId).not.toBe(cadre.id);
  });
});
