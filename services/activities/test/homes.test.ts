import { describe, expect, it } from "vitest";
import type { ServiceApp } from "@shouhu/kit";
import type { ChildSnapshot, Envelope } from "@shouhu/contracts";
import { buildEvent, consumeEvent } from "@shouhu/messaging";
import { childSnapshot, type TestIssuer } from "@shouhu/testing";
import type { PrismaClient, Tx } from "../src/data/db.js";
import { activityHandlers } from "../src/events/handlers.js";
import { activitiesTest } from "./fixtures.js";

const VILLAGE = "360999101201";
const OTHER_VILLAGE = "360999101202";
const SCHOOL = "S360999101001";
const now = new Date("2026-11-22T02:00:00Z");
const actor = { kind: "user" as const, id: "registrar", name: "登记员" };
let prisma: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;
const handlers = activityHandlers();

activitiesTest("homes", { now: () => now }).beforeAll(async ({ activities }) => {
  ({ prisma, issuer, app } = activities);
});

async function register(over: Partial<ChildSnapshot> = {}): Promise<ChildSnapshot> {
  const child = childSnapshot(over);
  await consumeEvent<Tx>(
    buildEvent("child.registered", { subject: child.id, orgUnit: child.villageCode, actor, data: { child } }, { producer: "registry", now }),
    handlers,
    (fn) => prisma.$transaction(fn),
  );
  return child;
}

async function api(method: "GET" | "POST" | "PATCH", url: string, user: string, payload?: object) {
  const res = await app.inject({ method, url, headers: await issuer.as(user), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as any };
}
const fieldOf = (body: any) => body.error?.details?.[0]?.field;

const site = (over: object = {}) => ({
  kind: "village",
  orgUnit: VILLAGE,
  name: "长岭村留守儿童之家",
  room: "村委会二楼",
  equipment: ["电脑", "亲情电话", "图书"],
  openingHours: "周六、周日 9:00–17:00",
  adults: [{ name: "张主任", duty: "管理员", phone: "13907300201" }],
  rules: ["心理咨询", "健康教育", "代理家长"],
  plan: "2026–2028 三年规划：……",
  ...over,
});

let a: ChildSnapshot, b: ChildSnapshot, elsewhere: ChildSnapshot;
let siteId: string;

describe("children's homes (sites)", () => {
  it("creates a village site with its children; bad inputs are 400s naming the field and store nothing", async () => {
    a = await register({ name: "李小花", birthDate: "2015-03-07" });
    b = await register({ name: "王小明", birthDate: "2016-05-01" });
    elsewhere = await register({ name: "赵外村", villageCode: OTHER_VILLAGE });

    const bad: [object, string][] = [
      [site({ name: "" }), "name"],
      [site({ kind: "village", orgUnit: "360999101" }), "orgUnit"],
      [site({ kind: "school", orgUnit: "360999101" }), "schoolId"],
      [site({ adults: [{ name: "张", duty: "管理员", phone: "123" }] }), "adults.0.phone"],
      [site({ equipment: ["x".repeat(21)] }), "equipment.0"],
      [site({ childIds: ["not-a-uuid"] }), "childIds.0"],
      [site({ childIds: [elsewhere.id] }), "childIds"],
      [site({ plan: "长".repeat(5001) }), "plan"],
    ];
    for (const [body, field] of bad) {
      const res = await api("POST", "/api/v1/sites", "changling.director", body);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(fieldOf(res.body)).toBe(field);
      expect(res.body.error.message).toMatch(/[\u4e00-\u9fff]/);
    }
    // Another township's supervisor cannot place a site here; a health worker keeps no sites.
    expect(fieldOf((await api("POST", "/api/v1/sites", "shimen.supervisor", site())).body)).toBe("orgUnit");
    expect((await api("POST", "/api/v1/sites", "changling.doctor", site())).status).toBe(403);
    expect(await prisma.site.count()).toBe(0);

    const res = await api("POST", "/api/v1/sites", "changling.director", site({ childIds: [a.id, b.id] }));
    expect(res.status).toBe(201);
    siteId = res.body.id;
    const detail = await api("GET", `/api/v1/sites/${siteId}`, "changling.supervisor");
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ name: "长岭村留守儿童之家", childCount: 2, equipment: ["电脑", "亲情电话", "图书"], stale: false });
    expect(detail.body.children.map((c: any) => c.name).sort()).toEqual(["李小花", "王小明"]);
    expect(detail.body.history[0]).toMatchObject({ action: "created" });
  });

  it("keeps jurisdiction: 404 outside, teachers only their own school's site", async () => {
    expect((await api("GET", `/api/v1/sites/${siteId}`, "shimen.supervisor")).status).toBe(404);
    expect((await api("PATCH", `/api/v1/sites/${siteId}`, "shimen.supervisor", { name: "x" })).status).toBe(404);
    expect((await api("GET", `/api/v1/sites/${siteId}`, "changling.teacher")).status).toBe(404);
    expect((await api("GET", "/api/v1/sites", "shimen.supervisor")).body.items).toEqual([]);
    expect((await api("GET", "/api/v1/sites", "county.admin")).body.items).toHaveLength(1);
    // A teacher sets up their own school's home only.
    expect(fieldOf((await api("POST", "/api/v1/sites", "changling.teacher", site())).body)).toBe("schoolId");
    const school = await api(
      "POST",
      "/api/v1/sites",
      "changling.teacher",
      site({ kind: "school", orgUnit: "360999101", schoolId: SCHOOL, name: "中心小学儿童之家", childIds: [a.id] }),
    );
    expect(school.status).toBe(201);
    expect((await api("GET", "/api/v1/sites", "changling.teacher")).body.items.map((s: any) => s.name)).toEqual(["中心小学儿童之家"]);
    // Candidates: a school's need the school; another township's are refused.
    expect(fieldOf((await api("GET", "/api/v1/sites/candidates?orgUnit=360999101", "changling.supervisor")).body)).toBe("schoolId");
    expect(fieldOf((await api("GET", `/api/v1/sites/candidates?orgUnit=${VILLAGE}`, "shimen.supervisor")).body)).toBe("orgUnit");
    expect((await api("GET", `/api/v1/sites/candidates?orgUnit=360999101&schoolId=${SCHOOL}`, "changling.supervisor")).body.items).toHaveLength(3);
    // The village director does not see the school's (township-level) home.
    expect((await api("GET", `/api/v1/sites/${school.body.id}`, "changling.director")).status).toBe(404);
  });

  it("edits with history (old → new) and retires", async () => {
    const res = await api("PATCH", `/api/v1/sites/${siteId}`, "changling.director", { equipment: ["电脑", "亲情电话", "图书", "文体器材"], childIds: [a.id] });
    expect(res.status).toBe(200);
    expect(fieldOf((await api("PATCH", `/api/v1/sites/${siteId}`, "changling.director", { kind: "school" })).body)).toBeDefined();
    const detail = (await api("GET", `/api/v1/sites/${siteId}`, "changling.director")).body;
    expect(detail.childCount).toBe(1);
    expect(detail.history[0]).toMatchObject({
      action: "updated",
      changes: {
        fields: {
          equipment: [
            ["电脑", "亲情电话", "图书"],
            ["电脑", "亲情电话", "图书", "文体器材"],
          ],
        },
        childrenRemoved: 1,
      },
    });
    await api("PATCH", `/api/v1/sites/${siteId}`, "changling.director", { childIds: [a.id, b.id] });
  });
});

describe("activity sessions", () => {
  it("records a session with attendance from the site's children, publishes activity.recorded and counts per kind and child", async () => {
    const session = (over: object = {}) => ({
      date: "2026-11-21",
      kind: "safety",
      leader: "张主任",
      summary: "防溺水安全教育，观看视频并讨论。",
      attendance: [a.id, b.id],
      ...over,
    });
    const bad: [object, string][] = [
      [session({ date: "2026-11-23" }), "date"],
      [session({ date: "2026-13-01" }), "date"],
      [session({ kind: "party" }), "kind"],
      [session({ summary: " " }), "summary"],
      [session({ attendance: [elsewhere.id] }), "attendance"],
    ];
    for (const [body, field] of bad) {
      const res = await api("POST", `/api/v1/sites/${siteId}/sessions`, "changling.director", body);
      expect(res.status).toBe(400);
      expect(fieldOf(res.body)).toBe(field);
    }
    expect(await prisma.activitySession.count()).toBe(0);
    expect((await api("POST", `/api/v1/sites/${siteId}/sessions`, "shimen.supervisor", session())).status).toBe(404);

    const res = await api("POST", `/api/v1/sites/${siteId}/sessions`, "changling.director", session());
    expect(res.status).toBe(201);
    await api("POST", `/api/v1/sites/${siteId}/sessions`, "changling.director", session({ kind: "family_call", attendance: [a.id] }));

    const [event] = await prisma.outboxEvent.findMany({ where: { type: "activity.recorded", subject: siteId } });
    expect((event!.envelope as unknown as Envelope<"activity.recorded">).data).toMatchObject({
      sessionId: res.body.id,
      kind: "safety",
      site: { id: siteId, orgUnit: VILLAGE, townshipCode: "360999101" },
      attendance: expect.arrayContaining([a.id, b.id]),
    });

    const detail = (await api("GET", `/api/v1/sites/${siteId}`, "changling.supervisor")).body;
    expect(detail).toMatchObject({ sessionCount: 2, recentSessions: 2, lastActivity: "2026-11-21", stale: false });
    expect(detail.perKind).toEqual([
      { kind: "family_call", kindLabel: "亲情通话", sessions: 1, attendances: 1 },
      { kind: "safety", kindLabel: "安全教育", sessions: 1, attendances: 2 },
    ]);
    expect(Object.fromEntries(detail.children.map((c: any) => [c.name, c.attended]))).toEqual({ 李小花: 2, 王小明: 1 });

    // Need-to-know: case workers read the written record; inspectors get names but no narrative; health workers nothing.
    const full = (await api("GET", `/api/v1/sites/${siteId}/sessions`, "changling.director")).body.items;
    expect(full[0].summary).toBeTruthy();
    expect(full[0].photos).toEqual([]);
    const insp = (await api("GET", `/api/v1/sites/${siteId}/sessions`, "county.inspector")).body.items;
    expect(insp[0].summary).toBeUndefined();
    expect(insp[0].attendanceCount).toBeGreaterThan(0);
    expect((await api("GET", `/api/v1/sites/${siteId}/sessions`, "changling.doctor")).status).toBe(403);

    // The 成长档案's activities: what one child attended, with the home's name; outside the area 404.
    const attended = await api("GET", `/api/v1/sites/attended?childId=${b.id}`, "changling.supervisor");
    expect(attended.status).toBe(200);
    expect(attended.body.items.map((i: any) => [i.date, i.kindLabel, i.siteName])).toEqual([["2026-11-21", "安全教育", detail.name]]);
    expect((await api("GET", `/api/v1/sites/attended?childId=${a.id}`, "changling.supervisor")).body.items).toHaveLength(2);
    expect((await api("GET", `/api/v1/sites/attended?childId=${b.id}`, "shimen.supervisor")).status).toBe(404);
    expect((await api("GET", `/api/v1/sites/attended?childId=${b.id}`, "changling.doctor")).status).toBe(403);
    expect(fieldOf((await api("GET", "/api/v1/sites/attended?childId=x", "changling.supervisor")).body)).toBe("childId");
  });

  it("flags sites with no activity for a month", async () => {
    // The teacher's school site has none since its creation "today": not yet stale; an old site is.
    await prisma.$executeRawUnsafe(`UPDATE sites SET created_at = '2026-09-01' WHERE name = '中心小学儿童之家'`);
    const stale = (await api("GET", "/api/v1/sites?stale=true", "changling.supervisor")).body.items;
    expect(stale.map((s: any) => s.name)).toEqual(["中心小学儿童之家"]);
    expect((await api("GET", "/api/v1/sites?stale=maybe", "changling.supervisor")).status).toBe(400);
  });

  it("retires a site: no more sessions (409), history kept", async () => {
    expect(fieldOf((await api("POST", `/api/v1/sites/${siteId}/retire`, "changling.director", { reason: "" })).body)).toBe("reason");
    expect((await api("POST", `/api/v1/sites/${siteId}/retire`, "changling.director", { reason: "合并到学校儿童之家" })).status).toBe(200);
    const res = await api("POST", `/api/v1/sites/${siteId}/sessions`, "changling.director", {
      date: "2026-11-21",
      kind: "tutoring",
      leader: "x",
      summary: "x",
      attendance: [],
    });
    expect(res.status).toBe(409);
    expect((await api("GET", "/api/v1/sites?status=retired", "changling.director")).body.items).toHaveLength(1);
  });
});

describe("safety-education campaigns", () => {
  let campaignId: string;
  it("a township sets one with a deadline; bad inputs named; other townships and villages cannot set", async () => {
    const body = (over: object = {}) => ({ title: "2026年暑期防溺水专题教育", topic: "防溺水", orgUnit: "360999101", deadline: "2026-12-31", ...over });
    for (const [b, field] of [
      [body({ topic: "游泳" }), "topic"],
      [body({ orgUnit: VILLAGE }), "orgUnit"],
      [body({ deadline: "2026-11-01" }), "deadline"],
      [body({ title: "" }), "title"],
    ] as [object, string][]) {
      const res = await api("POST", "/api/v1/safety-campaigns", "changling.supervisor", b);
      expect(res.status).toBe(400);
      expect(fieldOf(res.body)).toBe(field);
    }
    expect(fieldOf((await api("POST", "/api/v1/safety-campaigns", "shimen.supervisor", body())).body)).toBe("orgUnit");
    expect((await api("POST", "/api/v1/safety-campaigns", "changling.director", body())).status).toBe(403);
    const res = await api("POST", "/api/v1/safety-campaigns", "changling.supervisor", body());
    expect(res.status).toBe(201);
    campaignId = res.body.id;
  });

  it("villages and schools record completion per child; the page shows who is not reached, by village and school", async () => {
    const other = await register({ name: "钱小东", villageCode: OTHER_VILLAGE, schoolId: "S360999101002" });
    const reach = (user: string, childIds: string[]) => api("POST", `/api/v1/safety-campaigns/${campaignId}/reach`, user, { date: "2026-11-20", childIds });
    expect(fieldOf((await reach("changling.director", [other.id])).body)).toBe("childIds");
    expect(fieldOf((await reach("changling.director", [])).body)).toBe("childIds");
    expect((await reach("changling.director", [a.id])).body).toEqual({ recorded: 1, already: 0 });
    expect((await reach("changling.director", [a.id])).body).toEqual({ recorded: 0, already: 1 });
    // The teacher records their own school's children only.
    expect(fieldOf((await reach("changling.teacher", [other.id])).body)).toBe("childIds");
    expect((await reach("changling.teacher", [b.id])).status).toBe(200);
    expect((await reach("shimen.supervisor", [elsewhere.id])).status).toBe(404);

    const page = (await api("GET", `/api/v1/safety-campaigns/${campaignId}?unreached=true`, "changling.supervisor")).body;
    expect(page).toMatchObject({ total: 4, reached: 2, overdue: false });
    expect(page.children.map((c: any) => c.name).sort()).toEqual(["赵外村", "钱小东"]);
    expect(page.villages).toEqual([
      { code: VILLAGE, name: null, total: 2, reached: 2 },
      { code: OTHER_VILLAGE, name: null, total: 2, reached: 0 },
    ]);
    expect(page.schools.find((s: any) => s.code === "S360999101002")).toMatchObject({ total: 1, reached: 0 });
    // A village director sees their village only; an inspector counts without names.
    expect((await api("GET", `/api/v1/safety-campaigns/${campaignId}`, "changling.director")).body).toMatchObject({ total: 2, reached: 2 });
    const insp = (await api("GET", `/api/v1/safety-campaigns/${campaignId}`, "county.inspector")).body;
    expect(insp).toMatchObject({ total: 4, reached: 2, children: [] });
    expect((await api("GET", "/api/v1/safety-campaigns", "county.admin")).body.items[0]).toMatchObject({ topic: "防溺水", total: 4, reached: 2 });
  });
});
