import { describe, expect, it } from "vitest";
import { todayInChina } from "@shouhu/cn";
import { ageOutChildren } from "../src/jobs/age-out.js";
import { childBody, registryTest, type Harness } from "./harness.js";

let h: Harness;
registryTest("school-year").beforeAll(async ({ registry }) => {
  h = registry;
});

const SCHOOL = "S360999101001"; // 长岭乡中心小学 (小学)
const MIDDLE = "S360999102001"; // 石门镇中学 (初中)

async function create(body: Record<string, unknown>): Promise<string> {
  const res = await h.app.inject({ method: "POST", url: "/api/v1/children", headers: await h.as("county.admin"), payload: childBody(body) });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

const post = async (user: string, url: string, payload: unknown) =>
  h.app.inject({ method: "POST", url, headers: await h.as(user), payload: payload as object });

describe("year-end promotion", () => {
  const ids: Record<string, string> = {};

  it("previews counts by grade without changing anything", async () => {
    ids.four = await create({ seq: 1, grade: "四年级", className: "2班" });
    ids.six = await create({ seq: 2, grade: "六年级", className: "1班", name: "毕业生" });
    ids.odd = await create({ seq: 3, grade: "学前班" });
    ids.one = await create({ seq: 4, grade: "1年级" });
    const res = await post("changling.supervisor", `/api/v1/schools/${SCHOOL}/promotion-preview`, { schoolYear: "2027-2028" });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ schoolType: "小学", promoted: 2, awaiting: 1, unrecognised: 1, done: null });
    expect(body.steps).toEqual(
      expect.arrayContaining([
        { from: "四年级", to: "五年级", kind: "promote", count: 1 },
        { from: "六年级", to: "待分配初中", kind: "awaiting", count: 1 },
        { from: "学前班", to: null, kind: "unrecognised", count: 1 },
      ]),
    );
    expect((await h.prisma.child.findUnique({ where: { id: ids.four } }))!.grade).toBe("四年级");
  });

  it("promotes once: grade +1, last primary grade to 待分配初中, history and child.updated; a second run changes nobody", async () => {
    const first = await post("changling.supervisor", `/api/v1/schools/${SCHOOL}/promotions`, { schoolYear: "2027-2028" });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ replayed: false, promoted: 2, awaiting: 1 });
    expect(JSON.parse(first.headers["x-shouhu-audit"] as string).action).toBe("promote");
    const four = await h.prisma.child.findUnique({ where: { id: ids.four } });
    expect(four).toMatchObject({ grade: "五年级", className: "2班", schoolId: SCHOOL });
    expect(await h.prisma.child.findUnique({ where: { id: ids.one } })).toMatchObject({ grade: "二年级" });
    expect(await h.prisma.child.findUnique({ where: { id: ids.six } })).toMatchObject({ grade: "待分配初中", schoolId: null, className: null });
    expect(await h.prisma.child.findUnique({ where: { id: ids.odd } })).toMatchObject({ grade: "学前班", revision: 1 });
    const history = (await h.app.inject({ url: `/api/v1/children/${ids.four}/history`, headers: await h.as("changling.supervisor") })).json().items;
    expect(history.at(-1)).toMatchObject({ action: "promoted", reason: "2027-2028学年升级", changes: [{ field: "grade", before: "四年级", after: "五年级" }] });
    const events = await h.prisma.outboxEvent.findMany({ where: { subject: ids.four, type: "child.updated" } });
    expect(events).toHaveLength(1);

    const [again, twice] = await Promise.all([
      post("county.admin", `/api/v1/schools/${SCHOOL}/promotions`, { schoolYear: "2027-2028" }),
      post("county.admin", `/api/v1/schools/${SCHOOL}/promotions`, { schoolYear: "2027-2028" }),
    ]);
    expect([again.statusCode, twice.statusCode]).toEqual([200, 200]);
    expect(again.json()).toMatchObject({ replayed: true, done: { promoted: 2, awaiting: 1 } });
    expect((await h.prisma.child.findUnique({ where: { id: ids.four } }))!.grade).toBe("五年级");
    const preview = await post("county.admin", `/api/v1/schools/${SCHOOL}/promotion-preview`, { schoolYear: "2027-2028" });
    expect(preview.json().done).toMatchObject({ promoted: 2 });
  });

  it("lists the children waiting for a middle school and assigns one (七年级), refusing a primary school", async () => {
    const list = await h.app.inject({ url: "/api/v1/children/awaiting-middle-school", headers: await h.as("changling.supervisor") });
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((c: { id: string }) => c.id)).toEqual([ids.six]);
    const elsewhere = await h.app.inject({ url: "/api/v1/children/awaiting-middle-school", headers: await h.as("shimen.supervisor") });
    expect(elsewhere.json().items).toEqual([]);

    const primary = await post("changling.supervisor", `/api/v1/children/${ids.six}/middle-school`, { schoolId: SCHOOL });
    expect(primary.statusCode).toBe(400);
    expect(primary.json().error.details[0]).toMatchObject({ field: "schoolId" });
    expect(primary.json().error.message).toMatch(/不是初中/);

    const ok = await post("changling.supervisor", `/api/v1/children/${ids.six}/middle-school`, { schoolId: MIDDLE, className: "3班" });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ schoolId: MIDDLE, grade: "七年级", className: "3班" });
    const again = await post("changling.supervisor", `/api/v1/children/${ids.six}/middle-school`, { schoolId: MIDDLE });
    expect(again.statusCode).toBe(409);
  });

  it("refuses bad input naming the field, and schools outside the caller's jurisdiction", async () => {
    for (const schoolYear of ["2027", "2027-2029", "", "abcd-efgh"]) {
      const res = await post("county.admin", `/api/v1/schools/${SCHOOL}/promotion-preview`, { schoolYear });
      expect(res.statusCode).toBe(400);
      expect(res.json().error.details[0].field).toBe("schoolYear");
      expect(res.json().error.message).toMatch(/学年/);
    }
    const missing = await post("county.admin", `/api/v1/schools/${SCHOOL}/promotions`, {});
    expect(missing.statusCode).toBe(400);
    expect(JSON.stringify(missing.json().error.details)).toContain("schoolYear");
    const other = await post("shimen.supervisor", `/api/v1/schools/${SCHOOL}/promotions`, { schoolYear: "2028-2029" });
    expect(other.statusCode).toBe(404);
    const director = await post("changling.director", `/api/v1/schools/${SCHOOL}/promotions`, { schoolYear: "2028-2029" });
    expect(director.statusCode).toBe(403);
    const notUuid = await post("county.admin", `/api/v1/children/x/middle-school`, { schoolId: MIDDLE });
    expect(notUuid.statusCode).toBe(400);
    const noSchool = await post("county.admin", `/api/v1/children/${ids.four}/middle-school`, {});
    expect(noSchool.statusCode).toBe(400);
    expect(JSON.stringify(noSchool.json().error.details)).toContain("schoolId");
    expect(await h.prisma.schoolPromotion.count({ where: { schoolYear: "2028-2029" } })).toBe(0);
  });
});

describe("交接 list", () => {
  it("lists a class's children with their helper, for the class's school and the keepers", async () => {
    const a = await create({ seq: 20, grade: "三年级", className: "1班", name: "甲" });
    await create({ seq: 21, grade: "三年级", className: "2班", name: "乙" });
    await h.prisma.currentPairing.create({
      data: {
        childId: a,
        kind: "mentor",
        pairingId: "0190f000-0000-7000-8000-000000000001",
        helperId: "0190f000-0000-7000-8000-000000000002",
        helperKind: "teacher",
        name: "王老师",
        phone: "13900000009",
        since: new Date("2026-09-01"),
        startedAt: new Date("2026-09-01T00:00:00Z"),
      },
    });
    // A secondary helper (协助帮扶人), started later: the list still names the primary.
    await h.prisma.currentPairing.create({
      data: {
        childId: a,
        kind: "mentor",
        role: "secondary",
        pairingId: "0190f000-0000-7000-8000-000000000003",
        helperId: "0190f000-0000-7000-8000-000000000004",
        helperKind: "village_cadre",
        name: "陈书记",
        phone: "13900000010",
        since: new Date("2026-10-01"),
        startedAt: new Date("2026-10-01T00:00:00Z"),
      },
    });
    const res = await h.app.inject({ url: `/api/v1/schools/${SCHOOL}/handover?grade=三年级&className=1班`, headers: await h.as("changling.supervisor") });
    expect(res.statusCode).toBe(200);
    expect(res.json().school).toEqual({ id: SCHOOL, name: "长岭乡中心小学" });
    expect(res.json().items).toHaveLength(1);
    expect(res.json().items[0]).toMatchObject({ id: a, name: "甲", helper: { name: "王老师", helperKind: "teacher" } });
    expect(JSON.parse(res.headers["x-shouhu-audit"] as string)).toEqual({ action: "handover", childIds: [a] });
    const elsewhere = await h.app.inject({ url: `/api/v1/schools/${SCHOOL}/handover`, headers: await h.as("shimen.supervisor") });
    expect(elsewhere.statusCode).toBe(404);
    const long = await h.app.inject({ url: `/api/v1/schools/${SCHOOL}/handover?grade=${"一".repeat(30)}`, headers: await h.as("county.admin") });
    expect(long.statusCode).toBe(400);
    expect(JSON.stringify(long.json().error)).toContain("grade");
  });
});

describe("turning 16", () => {
  it("exits a child on the birthday in China time (00:30 Beijing is still the day before in UTC)", async () => {
    const id = await create({ seq: 40, birthDate: "2010-11-25", name: "满16" });
    const chinaMidnight = new Date("2026-11-24T16:30:00Z");
    expect(todayInChina(new Date("2026-11-24T15:59:00Z"))).toBe("2026-11-24");
    expect((await ageOutChildren(h.prisma, todayInChina(new Date("2026-11-24T15:59:00Z")))).exited).toBe(0);
    expect((await ageOutChildren(h.prisma, todayInChina(chinaMidnight))).exited).toBe(1);
    const child = await h.prisma.child.findUnique({ where: { id } });
    expect(child).toMatchObject({ status: "exited", exitReason: "turned_16" });
    const history = await h.prisma.childHistory.findMany({ where: { childId: id }, orderBy: { revision: "asc" } });
    expect(history.at(-1)).toMatchObject({ action: "status_changed", actorId: "age-out" });
    expect(await h.prisma.outboxEvent.count({ where: { subject: id, type: "child.status-changed" } })).toBe(1);
  });
});
