import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import type { ServiceApp } from "@shouhu/kit";
import type { ActivityKind, Envelope } from "@shouhu/contracts";
import { buildEvent, consumeEvent } from "@shouhu/messaging";
import type { TestIssuer } from "@shouhu/testing";
import type { PrismaClient, Tx } from "../src/data/db.js";
import { reportingHandlers } from "../src/events/handlers.js";
import { reportingTest } from "./fixtures.js";
import { workSummaryFigures } from "../src/data/work-summary.js";
import { workSummaryDocx } from "../src/domain/work-summary-doc.js";
import { parseSemester } from "@shouhu/cn";
import { strFromU8, unzipSync } from "fflate";

let prisma: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;
const now = new Date("2026-11-22T02:00:00Z");
const handlers = reportingHandlers();

reportingTest("activities", { now: () => now }).beforeAll(async ({ reporting }) => {
  ({ prisma, issuer, app } = reporting);
});

const deliver = (event: Envelope) => consumeEvent<Tx>(event, handlers, (fn) => prisma.$transaction(fn));
const activity = (orgUnit: string, kind: ActivityKind, date: string, attendance: number) => {
  const siteId = randomUUID();
  return buildEvent(
    "activity.recorded",
    {
      subject: siteId,
      orgUnit,
      actor: { kind: "system", id: "test" },
      data: {
        sessionId: randomUUID(),
        site: { id: siteId, name: "儿童之家", kind: "village", orgUnit, townshipCode: orgUnit.slice(0, 9) },
        kind,
        date,
        leader: "张主任",
        attendance: Array.from({ length: attendance }, () => randomUUID()),
      },
    },
    { producer: "visits" },
  );
};

it("counts activities at children's homes per township, kind and month, within the caller's area; a redelivery counts once", async () => {
  const first = activity("360999101201", "safety", "2026-11-05", 3);
  await deliver(first);
  await deliver(first);
  await deliver(activity("360999101201", "safety", "2026-11-12", 2));
  await deliver(activity("360999101", "tutoring", "2026-10-30", 5));
  await deliver(activity("360999102201", "family_call", "2026-11-01", 4));

  const get = async (user: string, query = "") => {
    const res = await app.inject({ method: "GET", url: `/api/v1/reports/activities${query}`, headers: await issuer.as(user) });
    return { status: res.statusCode, body: res.json() as any };
  };
  const county = (await get("county.admin")).body;
  expect(county.rows.map((r: any) => [r.townshipCode, r.kind, r.month, r.sessions, r.attendances])).toEqual([
    ["360999101", "tutoring", "2026-10", 1, 5],
    ["360999101", "safety", "2026-11", 2, 5],
    ["360999102", "family_call", "2026-11", 1, 4],
  ]);
  expect((await get("changling.director")).body.rows).toHaveLength(1);
  expect((await get("shimen.supervisor")).body.rows.map((r: any) => r.kind)).toEqual(["family_call"]);
  const bad = await get("county.admin", "?months=99");
  expect(bad.status).toBe(400);
  expect(bad.body.error.details[0].field).toBe("months");
  expect((await get("changling.teacher")).status).toBe(403);
});

it("feeds the 工作总结's 儿童之家 section: sessions, attendances and homes of the area in the semester, by kind", async () => {
  const term = { schoolId: null, from: "2026-09-01", to: "2027-01-31" };
  const township = await workSummaryFigures(prisma, { ...term, orgUnit: "360999101" });
  expect(township.activities).toEqual({ sessions: 3, attendances: 10, sites: 3, byKind: { safety: 2, tutoring: 1 } });
  // The spring before: none; one school's summary: not counted (a school's home is kept by township).
  expect((await workSummaryFigures(prisma, { ...term, orgUnit: "360999101", from: "2026-02-01", to: "2026-08-31" })).activities?.sessions).toBe(0);
  expect((await workSummaryFigures(prisma, { ...term, orgUnit: "360999101", schoolId: "S360999101001" })).activities).toBeNull();
  const docx = await workSummaryDocx({ unitName: "长岭乡", semester: parseSemester("2026-2027-1")!, asOf: "2026-11-22", figures: township });
  const text = [...strFromU8(unzipSync(new Uint8Array(docx))["word/document.xml"]!).matchAll(/<w:t[^>]*>([^<]*)<\/w:t>/g)].map((m) => m[1]).join("");
  expect(text).toContain("本学期3个留守儿童之家共开展活动3次、参与10人次，其中课业辅导1次、安全教育2次。");
});
