import { expect, it } from "vitest";
import type { ServiceApp } from "@shouhu/kit";
import type { ChildSnapshot, EnrolmentStatus, Envelope } from "@shouhu/contracts";
import { buildEvent, consumeEvent } from "@shouhu/messaging";
import { childSnapshot, type TestIssuer } from "@shouhu/testing";
import type { PrismaClient, Tx } from "../src/data/db.js";
import { reportingHandlers } from "../src/events/handlers.js";
import { reportingTest } from "./fixtures.js";

let prisma: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;
const now = new Date("2026-11-22T02:00:00Z");
const handlers = reportingHandlers();
const actor = { kind: "user" as const, id: "t", name: "王老师" };

reportingTest("enrolment", { now: () => now }).beforeAll(async ({ reporting }) => {
  ({ prisma, issuer, app } = reporting);
});

const deliver = (event: Envelope) => consumeEvent<Tx>(event, handlers, (fn) => prisma.$transaction(fn));
const register = async (over: Partial<ChildSnapshot>) => {
  const child = childSnapshot(over);
  await deliver(buildEvent("child.registered", { subject: child.id, orgUnit: child.villageCode, actor, data: { child } }, { producer: "registry" }));
  return child;
};
const enrolment = (child: ChildSnapshot, status: EnrolmentStatus, occurredAt: Date, semester = "2026-2027-1", revision?: number) =>
  buildEvent(
    "enrolment.changed",
    {
      subject: child.id,
      orgUnit: child.villageCode,
      actor,
      data: {
        child: { id: child.id, name: child.name, villageCode: child.villageCode, townshipCode: child.townshipCode },
        semester,
        status,
        previousStatus: null,
        school: { id: "S360999101001", name: "长岭乡中心小学", townshipCode: "360999101" },
        source: "import",
        note: null,
        ...(revision === undefined ? {} : { revision }),
      },
    },
    { producer: "registry", now: occurredAt },
  );

it("reports the semester's enrolment rate (在读 ÷ school-age children archived) per township and school; newest event wins, redelivery counts once", async () => {
  const a = await register({ birthDate: "2015-03-07" });
  const b = await register({ birthDate: "2014-05-05" });
  const c = await register({ birthDate: "2013-01-01" }); // in no list
  await register({ birthDate: "2023-01-01" }); // 3 years old: not of school age
  const d = await register({ birthDate: "2012-02-02", villageCode: "360999102201", townshipCode: "360999102" });

  const first = enrolment(a, "enrolled", new Date("2026-09-05T02:00:00Z"));
  await deliver(first);
  await deliver(first);
  await deliver(enrolment(b, "dropped_out", new Date("2026-10-05T02:00:00Z")));
  // An older event arriving late changes nothing.
  await deliver(enrolment(b, "enrolled", new Date("2026-09-05T02:00:00Z")));
  await deliver(enrolment(d, "suspended", new Date("2026-09-05T02:00:00Z")));
  await deliver(enrolment(c, "enrolled", new Date("2026-03-01T02:00:00Z"), "2025-2026-2")); // another semester

  const get = async (user: string, query: string) => {
    const res = await app.inject({ url: `/api/v1/reports/enrolment${query}`, headers: await issuer.as(user) });
    return { status: res.statusCode, body: res.json() as any };
  };
  const county = await get("county.admin", "?semester=2026-2027-1");
  expect(county.status).toBe(200);
  expect(county.body).toMatchObject({ orgUnit: "360999", semester: "2026-2027-1", semesterLabel: "2026—2027学年第一学期" });
  expect(county.body.total).toEqual({ schoolAge: 4, enrolled: 1, suspended: 1, droppedOut: 1, transferredOut: 0, unlisted: 1, rate: 0.25 });
  expect(county.body.units.map((u: any) => [u.code, u.schoolAge, u.enrolled, u.droppedOut, u.unlisted, u.rate])).toEqual([
    ["360999101", 3, 1, 1, 1, 0.333],
    ["360999102", 1, 0, 0, 0, 0],
  ]);
  expect(county.body.schools.find((s: any) => s.schoolId === "S360999101001")).toMatchObject({ enrolled: 1, droppedOut: 1, suspended: 1 });

  // A township supervisor sees their township (by village); an inspector the totals; a teacher nothing; bad semester 400.
  const township = await get("changling.supervisor", "?semester=2026-2027-1&orgUnit=360999");
  expect(township.body.orgUnit).toBe("360999101");
  expect(township.body.total.schoolAge).toBe(3);
  expect((await get("county.inspector", "?semester=2026-2027-1")).status).toBe(200);
  expect((await get("changling.teacher", "?semester=2026-2027-1")).status).toBe(403);
  const bad = await get("county.admin", "?semester=2026-2028-1");
  expect(bad.status).toBe(400);
  expect(bad.body.error.message).toContain("学期格式");
});

it("orders a child's events by the enrolment's revision first: a newer revision wins even with an earlier clock, and beats events without one", async () => {
  const e = await register({ birthDate: "2015-06-06", name: "复学娃" });
  const held = () => prisma.enrolment.findUnique({ where: { childId_semester: { childId: e.id, semester: "2026-2027-2" } } });
  await deliver(enrolment(e, "dropped_out", new Date("2027-03-01T02:00:00.000Z"), "2026-2027-2")); // before revisions were carried
  await deliver(enrolment(e, "enrolled", new Date("2027-03-02T02:00:00.000Z"), "2026-2027-2", 2));
  // Revision 1, stamped later by another registry instance's clock: older, so nothing changes.
  await deliver(enrolment(e, "dropped_out", new Date("2027-03-03T02:00:00.000Z"), "2026-2027-2", 1));
  expect(await held()).toMatchObject({ status: "enrolled", revision: 2 });
  await deliver(enrolment(e, "transferred_out", new Date("2027-03-01T00:00:00.000Z"), "2026-2027-2", 3));
  expect(await held()).toMatchObject({ status: "transferred_out", revision: 3 });
});
