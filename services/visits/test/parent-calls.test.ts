import { describe, expect, it } from "vitest";
import type { ServiceApp } from "@shouhu/kit";
import type { ChildSnapshot, Envelope } from "@shouhu/contracts";
import { buildEvent, consumeEvent } from "@shouhu/messaging";
import { childSnapshot, type TestIssuer } from "@shouhu/testing";
import type { PrismaClient, Tx } from "../src/data/db.js";
import { visitEventHandlers } from "../src/events/handlers.js";
import { publishVisitsSnapshot } from "../src/data/snapshot.js";
import { visitsTest } from "./fixtures.js";

/**
 * 亲情电话 (issue 22.3): who spoke with the child and whether the call got through; an attempt that
 * did not get through leaves the month's call due; the facts travel in visit.recorded and the snapshot
 * (reporting counts them). 预约: an open item planned for a time within its period.
 */
const actor = { kind: "user" as const, id: "registrar", name: "登记员" };
let prisma: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;
// 10:00 China time, 2026-11-22.
const clock = { now: new Date("2026-11-22T02:00:00Z") };
const handlers = visitEventHandlers(() => clock.now);

visitsTest("parent_calls", { now: () => clock.now }).beforeAll(async ({ visits }) => {
  ({ prisma, issuer, app } = visits);
});

const deliver = (event: Envelope) => consumeEvent<Tx>(event, handlers, (fn) => prisma.$transaction(fn));
async function register(over: Partial<ChildSnapshot> = {}): Promise<ChildSnapshot> {
  const child = childSnapshot(over);
  await deliver(
    buildEvent("child.registered", { subject: child.id, orgUnit: child.villageCode, actor, data: { child } }, { producer: "registry", now: clock.now }),
  );
  return child;
}
async function api(method: "GET" | "POST" | "PUT", url: string, user: string, payload?: object) {
  const res = await app.inject({ method, url, headers: await issuer.as(user), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as any };
}
const callItem = async (childId: string) =>
  ((await api("GET", `/api/v1/visit-items?childId=${childId}&kind=parent_call`, "changling.supervisor")).body.items as any[])[0];
const recorded = async (childId: string) =>
  (await prisma.outboxEvent.findMany({ where: { type: "visit.recorded", subject: childId }, orderBy: { createdAt: "asc" } })).map(
    (r) => (r.envelope as unknown as Envelope).data as any,
  );

describe("亲情电话", () => {
  it("a call not answered is kept as an attempt and leaves the month's call due; the one that got through satisfies it", async () => {
    const child = await register();
    const base = { childId: child.id, kind: "parent_call", date: "2026-11-21" };
    const attempt = await api("POST", "/api/v1/visit-records", "changling.director", { ...base, call: { with: ["mother"], connected: false } });
    expect(attempt.status).toBe(201);
    expect(attempt.body.satisfied).toBeNull();
    expect((await callItem(child.id)).status).toBe("open");

    const call = await api("POST", "/api/v1/visit-records", "changling.director", {
      ...base,
      date: "2026-11-22",
      durationMinutes: 15,
      call: { with: ["father", "mother"], connected: true },
      findings: { mood: "孩子很开心，和妈妈说了期中考试的成绩" },
    });
    expect(call.status).toBe(201);
    expect(call.body.satisfied).toMatchObject({ period: "2026-11", onTime: true });
    expect(await callItem(child.id)).toBeUndefined(); // no open call item left this month

    const list = (await api("GET", `/api/v1/visit-records?childId=${child.id}`, "changling.supervisor")).body.items;
    expect(list.map((r: any) => r.call)).toEqual([
      { with: ["father", "mother"], connected: true },
      { with: ["mother"], connected: false },
    ]);
    // Inspectors: that a call happened and when — not with whom or how it went.
    const inspector = (await api("GET", `/api/v1/visit-records?childId=${child.id}`, "county.inspector")).body.items;
    expect(inspector[0].call).toBeUndefined();

    expect((await recorded(child.id)).map((d) => d.call)).toEqual([
      { with: ["mother"], connected: false, minutes: null },
      { with: ["father", "mother"], connected: true, minutes: 15 },
    ]);
    const { runId } = await publishVisitsSnapshot(prisma, undefined, clock.now, child.villageCode);
    const snap = await prisma.outboxEvent.findMany({ where: { type: "snapshot.visit-record", subject: child.id } });
    expect(
      snap
        .map((r) => (r.envelope as any).data)
        .filter((d: any) => d.runId === runId)
        .map((d: any) => d.call?.connected)
        .sort(),
    ).toEqual([false, true]);
  });

  it("refuses call facts that do not fit, with the field named in Chinese, and stores nothing", async () => {
    const child = await register();
    const before = await prisma.visitRecord.count();
    const bad = [
      [{ kind: "home_visit", call: { with: ["father"], connected: true } }, "call", "只有亲情电话"],
      [{ kind: "parent_call", call: { with: [], connected: true } }, "call.with", "请选择与谁通话"],
      [{ kind: "parent_call", call: { with: ["father", "father"], connected: true } }, "call.with", "重复"],
      [{ kind: "parent_call", call: { with: ["uncle"], connected: true } }, "call.with", ""],
      [{ kind: "parent_call", call: { with: ["mother"] } }, "call.connected", ""],
      [{ kind: "parent_call", durationMinutes: 5, call: { with: ["mother"], connected: false } }, "durationMinutes", "未接通"],
    ] as const;
    for (const [body, field, text] of bad) {
      const res = await api("POST", "/api/v1/visit-records", "changling.director", { childId: child.id, date: "2026-11-22", ...body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(res.body.error), JSON.stringify(body)).toContain(field);
      expect(res.body.error.message + JSON.stringify(res.body.error.details ?? "")).toContain(text);
    }
    expect(await prisma.visitRecord.count()).toBe(before);
    // A record without call facts (a phone syncing one written before they were asked) is still taken.
    const old = await api("POST", "/api/v1/visit-records", "changling.director", { childId: child.id, kind: "parent_call", date: "2026-11-22" });
    expect(old.status).toBe(201);
    expect(old.body.satisfied).not.toBeNull();
  });
});

describe("预约", () => {
  it("plans an open item within its period, shows it on the due list, clears it; refuses the past, after the period, and outsiders", async () => {
    const child = await register();
    const item = await callItem(child.id);
    const plan = (user: string, body: object, id = item.id) => api("PUT", `/api/v1/visit-items/${id}/plan`, user, body);

    const set = await plan("changling.director", { at: "2026-11-28T10:00:00+08:00", note: "周六上午在儿童之家打" });
    expect(set.status).toBe(200);
    expect(set.body.plan).toEqual({ at: "2026-11-28T10:00:00+08:00", note: "周六上午在儿童之家打", by: expect.any(String) });
    expect((await callItem(child.id)).plan).toEqual(set.body.plan);

    const past = await plan("changling.director", { at: "2026-11-21T10:00:00+08:00" });
    expect(past.status).toBe(400);
    expect(past.body.error.details[0]).toMatchObject({ field: "at", message: "预约时间不能早于现在" });
    const late = await plan("changling.director", { at: "2026-12-01T09:00:00+08:00" });
    expect(late.status).toBe(400);
    expect(late.body.error.details[0].message).toContain("2026-11-30");
    expect((await plan("changling.director", { at: "下周六" })).status).toBe(400);
    // Outside the caller's township: not found, and not planned.
    expect((await plan("shimen.supervisor", { at: "2026-11-29T10:00:00+08:00" })).status).toBe(404);
    // Read-only roles may not plan.
    expect((await plan("county.inspector", { at: "2026-11-29T10:00:00+08:00" })).status).toBe(403);
    expect((await callItem(child.id)).plan.at).toBe("2026-11-28T10:00:00+08:00");

    const cleared = await plan("changling.director", { at: null });
    expect(cleared.body.plan).toBeNull();
    expect((await callItem(child.id)).plan).toBeNull();

    // Once the period is over (the call overdue, a make-up still owed): within the next 14 days.
    const saved = clock.now;
    clock.now = new Date("2026-12-08T02:00:00Z");
    try {
      expect((await plan("changling.director", { at: "2026-12-12T10:00:00+08:00" })).status).toBe(200);
      const far = await plan("changling.director", { at: "2026-12-30T10:00:00+08:00" });
      expect(far.status).toBe(400);
      expect(far.body.error.details[0].message).toBe("逾期事项请在14天内预约补访");
    } finally {
      clock.now = saved;
    }

    // Done items take no plan.
    await api("POST", "/api/v1/visit-records", "changling.director", {
      childId: child.id,
      kind: "parent_call",
      date: "2026-11-22",
      call: { with: ["father"], connected: true },
    });
    expect((await plan("changling.director", { at: "2026-11-28T10:00:00+08:00" })).status).toBe(409);
  });
});
