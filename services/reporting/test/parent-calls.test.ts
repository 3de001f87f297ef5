import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import type { ServiceApp } from "@shouhu/kit";
import type { ChildSnapshot, Envelope, EventData, EventType } from "@shouhu/contracts";
import { buildEvent, consumeEvent } from "@shouhu/messaging";
import { childSnapshot, type TestIssuer } from "@shouhu/testing";
import type { PrismaClient, Tx } from "../src/data/db.js";
import { reportingHandlers } from "../src/events/handlers.js";
import { workSummaryFigures } from "../src/data/work-summary.js";
import { reportingTest } from "./fixtures.js";

/** 亲情电话 (issue 22.3) in reports: calls through, attempts, minutes, children reached, and the month's call items done. */
let prisma: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;
const handlers = reportingHandlers();

reportingTest("parent_calls", { now: () => new Date("2026-11-22T02:00:00Z") }).beforeAll(async ({ reporting }) => {
  ({ prisma, issuer, app } = reporting);
});

const deliver = (event: Envelope) => consumeEvent<Tx>(event, handlers, (fn) => prisma.$transaction(fn));
const ev = <T extends EventType>(type: T, c: ChildSnapshot, data: EventData<T>) =>
  buildEvent(
    type,
    { subject: c.id, orgUnit: c.villageCode, actor: { kind: "system", id: "script" }, data },
    { producer: "script", now: new Date("2026-11-20T02:00:00Z") },
  );
const vc = (c: ChildSnapshot) => ({ id: c.id, name: c.name, villageCode: c.villageCode, townshipCode: c.townshipCode });
const resp = (c: ChildSnapshot) => ({ kind: "village_director" as const, helperId: null, name: null, phone: null, username: null, villageCode: c.villageCode });

async function callMonth(c: ChildSnapshot, calls: { date: string; connected?: boolean; minutes?: number; satisfies?: boolean }[]) {
  const itemId = randomUUID();
  await deliver(ev("visit.due", c, { itemId, kind: "parent_call", period: "2026-11", dueDate: "2026-12-05", child: vc(c), responsible: resp(c), daysLeft: 7 }));
  for (const call of calls) {
    await deliver(
      ev("visit.recorded", c, {
        recordId: randomUUID(),
        kind: "parent_call",
        date: call.date,
        child: vc(c),
        visitor: { userId: "u", name: "张主任" },
        satisfied: call.satisfies ? { itemId, period: "2026-11", onTime: true } : null,
        followUpNeeded: false,
        concernRaised: false,
        ...(call.connected === undefined ? {} : { call: { with: ["mother"], connected: call.connected, minutes: call.minutes ?? null } }),
      }),
    );
  }
}

it("counts calls that got through, attempts, minutes and children reached per township and month, beside the month's call items", async () => {
  const a = childSnapshot({ name: "甲" });
  const b = childSnapshot({ name: "乙" });
  const c = childSnapshot({ name: "丙", villageCode: "360999102201", townshipCode: "360999102", schoolId: null, schoolName: null });
  for (const k of [a, b, c]) await deliver(ev("child.registered", k, { child: k }));
  await callMonth(a, [
    { date: "2026-11-03", connected: false },
    { date: "2026-11-04", connected: true, minutes: 12, satisfies: true },
  ]);
  await callMonth(b, []); // due, not called
  await callMonth(c, [{ date: "2026-11-10", satisfies: true }]); // recorded before "connected" was asked: counted as through

  const get = async (user: string, query = "") => {
    const res = await app.inject({ url: `/api/v1/reports/parent-calls?month=2026-11&months=1${query}`, headers: await issuer.as(user) });
    return { status: res.statusCode, body: res.json() as any };
  };
  const county = await get("county.admin");
  expect(county.status).toBe(200);
  expect(county.body.rows.map((r: any) => [r.townshipCode, r.month, r.connected, r.attempts, r.minutes, r.childrenReached, r.due, r.done])).toEqual([
    ["360999101", "2026-11", 1, 1, 12, 1, 2, 1],
    ["360999102", "2026-11", 1, 0, 0, 1, 1, 1],
  ]);
  // Within the caller's area only; teachers do not read reports; bad months named.
  expect((await get("changling.supervisor")).body.rows.map((r: any) => r.townshipCode)).toEqual(["360999101"]);
  expect((await get("changling.teacher")).status).toBe(403);
  const bad = await get("county.admin", "&months=0");
  expect(bad.status).toBe(400);
  expect(bad.body.error.details[0].field).toBe("months");

  const figures = await workSummaryFigures(prisma, { orgUnit: "360999101", schoolId: null, from: "2026-09-01", to: "2027-01-31" });
  expect(figures.visits.calls).toEqual({ connected: 1, attempts: 1, minutes: 12 });
});
