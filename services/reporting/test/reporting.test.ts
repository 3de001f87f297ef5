import { randomUUID } from "node:crypto";
import ExcelJS from "exceljs";
import { strFromU8, unzipSync } from "fflate";
import { Queue, QueueEvents } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { createPgPool } from "@shouhu/db";
import { eventsQueue, labels, subscriptions, type ChildSnapshot, type Envelope, type EventData, type EventType } from "@shouhu/contracts";
import {
  buildEvent,
  consumeEvent,
  createEventConsumer,
  createRedisConnection,
  eventJobOptions,
  inPgTransaction,
  consumeEvents,
  type BatchPrepare,
  type SqlTx,
} from "@shouhu/messaging";
import { childSnapshot, type TestDatabase, type TestIssuer } from "@shouhu/testing";
import type { PrismaClient, Tx } from "../src/data/db.js";
import { buildReportingApp } from "../src/app.js";
import { inChildBatch, prepareReportingBatch, reportingHandlers } from "../src/events/handlers.js";
import { figuresFromCounters, figuresFromRows } from "../src/data/reports.js";
import { inBatch } from "../src/data/projection.js";
import { startRebuild } from "../src/data/rebuild.js";
import { purgeExpiredReports, startExportWorker } from "../src/jobs/export.js";
import { REDIS_URL, reportingTest } from "./fixtures.js";

let db: TestDatabase;
let prisma: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;
let exportQueue: Queue;
let exportEvents: QueueEvents;
let exportWorker: ReturnType<typeof startExportWorker>;
let workerRedis: ReturnType<typeof createRedisConnection>;
let prefix: string;
const now = new Date("2026-11-22T02:00:00Z");
const handlers = reportingHandlers();

reportingTest("reporting", { now: () => now }).beforeAll(async ({ reporting }) => {
  ({ db, prisma, issuer, app, prefix, exportQueue } = reporting);
  exportEvents = new QueueEvents("reporting.export", { connection: { url: REDIS_URL }, prefix });
  await exportEvents.waitUntilReady();
  workerRedis = createRedisConnection(REDIS_URL, { role: "worker" });
  // The real export worker, storing progress after every row so a small county shows it.
  exportWorker = startExportWorker({
    prisma,
    connection: workerRedis,
    prefix,
    logger: createLogger("reporting-test", "silent"),
    now: () => now,
    progressEvery: 1,
  });
});

afterAll(async () => {
  await exportWorker?.close();
  await exportEvents?.close();
  workerRedis?.disconnect();
});

const deliver = (event: Envelope) => consumeEvent<Tx>(event, handlers, (fn) => prisma.$transaction(fn));
const ev = <T extends EventType>(type: T, subject: string, orgUnit: string, data: EventData<T>, at = "2026-11-20T02:00:00Z") =>
  buildEvent(type, { subject, orgUnit, actor: { kind: "system", id: "script" }, data }, { producer: "script", now: new Date(at) });

// ---- The scripted county: 长岭乡 (101) and 石门镇 (102) ----
const ids = { A: randomUUID(), B: randomUUID(), C: randomUUID(), D: randomUUID(), E: randomUUID() };
const child = (id: string, over: Partial<ChildSnapshot>): ChildSnapshot => childSnapshot({ id, name: "儿童", riskLevel: "low", ...over });
const kids = {
  A: child(ids.A, { name: "甲", riskLevel: "high", difficultyCategories: ["de_facto_unattended"] }),
  B: child(ids.B, { name: "乙", leftBehindType: "one_parent_away" }),
  C: child(ids.C, { name: "丙", villageCode: "360999101202", schoolId: null, schoolName: null, riskLevel: "medium" }),
  D: child(ids.D, {
    name: "丁",
    villageCode: "360999102201",
    townshipCode: "360999102",
    schoolId: "S360999102001",
    leftBehindType: "not_left_behind",
    difficultyCategories: ["disability"],
  }),
  E: child(ids.E, { name: "戊", villageCode: "360999101202", schoolId: null }),
};
const vc = (k: ChildSnapshot) => ({ id: k.id, name: k.name, villageCode: k.villageCode, townshipCode: k.townshipCode });
const pc = (k: ChildSnapshot) => ({ ...vc(k), schoolId: k.schoolId });
const helper = { id: randomUUID(), kind: "teacher" as const, name: "王老师", phone: null, username: null, orgUnitCode: "360999101", schoolId: null };
const p = { p1: randomUUID(), p2: randomUUID(), p3: randomUUID(), p4: randomUUID() };
const i = { i1: randomUUID(), i2: randomUUID(), i3: randomUUID(), i4: randomUUID(), i5: randomUUID(), i6: randomUUID() };
const k = { k1: randomUUID(), k2: randomUUID(), k3: randomUUID() };
const resp = (k: ChildSnapshot) => ({ kind: "village_director" as const, helperId: null, name: null, phone: null, username: null, villageCode: k.villageCode });
const item = (id: string, c: ChildSnapshot, kind: "home_visit" | "parent_call" = "home_visit") => ({
  itemId: id,
  kind,
  period: "2026-11",
  dueDate: "2026-12-05",
  child: vc(c),
  responsible: resp(c),
});
const recorded = (
  rec: string,
  c: ChildSnapshot,
  date: string,
  satisfied: { itemId: string; onTime: boolean } | null,
  kind: "home_visit" | "tutoring" = "home_visit",
) =>
  ev("visit.recorded", c.id, c.villageCode, {
    recordId: rec,
    kind,
    date,
    child: vc(c),
    visitor: { userId: "u", name: "王老师" },
    satisfied: satisfied && { ...satisfied, period: "2026-11" },
    followUpNeeded: false,
    concernRaised: false,
  });

function script(): Envelope[] {
  const { A, B, C, D, E } = kids;
  return [
    ev("snapshot.org-units", "360999", "360999", {
      runId: randomUUID(),
      units: [
        { code: "360999", name: "示范县", level: "county", parentCode: null },
        { code: "360999101", name: "长岭乡", level: "township", parentCode: "360999" },
        { code: "360999102", name: "石门镇", level: "township", parentCode: "360999" },
        { code: "360999101201", name: "长岭村", level: "village", parentCode: "360999101" },
        { code: "360999101202", name: "枫树村", level: "village", parentCode: "360999101" },
      ],
      schools: [{ id: "S360999101001", name: "长岭乡中心小学", townshipCode: "360999101" }],
    }),
    ...[A, B, C, D, E].map((c) => ev("child.registered", c.id, c.villageCode, { child: c })),
    ev("pairing.started", A.id, A.villageCode, { pairingId: p.p1, kind: "mentor", child: pc(A), helper, startDate: "2026-11-01", approvedBy: "x" }),
    ev("pairing.started", B.id, B.villageCode, { pairingId: p.p2, kind: "mentor", child: pc(B), helper, startDate: "2026-11-01", approvedBy: "x" }),
    ev("pairing.ended", B.id, B.villageCode, {
      pairingId: p.p2,
      kind: "mentor",
      child: pc(B),
      helper,
      endDate: "2026-11-10",
      reason: "helper_deactivated",
      note: null,
    }),
    ev("pairing.started", C.id, C.villageCode, {
      pairingId: p.p3,
      kind: "peer",
      child: pc(C),
      helper: { ...helper, kind: "peer_student" },
      startDate: "2026-11-01",
      approvedBy: "x",
    }),
    ev("pairing.started", D.id, D.villageCode, { pairingId: p.p4, kind: "mentor", child: pc(D), helper, startDate: "2026-11-01", approvedBy: "x" }),
    ev("visit.due", A.id, A.villageCode, { ...item(i.i1, A), daysLeft: 7 }),
    recorded(randomUUID(), A, "2026-11-20", { itemId: i.i1, onTime: true }),
    ev("visit.due", A.id, A.villageCode, { ...item(i.i2, A, "parent_call"), daysLeft: 7 }),
    ev("visit.overdue", A.id, A.villageCode, { ...item(i.i2, A, "parent_call"), daysOverdue: 1, level: 1 }),
    ev("visit.overdue", A.id, A.villageCode, { ...item(i.i2, A, "parent_call"), daysOverdue: 8, level: 2 }),
    ev("visit.overdue", B.id, B.villageCode, { ...item(i.i3, B), daysOverdue: 1, level: 1 }),
    recorded(randomUUID(), B, "2026-12-10", { itemId: i.i3, onTime: false }),
    ev("visit.due", C.id, C.villageCode, { ...item(i.i4, C), daysLeft: 7 }),
    ev("visit.due", D.id, D.villageCode, { ...item(i.i5, D), daysLeft: 7 }),
    recorded(randomUUID(), D, "2026-11-15", { itemId: i.i5, onTime: true }),
    recorded(randomUUID(), C, "2026-11-18", null, "tutoring"),
    ev("visit.due", E.id, E.villageCode, { ...item(i.i6, E), daysLeft: 7 }),
    ev("child.status-changed", E.id, E.villageCode, {
      child: { ...E, status: "exited", exitReason: "parent_returned", revision: 2 },
      from: "active",
      to: "exited",
      reason: "parent_returned",
      note: null,
    }),
    ev(
      "concern.raised",
      A.id,
      A.villageCode,
      {
        concernId: k.k1,
        recordId: null,
        category: "abuse_suspected",
        description: "x",
        child: vc(A),
        raisedBy: { userId: "u", name: "x" },
        ownerOrgUnit: "360999101",
        urgent: true,
      },
      "2026-11-12T02:00:00Z",
    ),
    ev("concern.escalated", A.id, A.villageCode, { concernId: k.k1, category: "abuse_suspected", child: vc(A), openDays: 3, escalatedTo: "360999" }),
    ev("concern.raised", C.id, C.villageCode, {
      concernId: k.k2,
      recordId: null,
      category: "safety",
      description: "x",
      child: vc(C),
      raisedBy: { userId: "u", name: "x" },
      ownerOrgUnit: "360999101",
      urgent: true,
    }),
    ev("concern.resolved", C.id, C.villageCode, {
      concernId: k.k2,
      category: "safety",
      child: vc(C),
      resolution: "已修缮",
      resolvedAt: "2026-11-21T02:00:00.000Z",
    }),
    ev("concern.raised", D.id, D.villageCode, {
      concernId: k.k3,
      recordId: null,
      category: "health",
      description: "x",
      child: vc(D),
      raisedBy: { userId: "u", name: "x" },
      ownerOrgUnit: "360999102",
      urgent: true,
    }),
    ev("checkup.recorded", A.id, A.villageCode, {
      examId: randomUUID(),
      campaignId: null,
      date: "2026-10-10",
      child: vc(A),
      flags: [{ kind: "anaemia", severity: "moderate", label: "贫血（中度）" }],
    }),
    ev("checkup.recorded", A.id, A.villageCode, { examId: randomUUID(), campaignId: null, date: "2026-11-01", child: vc(A), flags: [] }),
    ev("checkup.recorded", C.id, C.villageCode, {
      examId: randomUUID(),
      campaignId: null,
      date: "2026-09-01",
      child: vc(C),
      flags: [
        { kind: "overweight", severity: null, label: "超重" },
        { kind: "low_vision", severity: "mild", label: "视力低下（轻度）" },
      ],
    }),
    ev("notification.delivered", A.id, A.villageCode, {
      messageId: randomUUID(),
      sourceEventId: "x",
      sourceEventType: "concern.raised",
      channel: "sms",
      template: "concern_raised",
      urgent: true,
      recipient: "139****0101",
      attempts: 1,
    }),
  ];
}
const events = script();

/**
 * The scripted county by hand. 长岭乡: 甲 (high, 事实无人抚养, mentor, home visit on
 * time, parent call escalated, two exams with one anaemia finding, abuse concern
 * escalated), 乙 (one parent away, mentor ended, visit made late in December), 丙
 * (medium, peer buddy, visit pending, exam with two findings, safety concern
 * resolved), 戊 exited (its pending item closed). 石门镇: 丁 (mentor, visit on
 * time, health concern open).
 */
function expectScriptTotals(body: any): void {
  const changling = body.rows.find((r: { code: string }) => r.code === "360999101");
  expect(changling).toMatchObject({
    name: "长岭乡",
    children: 3,
    exited: 1,
    byType: { both_parents_away: 2, one_parent_away: 1 },
    byRisk: { high: 1, low: 1, medium: 1 },
    byCategory: { de_facto_unattended: 1 },
    mentored: 1,
    mentorCoverage: 0.333,
    peerBuddies: 1,
    visits: { month: "2026-11", records: 2, due: 4, onTime: 1, late: 1, missed: 1, punctuality: 0.333 },
    checkups: { year: "2026", examined: 2, coverage: 0.667, flags: { anaemia: 1, overweight: 1, low_vision: 1 } },
    concerns: { open: 1, escalated: 1, age: { upTo7Days: 0, upTo30Days: 1, over30Days: 0, oldestDays: 10 } },
    breakdown: {
      children: {
        "active|both_parents_away|high": 1,
        "active|one_parent_away|low": 1,
        "active|both_parents_away|medium": 1,
        "exited|both_parents_away|low": 1,
      },
      categories: { "active|de_facto_unattended|both_parents_away|high": 1 },
    },
  });
  const shimen = body.rows.find((r: { code: string }) => r.code === "360999102");
  expect(shimen).toMatchObject({
    name: "石门镇",
    children: 1,
    mentored: 1,
    mentorCoverage: 1,
    visits: { due: 1, onTime: 1, records: 1, punctuality: 1 },
    checkups: { examined: 0 },
    concerns: { open: 1, escalated: 0, age: { upTo7Days: 1, upTo30Days: 0, over30Days: 0, oldestDays: 2 } },
  });
  expect(shimen.breakdown).toEqual({ children: { "active|not_left_behind|low": 1 }, categories: { "active|disability|not_left_behind|low": 1 } });
  expect(body.total).toMatchObject({
    name: "合计",
    children: 4,
    mentored: 2,
    mentorCoverage: 0.5,
    visits: { due: 5, onTime: 2, late: 1, missed: 1, records: 3, punctuality: 0.5 },
    checkups: { examined: 2, coverage: 0.5 },
    concerns: { open: 2, escalated: 1, age: { upTo7Days: 1, upTo30Days: 1, over30Days: 0, oldestDays: 10 } },
  });
  expect(Object.values(body.total.breakdown.children).reduce((a: number, b) => a + (b as number), 0)).toBe(5);
}

async function overview(user = "county.admin", query = "month=2026-11") {
  const res = await app.inject({ url: `/api/v1/reports/overview?${query}`, headers: await issuer.as(user) });
  return { status: res.statusCode, body: res.json() as any };
}

async function resetAll() {
  await prisma.$executeRawUnsafe(`TRUNCATE children, pairings, visit_items, visit_records, concerns, checkups, counters, notification_stats, inbox`);
}

describe("routing", () => {
  it("every event routed to reporting has a handler, and every handler's event is routed here", () => {
    const routed = Object.entries(subscriptions)
      .filter(([, to]) => to.includes("reporting"))
      .map(([type]) => type)
      .sort();
    expect(Object.keys(handlers).sort()).toEqual(routed);
    // Findings reach reporting inside checkup.recorded (every exam's flags); checkup.flagged is a follow-up opened, for notifications.
    expect(routed).toContain("checkup.recorded");
  });
});

describe("numbers from a scripted sequence of events", () => {
  it("equal the hand-computed totals", async () => {
    for (const e of events) expect(await deliver(e)).toBe("applied");
    const { body } = await overview();
    expectScriptTotals(body);

    // December holds the late make-up visit's record.
    expect((await overview("county.admin", "month=2026-12")).body.total.visits.records).toBe(1);
  });

  it("keep counters equal to plain aggregates over the rows", async () => {
    const q = { orgUnit: "360999", unitLength: 12 as const, month: "2026-11" };
    expect(await figuresFromCounters(prisma, q)).toEqual(await figuresFromRows(prisma, q));
  });

  it("drill down to villages and schools, show the trend and the supervision report", async () => {
    const headers = await issuer.as("changling.supervisor");
    const villages = (await app.inject({ url: "/api/v1/reports/drilldown?orgUnit=360999101&month=2026-11", headers })).json();
    expect(villages.rows.map((r: { name: string; children: number }) => [r.name, r.children])).toEqual([
      ["长岭村", 2],
      ["枫树村", 1],
    ]);
    const schools = (await app.inject({ url: "/api/v1/reports/drilldown?orgUnit=360999101&by=school&month=2026-11", headers })).json();
    expect(schools.rows).toEqual([
      expect.objectContaining({ schoolName: "未入学", children: 1, mentored: 0, examined: 1 }),
      expect.objectContaining({ schoolName: "长岭乡中心小学", children: 2, mentored: 1, examined: 1 }),
    ]);
    const trend = (await app.inject({ url: "/api/v1/reports/trend?orgUnit=360999&month=2026-12&months=3", headers: await issuer.as("county.admin") })).json();
    expect(trend.months.map((m: { month: string; visitRecords: number; concernsRaised: number }) => [m.month, m.visitRecords, m.concernsRaised])).toEqual([
      ["2026-10", 0, 0],
      ["2026-11", 3, 3],
      ["2026-12", 1, 0],
    ]);
    // By default the last 12 months, ending with this month (the injected clock: 2026-11).
    const year = (await app.inject({ url: "/api/v1/reports/trend", headers: await issuer.as("county.admin") })).json();
    expect(year.months.map((m: { month: string }) => m.month)).toEqual([
      "2025-12",
      "2026-01",
      "2026-02",
      "2026-03",
      "2026-04",
      "2026-05",
      "2026-06",
      "2026-07",
      "2026-08",
      "2026-09",
      "2026-10",
      "2026-11",
    ]);
    expect(year.months.at(-1)).toMatchObject({ visitRecords: 3, itemsDue: 5, onTime: 2, late: 1, missed: 1, punctuality: 0.5, concernsRaised: 3 });
    const sup = (await app.inject({ url: "/api/v1/reports/supervision?orgUnit=360999101", headers })).json();
    expect(sup.unpaired.map((c: { name: string }) => c.name).sort()).toEqual(["丙", "乙"]);
    expect(sup.overdue).toEqual([expect.objectContaining({ name: "甲", kind: "parent_call", escalated: true })]);
    expect(sup.unexamined.map((c: { name: string }) => c.name)).toEqual(["乙"]);
    expect(sup.openConcerns).toEqual([expect.objectContaining({ childName: "甲", category: "abuse_suspected", ageDays: 10, escalated: true })]);
  });

  it("respects jurisdiction: a township sees itself only; teachers and health workers see no reports", async () => {
    const shimen = await overview("shimen.supervisor", "month=2026-11");
    expect(shimen.body.orgUnit).toBe("360999102");
    expect(shimen.body.rows.map((r: { code: string }) => r.code)).toEqual(["360999102201"]);
    expect((await overview("shimen.supervisor", "orgUnit=360999101")).status).toBe(403);
    expect((await overview("changling.teacher")).status).toBe(403);
    expect((await overview("changling.doctor")).status).toBe(403);
    expect((await overview("county.inspector")).status).toBe(200);
    // A village director sees their village; the county narrows to a township's villages on request.
    const village = await overview("changling.director");
    expect(village.body.rows.map((r: { code: string; children: number }) => [r.code, r.children])).toEqual([["360999101201", 2]]);
    expect((await overview("county.admin", "orgUnit=360999101&month=2026-11")).body.rows.map((r: { code: string }) => r.code)).toEqual([
      "360999101201",
      "360999101202",
    ]);
    // Asking for the county from inside a township gives the township, never more.
    const changling = await issuer.as("changling.supervisor");
    const narrowed = (await app.inject({ url: "/api/v1/reports/trend?orgUnit=360999&month=2026-11", headers: changling })).json();
    expect(narrowed.orgUnit).toBe("360999101");
    expect(narrowed.months.at(-1)).toMatchObject({ month: "2026-11", visitRecords: 2, concernsRaised: 2 });
    // Another township's drill-down, supervision report and export are refused.
    expect((await app.inject({ url: "/api/v1/reports/drilldown?orgUnit=360999102", headers: changling })).statusCode).toBe(403);
    expect((await app.inject({ url: "/api/v1/reports/supervision?orgUnit=360999102", headers: changling })).statusCode).toBe(403);
    expect(
      (await app.inject({ method: "POST", url: "/api/v1/reports/exports", headers: changling, payload: { report: "overview", orgUnit: "360999102" } }))
        .statusCode,
    ).toBe(403);
    // Rebuilding is the county administrator's, and its status is for report readers.
    expect((await app.inject({ method: "POST", url: "/api/v1/reports/rebuild", headers: changling })).statusCode).toBe(403);
    expect((await app.inject({ url: "/api/v1/reports/rebuild", headers: await issuer.as("changling.teacher") })).statusCode).toBe(403);
    expect((await overview("county.admin", "month=2026-13")).body.error.details[0].field).toBe("month");
  });

  it("exports the overview as .xlsx through the background job, with progress, every cell matching the JSON", async () => {
    const headers = await issuer.as("county.admin");
    const progress: { done: number; total: number }[] = [];
    exportEvents.on("progress", ({ data }) => progress.push(data as { done: number; total: number }));
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/reports/exports",
      headers,
      payload: { report: "overview", orgUnit: "360999", month: "2026-11" },
    });
    expect(res.statusCode).toBe(202);
    const id = res.json().id;
    await (await exportQueue.getJob(id))!.waitUntilFinished(exportEvents, 30_000);
    // Progress after each township row, then the end.
    expect(progress).toEqual([
      { done: 1, total: 2 },
      { done: 2, total: 2 },
      { done: 2, total: 2 },
    ]);
    expect((await app.inject({ url: `/api/v1/reports/exports/${id}`, headers })).json()).toMatchObject({ status: "done", total: 2, done: 2, progress: 1 });
    const file = await app.inject({ url: `/api/v1/reports/exports/${id}/file`, headers });
    expect(file.headers["content-type"]).toContain("spreadsheetml");
    expect(decodeURIComponent(String(file.headers["content-disposition"]))).toContain("示范县留守儿童统计表-2026-11.xlsx");
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(file.rawPayload as unknown as ArrayBuffer);
    const sheet = wb.worksheets[0]!;
    expect(String(sheet.getCell(1, 1).value)).toBe("示范县农村留守儿童关爱保护工作统计表（2026-11）");

    // Each Chinese header with where its number is in the JSON, written out independently of the workbook code.
    const pct = (x: number | null) => (x === null ? "—" : `${(x * 100).toFixed(1)}%`);
    const columns: [string, (r: any) => unknown][] = [
      ["单位", (r) => r.name],
      ["行政区划代码", (r) => r.code],
      ["在册儿童", (r) => r.children],
      ["双留守", (r) => r.byType.both_parents_away ?? 0],
      ["单留守", (r) => r.byType.one_parent_away ?? 0],
      ["一方外出另一方无监护能力", (r) => r.byType.one_away_other_unable ?? 0],
      ["非留守", (r) => r.byType.not_left_behind ?? 0],
      ["高风险", (r) => r.byRisk.high ?? 0],
      ["中风险", (r) => r.byRisk.medium ?? 0],
      ["低风险", (r) => r.byRisk.low ?? 0],
      ["事实无人抚养", (r) => r.byCategory.de_facto_unattended ?? 0],
      ["已结对帮扶", (r) => r.mentored],
      ["结对率", (r) => pct(r.mentorCoverage)],
      ["本月应访", (r) => r.visits.due],
      ["按时走访", (r) => r.visits.onTime],
      ["补访", (r) => r.visits.late],
      ["逾期未访", (r) => r.visits.missed],
      ["走访及时率", (r) => pct(r.visits.punctuality)],
      ["本月走访记录", (r) => r.visits.records],
      ["本年体检人数", (r) => r.checkups.examined],
      ["体检覆盖率", (r) => pct(r.checkups.coverage)],
      ["在办关注事项", (r) => r.concerns.open],
      ["其中超时上报", (r) => r.concerns.escalated],
      ["其中超过30天", (r) => r.concerns.age.over30Days],
      ["最长已持续天数", (r) => r.concerns.age.oldestDays ?? "—"],
    ];
    const cells = (row: number) => (sheet.getRow(row).values as unknown[]).slice(1);
    expect(cells(2)).toEqual(columns.map(([h]) => h));
    const json = (await overview()).body;
    expect(sheet.rowCount).toBe(2 + json.rows.length + 1);
    json.rows.forEach((r: any, n: number) => expect(cells(3 + n)).toEqual(columns.map(([, v]) => v(r))));
    expect(cells(3 + json.rows.length)).toEqual(columns.map(([, v], c) => (c === 0 ? "合计" : c === 1 ? "360999" : v(json.total))));
    // Spot-check against the hand-computed totals, so the comparison above is not of two wrong things.
    expect(cells(5).slice(2, 4)).toEqual([4, 2]);
    expect(cells(5)[columns.findIndex(([h]) => h === "走访及时率")]).toBe("50.0%");

    // Somebody else's export is not theirs to download.
    expect((await app.inject({ url: `/api/v1/reports/exports/${id}/file`, headers: await issuer.as("federation.officer") })).statusCode).toBe(404);
  });

  it("exports the supervision report as .xlsx, one sheet per list, matching the JSON", async () => {
    const headers = await issuer.as("changling.supervisor");
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/reports/exports",
      headers,
      payload: { report: "supervision", orgUnit: "360999101", month: "2026-11" },
    });
    expect(res.statusCode).toBe(202);
    const id = res.json().id;
    await (await exportQueue.getJob(id))!.waitUntilFinished(exportEvents, 30_000);
    expect((await app.inject({ url: `/api/v1/reports/exports/${id}`, headers })).json()).toMatchObject({ status: "done", total: 5, done: 5, progress: 1 });
    const file = await app.inject({ url: `/api/v1/reports/exports/${id}/file`, headers });
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(file.rawPayload as unknown as ArrayBuffer);
    expect(wb.worksheets.map((s) => s.name)).toEqual(["未结对儿童", "逾期未访", "未体检儿童", "在办关注事项"]);
    const json = (await app.inject({ url: "/api/v1/reports/supervision?orgUnit=360999101", headers })).json();
    const village = (code: string) => ({ "360999101201": "长岭村", "360999101202": "枫树村" })[code];
    const body = (name: string) => {
      const sheet = wb.getWorksheet(name)!;
      const rows: unknown[][] = [];
      for (let r = 3; r <= sheet.rowCount; r++) rows.push((sheet.getRow(r).values as unknown[]).slice(1));
      return rows;
    };
    expect(body("未结对儿童")).toEqual([
      ...json.unpaired.map((c: any, n: number) => [
        n + 1,
        c.name,
        village(c.villageCode),
        labels.leftBehindType[c.leftBehindType as "both_parents_away"],
        labels.riskLevel[c.riskLevel as "low"],
      ]),
      ["合计", `${json.unpaired.length}人`],
    ]);
    expect(body("逾期未访")).toEqual([
      ...json.overdue.map((o: any, n: number) => [n + 1, o.name, village(o.villageCode), "与父母通话", o.period, o.dueDate, o.escalated ? "是" : "否"]),
      ["合计", "1人"],
    ]);
    expect(body("未体检儿童")).toEqual([...json.unexamined.map((c: any, n: number) => [n + 1, c.name, village(c.villageCode)]), ["合计", "1人"]]);
    expect(body("在办关注事项")).toEqual([
      ...json.openConcerns.map((c: any, n: number) => [n + 1, c.childName, village(c.villageCode), "疑似遭受侵害", c.ageDays, "是"]),
      ["合计", "1人"],
    ]);
    // The hand-computed lists: 乙 and 丙 unpaired, 甲's parent call escalated, 乙 unexamined, 甲's concern open 10 days.
    expect(
      body("未结对儿童")
        .map((r) => r[1])
        .slice(0, 2)
        .sort(),
    ).toEqual(["丙", "乙"]);
    expect(body("在办关注事项")[0]).toEqual([1, "甲", "长岭村", "疑似遭受侵害", 10, "是"]);

    // The download is audited with every child the lists name (issue 14.8).
    const named = new Set<string>([
      ...json.unpaired.map((c: any) => c.id),
      ...json.overdue.map((o: any) => o.childId),
      ...json.unexamined.map((c: any) => c.id),
      ...json.openConcerns.map((c: any) => c.childId),
    ]);
    const audit = JSON.parse(String(file.headers["x-shouhu-audit"]));
    expect(audit).toMatchObject({ action: "export", exportId: id, childCount: named.size });
    expect([...audit.childIds].sort()).toEqual([...named].sort());

    // Kept 24 hours, then 410 with the reason, and the hourly purge deletes row and file.
    const after = new Date(Date.now() + 24 * 3600_000 + 1000);
    const expired = await buildReportingApp({
      prisma,
      verifier: createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web"] }),
      logger: createLogger("reporting-test", "silent"),
      exports: exportQueue,
      now: () => after,
    });
    try {
      const gone = await expired.inject({ url: `/api/v1/reports/exports/${id}/file`, headers });
      expect(gone.statusCode).toBe(410);
      expect(gone.json().error).toMatchObject({ code: "EXPORT_EXPIRED", message: expect.stringContaining("24 小时") });
    } finally {
      await expired.close();
    }
    expect(await purgeExpiredReports(prisma, new Date(), 24 * 3600_000)).toBe(0);
    expect(await purgeExpiredReports(prisma, after)).toBeGreaterThanOrEqual(1);
    expect(await prisma.exportJob.findUnique({ where: { id } })).toBeNull();
  });

  it("drafts a semester's 工作总结 as .docx with the figures of the area, or of one school in it", async () => {
    const text = async (user: string, payload: object) => {
      const headers = await issuer.as(user);
      const res = await app.inject({ method: "POST", url: "/api/v1/reports/exports", headers, payload: { report: "work_summary", ...payload } });
      expect(res.statusCode, res.body).toBe(202);
      const id = res.json().id;
      await (await exportQueue.getJob(id))!.waitUntilFinished(exportEvents, 30_000);
      const file = await app.inject({ url: `/api/v1/reports/exports/${id}/file`, headers });
      expect(file.headers["content-type"]).toContain("wordprocessingml");
      const xml = strFromU8(unzipSync(new Uint8Array(file.rawPayload))["word/document.xml"]!);
      // The document's words, runs joined (Word splits a sentence into runs by formatting).
      return {
        name: decodeURIComponent(String(file.headers["content-disposition"])),
        words: [...xml.matchAll(/<w:t[^>]*>([^<]*)<\/w:t>/g)].map((m) => m[1]).join(""),
      };
    };
    const county = await text("county.admin", { orgUnit: "360999", semester: "2026-2027-1" });
    expect(county.name).toContain("示范县留守儿童关爱保护工作总结-2026—2027学年第一学期.docx");
    for (const sentence of [
      "示范县农村留守儿童关爱保护工作总结（2026—2027学年第一学期）",
      "共建档在册农村留守儿童和困境儿童4名",
      "已退出关爱名册的儿童累计1名",
      "2名在册儿童落实了结对帮扶人，结对率50%；1名帮扶人在岗帮扶",
      "开展“手拉手”同伴结对1对",
      "共开展走访、谈心和亲情联系4次，覆盖儿童4名，其中家访3次、学业辅导1次",
      "本学期应访4次，按时完成2次，补访1次，逾期未访1次，走访及时率50%",
      "组织2名儿童参加免费健康体检，覆盖率50%；发现需关注的健康问题2名，其中超重1名、视力低下1名、贫血1名",
      "本学期发现并登记关注事项3件，其中安全隐患1件、疑似遭受侵害1件、健康问题1件；本学期办结1件，目前仍在办理2件",
      "1. 仍有2名在册儿童未落实结对帮扶人。",
      "（请补充下学期的工作计划。）",
    ])
      expect(county.words).toContain(sentence);
    // The last semester had none of it: the same draft, with zeros and without the problems.
    const spring = await text("county.admin", { orgUnit: "360999", semester: "2025-2026-2" });
    expect(spring.words).toContain("本学期应访0次");
    expect(spring.words).toContain("本学期发现并登记关注事项0件；");
    // One school in a township: its children only; a school of another area is one that does not exist.
    const school = await text("changling.supervisor", { orgUnit: "360999101", schoolId: "S360999101001", semester: "2026-2027-1" });
    expect(school.name).toContain("长岭乡中心小学留守儿童关爱保护工作总结");
    const headers = await issuer.as("shimen.supervisor");
    const elsewhere = await app.inject({
      method: "POST",
      url: "/api/v1/reports/exports",
      headers,
      payload: { report: "work_summary", orgUnit: "360999102", schoolId: "S360999101001" },
    });
    expect(elsewhere.statusCode).toBe(404);
  });

  it("answers bad input with 4xx naming the field, never a 500", async () => {
    const headers = await issuer.as("county.admin");
    const field = async (url: string, method: "GET" | "POST" = "GET", payload?: object) => {
      const res = await app.inject({ method, url, headers, payload });
      expect(res.statusCode).toBe(400);
      const body = res.json();
      expect(body.error.code).toBe("VALIDATION_FAILED");
      return body.error.details.map((d: { field: string }) => d.field);
    };
    expect(await field("/api/v1/reports/overview?month=2026-13")).toContain("month");
    expect(await field("/api/v1/reports/overview?orgUnit=36099")).toContain("orgUnit");
    expect(await field("/api/v1/reports/drilldown")).toContain("orgUnit");
    expect(await field("/api/v1/reports/drilldown?orgUnit=360999101&by=class")).toContain("by");
    expect(await field("/api/v1/reports/trend?months=0")).toContain("months");
    expect(await field("/api/v1/reports/trend?months=abc")).toContain("months");
    expect(await field("/api/v1/reports/supervision?orgUnit=360999")).toContain("orgUnit");
    expect(await field("/api/v1/reports/exports", "POST", { report: "everything", orgUnit: "360999" })).toContain("report");
    expect(await field("/api/v1/reports/exports", "POST", { report: "overview" })).toContain("orgUnit");
    expect(await field("/api/v1/reports/exports", "POST", { report: "supervision", orgUnit: "360999" })).toContain("orgUnit");
    expect(await field("/api/v1/reports/exports/not-an-id")).toContain("id");
    expect(await field("/api/v1/reports/exports", "POST", { report: "work_summary", orgUnit: "360999", semester: "2026-2028-1" })).toContain("semester");
    expect(await field("/api/v1/reports/exports", "POST", { report: "work_summary", orgUnit: "360999", semester: "2026秋" })).toContain("semester");
    expect(await field("/api/v1/reports/exports", "POST", { report: "overview", orgUnit: "360999", semester: "2026-2027-1" })).toContain("semester");
    expect(await field("/api/v1/reports/exports", "POST", { report: "work_summary", orgUnit: "360999", schoolId: "" })).toContain("schoolId");
    // A well-formed id nobody exported: 404, not 500.
    expect((await app.inject({ url: `/api/v1/reports/exports/${randomUUID()}`, headers })).statusCode).toBe(404);
    // No token at all: 401.
    expect((await app.inject({ url: "/api/v1/reports/overview" })).statusCode).toBe(401);
  });
});

describe("notification delivery statistics", () => {
  it("counts deliveries and failures per day and channel for the county admin only, with bad input a 400 naming the field", async () => {
    const outcome = { sourceEventId: "x", sourceEventType: "visit.overdue", template: "visit_overdue", urgent: false, recipient: "139****0101", attempts: 1 };
    await deliver(ev("notification.delivered", ids.A, kids.A.villageCode, { ...outcome, messageId: randomUUID(), channel: "email" }, "2026-11-21T02:00:00Z"));
    await deliver(ev("notification.delivered", ids.A, kids.A.villageCode, { ...outcome, messageId: randomUUID(), channel: "email" }, "2026-11-21T03:00:00Z"));
    await deliver(
      ev(
        "notification.failed",
        ids.A,
        kids.A.villageCode,
        { ...outcome, messageId: randomUUID(), channel: "email", reason: "邮箱不存在" },
        "2026-11-21T04:00:00Z",
      ),
    );
    const res = await app.inject({ url: "/api/v1/reports/notifications?days=366", headers: await issuer.as("county.admin") });
    expect(res.statusCode).toBe(200);
    expect(res.json().items).toContainEqual({ day: "2026-11-21", channel: "email", channelLabel: "电子邮件", delivered: 2, failed: 1 });
    expect((await app.inject({ url: "/api/v1/reports/notifications", headers: await issuer.as("changling.supervisor") })).statusCode).toBe(403);
    const bad = await app.inject({ url: "/api/v1/reports/notifications?days=0", headers: await issuer.as("county.admin") });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0].field).toBe("days");
  });

  it("a failed receipt of a sent SMS moves it from delivered (the day it was sent) to failed, in whichever order the two events arrive", async () => {
    const outcome = {
      sourceEventId: "y",
      sourceEventType: "letter",
      template: "letter_home",
      urgent: false,
      recipient: "139****0000",
      attempts: 1,
      channel: "sms" as const,
    };
    const sms = async (day: string) =>
      (await app.inject({ url: "/api/v1/reports/notifications?days=366", headers: await issuer.as("county.admin") }))
        .json()
        .items.find((i: { day: string; channel: string }) => i.day === day && i.channel === "sms");
    const pair = (messageId: string, sentAt: string, failedAt: string) => [
      ev("notification.delivered", ids.A, kids.A.villageCode, { ...outcome, messageId }, sentAt),
      ev("notification.failed", ids.A, kids.A.villageCode, { ...outcome, messageId, reason: "短信回执：未送达（IS_CLOSE 用户停机）", sentAt }, failedAt),
    ];
    // Sent late on the 18th (UTC), the receipt on the 19th: the 18th loses its delivery, the 19th counts the failure.
    const [delivered, failed] = pair(randomUUID(), "2026-11-18T23:59:00.000Z", "2026-11-19T00:01:00.000Z");
    await deliver(delivered!);
    expect(await sms("2026-11-18")).toMatchObject({ delivered: 1, failed: 0 });
    await deliver(failed!);
    expect(await deliver(failed!)).toBe("duplicate");
    expect(await sms("2026-11-18")).toMatchObject({ delivered: 0, failed: 0 });
    expect(await sms("2026-11-19")).toMatchObject({ delivered: 0, failed: 1 });
    // The receipt's event applied before the delivery's: the same numbers once both are in.
    const [d2, f2] = pair(randomUUID(), "2026-11-17T02:00:00.000Z", "2026-11-17T02:05:00.000Z");
    await deliver(f2!);
    await deliver(d2!);
    expect(await sms("2026-11-17")).toMatchObject({ delivered: 0, failed: 1 });
  });
});

describe("idempotent and order-independent", () => {
  it("a redelivered event never double-counts", async () => {
    const before = (await overview()).body;
    for (const e of events) expect(await deliver(e)).toBe("duplicate");
    expect((await overview()).body).toEqual(before);
  });

  it("the same events in reverse order (updates before registrations, ends before starts) converge to the same numbers", async () => {
    const before = (await overview()).body;
    await resetAll();
    for (const e of [...events].reverse()) await deliver(e);
    expect((await overview()).body).toEqual(before);
    const q = { orgUnit: "360999", unitLength: 12 as const, month: "2026-11" };
    expect(await figuresFromCounters(prisma, q)).toEqual(await figuresFromRows(prisma, q));
  });
});

/** A seeded shuffle, so a failing order can be replayed. */
function shuffled<T>(list: T[], seed: number): T[] {
  let x = seed;
  const random = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  const out = [...list];
  for (let n = out.length - 1; n > 0; n--) {
    const j = Math.floor(random() * (n + 1));
    [out[n], out[j]] = [out[j]!, out[n]!];
  }
  return out;
}

describe("idempotent and order-independent, in any order", () => {
  it.each([1, 2, 3, 4, 5])("shuffled order %i with redeliveries and re-published copies gives the hand-computed totals", async (seed) => {
    await resetAll();
    // Every third event redelivered (same id), and each record, exam and pairing re-published under a new event id (same entity).
    const copies = events
      .filter((e) => ["visit.recorded", "checkup.recorded", "pairing.started", "concern.raised"].includes(e.type))
      .map((e) => ({ ...e, id: randomUUID() }));
    const stream = shuffled([...events, ...events.filter((_, n) => n % 3 === 0), ...copies], seed);
    const outcomes = { applied: 0, duplicate: 0 };
    for (const e of stream) outcomes[(await deliver(e)) as "applied" | "duplicate"]++;
    expect(outcomes.duplicate).toBe(events.filter((_, n) => n % 3 === 0).length);
    expectScriptTotals((await overview()).body);
    const q = { orgUnit: "360999", unitLength: 12 as const, month: "2026-11" };
    expect(await figuresFromCounters(prisma, q)).toEqual(await figuresFromRows(prisma, q));
  });

  it.each([1, 2, 3, 4, 5])(
    "shuffled order %i in batches of 7 as the service applies them (rows preloaded, child snapshots together, counters summed per batch) gives the hand-computed totals",
    async (seed) => {
      await resetAll();
      const copies = events
        .filter((e) => ["visit.recorded", "checkup.recorded", "pairing.started", "concern.raised"].includes(e.type))
        .map((e) => ({ ...e, id: randomUUID() }));
      const stream = shuffled([...events, ...events.filter((_, n) => n % 3 === 0), ...copies], seed + 10);
      const pool = createPgPool(db.url, { max: 1 });
      const outcomes = { applied: 0, duplicate: 0 };
      try {
        for (let i = 0; i < stream.length; i += 7) {
          const batch = await consumeEvents<SqlTx>(
            stream.slice(i, i + 7),
            handlers,
            (fn) => inPgTransaction(pool, (tx) => inBatch(tx, (t) => inChildBatch(t, fn))),
            undefined,
            prepareReportingBatch,
          );
          for (const o of batch) outcomes[o]++;
        }
      } finally {
        await pool.end();
      }
      expect(outcomes.duplicate).toBe(events.filter((_, n) => n % 3 === 0).length);
      expectScriptTotals((await overview()).body);
      const q = { orgUnit: "360999", unitLength: 12 as const, month: "2026-11" };
      expect(await figuresFromCounters(prisma, q)).toEqual(await figuresFromRows(prisma, q));
    },
  );

  it.each(["prisma", "service"] as const)(
    "through the real consumer (%s transactions; BullMQ, events of one child in one batch and across batches), with re-published copies, gives the hand-computed totals",
    async (mode) => {
      await resetAll();
      const queue = new Queue(eventsQueue("reporting"), { connection: { url: REDIS_URL }, prefix });
      // "service": as main.ts runs it, a plain pg transaction per batch, child snapshots applied together, counters summed and written at its end.
      const pool = createPgPool(db.url, { max: 2 });
      const runInTransaction =
        mode === "service"
          ? <T>(fn: (tx: Tx) => Promise<T>) => inPgTransaction(pool, (tx) => inBatch(tx, (t) => inChildBatch(t, (c) => fn(c as unknown as Tx))))
          : <T>(fn: (tx: Tx) => Promise<T>) => prisma.$transaction(fn);
      const prepare = mode === "service" ? (prepareReportingBatch as unknown as BatchPrepare<Tx>) : undefined;
      const consumer = createEventConsumer<Tx>({
        service: "reporting",
        connection: workerRedis,
        prefix,
        concurrency: mode === "service" ? 40 : 8,
        batch: { size: mode === "service" ? 20 : 50 },
        handlers,
        runInTransaction,
        prepare,
      });
      try {
        const copies = events
          .filter((e) => ["visit.recorded", "checkup.recorded", "visit.overdue", "concern.raised"].includes(e.type))
          .map((e) => ({ ...e, id: randomUUID() }));
        const stream = shuffled([...events, ...copies], 42);
        for (const e of stream) await queue.add(e.type, e, { ...eventJobOptions, jobId: e.id });
        for (let waited = 0; (await prisma.inboxEvent.count()) < stream.length; waited += 100) {
          if (waited > 30_000) throw new Error(`consumer applied ${await prisma.inboxEvent.count()} of ${stream.length}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        expectScriptTotals((await overview()).body);
        const q = { orgUnit: "360999", unitLength: 12 as const, month: "2026-11" };
        expect(await figuresFromCounters(prisma, q)).toEqual(await figuresFromRows(prisma, q));
      } finally {
        await consumer.close();
        await pool.end();
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
      }
    },
  );

  it("afterwards in script order again: everything is a duplicate", async () => {
    await resetAll();
    for (const e of events) await deliver(e);
    for (const e of events) expect(await deliver(e)).toBe("duplicate");
    expectScriptTotals((await overview()).body);
  });
});

describe("rebuild from snapshots", () => {
  it("gives the same numbers as the live projection", async () => {
    const live = (await overview()).body;
    const liveTrend = (
      await app.inject({ url: "/api/v1/reports/trend?orgUnit=360999&month=2026-12&months=3", headers: await issuer.as("county.admin") })
    ).json();
    const views = async () => {
      const headers = await issuer.as("county.admin");
      return Promise.all(
        [
          "drilldown?orgUnit=360999101&month=2026-11",
          "drilldown?orgUnit=360999101&by=school&month=2026-11",
          "drilldown?orgUnit=360999102&month=2026-11",
          "supervision?orgUnit=360999101",
          "supervision?orgUnit=360999102",
        ].map(async (path) => (await app.inject({ url: `/api/v1/reports/${path}`, headers })).json()),
      );
    };
    const liveViews = await views();
    const notificationsBefore = await prisma.notificationStat.findMany();
    expect(notificationsBefore).toEqual([expect.objectContaining({ channel: "sms", delivered: 1, failed: 0 })]);
    // Another county's read model, which this county's rebuild must leave alone.
    await prisma.$executeRawUnsafe(
      `INSERT INTO counters (village_code, metric, dims, n) VALUES ('360888101201', 'children', 'active|both_parents_away|low|', 7) ON CONFLICT DO NOTHING`,
    );
    const otherCountyBefore = await prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM counters WHERE village_code LIKE '360888%'`);
    const rebuildId = await startRebuild(prisma, "county.admin", "360999");
    expect((await overview()).body.total.children).toBe(0);
    expect(otherCountyBefore).toEqual([{ n: 1 }]);
    expect(await prisma.$queryRawUnsafe(`SELECT count(*)::int AS n FROM counters WHERE village_code LIKE '360888%'`)).toEqual(otherCountyBefore);
    await prisma.$executeRawUnsafe(`DELETE FROM counters WHERE village_code LIKE '360888%'`);

    // What each producer re-publishes: its current state, one snapshot event per record.
    const runId = randomUUID();
    const { A, B, C, D, E } = kids;
    const snapshots: Envelope[] = [
      events[0]!,
      ...[A, B, C, D].map((c) => ev("snapshot.child", c.id, c.villageCode, { runId, child: c })),
      ev("snapshot.child", E.id, E.villageCode, { runId, child: { ...E, status: "exited", exitReason: "parent_returned", revision: 2 } }),
      ev("snapshot.completed", "360999", "360999", { runId, producer: "registry", events: 5 }),
      ev("snapshot.pairing", A.id, A.villageCode, {
        runId,
        pairingId: p.p1,
        kind: "mentor",
        status: "active",
        child: pc(A),
        startDate: "2026-11-01",
        endDate: null,
      }),
      ev("snapshot.pairing", B.id, B.villageCode, {
        runId,
        pairingId: p.p2,
        kind: "mentor",
        status: "ended",
        child: pc(B),
        startDate: "2026-11-01",
        endDate: "2026-11-10",
      }),
      ev("snapshot.pairing", C.id, C.villageCode, {
        runId,
        pairingId: p.p3,
        kind: "peer",
        status: "active",
        child: pc(C),
        startDate: "2026-11-01",
        endDate: null,
      }),
      ev("snapshot.pairing", D.id, D.villageCode, {
        runId,
        pairingId: p.p4,
        kind: "mentor",
        status: "active",
        child: pc(D),
        startDate: "2026-11-01",
        endDate: null,
      }),
      ev("snapshot.completed", "360999", "360999", { runId, producer: "pairing", events: 4 }),
      ...(
        [
          [i.i1, A, "home_visit", "done", true],
          [i.i2, A, "parent_call", "escalated", null],
          [i.i3, B, "home_visit", "done", false],
          [i.i4, C, "home_visit", "due", null],
          [i.i5, D, "home_visit", "done", true],
          [i.i6, E, "home_visit", "closed", null],
        ] as const
      ).map(([id, c, kind, state, onTime]) =>
        ev("snapshot.visit-item", c.id, c.villageCode, {
          runId,
          itemId: id,
          kind,
          period: "2026-11",
          dueDate: "2026-12-05",
          child: vc(c),
          state,
          doneOn: null,
          onTime,
        }),
      ),
      ...events
        .filter((e) => e.type === "visit.recorded")
        .map((e) => {
          const d = e.data as EventData<"visit.recorded">;
          return ev("snapshot.visit-record", d.child.id, d.child.villageCode, { runId, recordId: d.recordId, kind: d.kind, date: d.date, child: d.child });
        }),
      ev("snapshot.concern", A.id, A.villageCode, {
        runId,
        concernId: k.k1,
        category: "abuse_suspected",
        child: vc(A),
        raisedAt: "2026-11-12T02:00:00.000Z",
        escalated: true,
        resolvedAt: null,
      }),
      ev("snapshot.concern", C.id, C.villageCode, {
        runId,
        concernId: k.k2,
        category: "safety",
        child: vc(C),
        raisedAt: "2026-11-20T02:00:00.000Z",
        escalated: false,
        resolvedAt: "2026-11-21T02:00:00.000Z",
      }),
      ev("snapshot.concern", D.id, D.villageCode, {
        runId,
        concernId: k.k3,
        category: "health",
        child: vc(D),
        raisedAt: "2026-11-20T02:00:00.000Z",
        escalated: false,
        resolvedAt: null,
      }),
      ev("snapshot.completed", "360999", "360999", { runId, producer: "visits", events: 13 }),
      // Health re-publishes its exams as checkup.recorded (new event ids).
      ...events.filter((e) => e.type === "checkup.recorded").map((e) => ev("checkup.recorded", e.subject, e.orgUnit, e.data as EventData<"checkup.recorded">)),
      ev("snapshot.completed", "360999", "360999", { runId, producer: "health", events: 3 }),
      // Activities: no session held in this script.
      ev("snapshot.completed", "360999", "360999", { runId, producer: "activities", events: 0 }),
    ];
    for (const e of snapshots) await deliver(e);
    const rebuilt = (await overview()).body;
    expect(rebuilt).toEqual(live);
    const rebuiltTrend = (
      await app.inject({ url: "/api/v1/reports/trend?orgUnit=360999&month=2026-12&months=3", headers: await issuer.as("county.admin") })
    ).json();
    expect(rebuiltTrend).toEqual(liveTrend);
    expect(await views()).toEqual(liveViews);
    // Nobody re-publishes notification outcomes: a rebuild keeps them as they were.
    expect(await prisma.notificationStat.findMany()).toEqual(notificationsBefore);
    expectScriptTotals(rebuilt);
    const status = (await app.inject({ url: "/api/v1/reports/rebuild", headers: await issuer.as("county.admin") })).json();
    expect(status).toMatchObject({ id: rebuildId, completed: ["registry", "pairing", "visits", "health", "activities"] });
    expect(status.finishedAt).not.toBeNull();
  });
});

describe("a child who moves village, and one who leaves, with check-ups", () => {
  // 己 registered in 长岭村 with a mentor, an on-time home visit, an open concern and an
  // exam finding, then moves to 石门镇 (a record published before visits heard of the
  // move still carries 长岭村); 庚 in 枫树村 is examined, then leaves the programme.
  const F = child(randomUUID(), { name: "己" });
  const G = child(randomUUID(), { name: "庚", villageCode: "360999101202" });
  const moved: ChildSnapshot = {
    ...F,
    villageCode: "360999102201",
    townshipCode: "360999102",
    schoolId: "S360999102001",
    schoolName: "石门镇小学",
    revision: 2,
  };
  const left: ChildSnapshot = { ...G, status: "exited", exitReason: "moved_away", revision: 2 };
  const ids = {
    pairing: randomUUID(),
    item: randomUUID(),
    r1: randomUUID(),
    r2: randomUUID(),
    concern: randomUUID(),
    examF: randomUUID(),
    examG: randomUUID(),
  };
  const live: Envelope[] = [
    ev("child.registered", F.id, F.villageCode, { child: F }),
    ev("child.registered", G.id, G.villageCode, { child: G }),
    ev("pairing.started", F.id, F.villageCode, { pairingId: ids.pairing, kind: "mentor", child: pc(F), helper, startDate: "2026-10-01", approvedBy: "x" }),
    ev("visit.due", F.id, F.villageCode, { ...item(ids.item, F), daysLeft: 7 }),
    recorded(ids.r1, F, "2026-11-05", { itemId: ids.item, onTime: true }),
    ev(
      "concern.raised",
      F.id,
      F.villageCode,
      {
        concernId: ids.concern,
        recordId: null,
        category: "neglect",
        description: "x",
        child: vc(F),
        raisedBy: { userId: "u", name: "x" },
        ownerOrgUnit: "360999101",
        urgent: true,
      },
      "2026-11-06T02:00:00Z",
    ),
    ev("checkup.recorded", F.id, F.villageCode, {
      examId: ids.examF,
      campaignId: null,
      date: "2026-10-10",
      child: vc(F),
      flags: [{ kind: "low_vision", severity: "mild", label: "视力低下（轻度）" }],
    }),
    ev("checkup.recorded", G.id, G.villageCode, { examId: ids.examG, campaignId: null, date: "2026-09-01", child: vc(G), flags: [] }),
    ev("child.updated", F.id, moved.villageCode, { child: moved, changes: [{ field: "villageCode", before: F.villageCode, after: moved.villageCode }] }),
    ev("child.status-changed", G.id, G.villageCode, { child: left, from: "active", to: "exited", reason: "moved_away", note: null }),
    recorded(ids.r2, F, "2026-11-25", null),
  ];

  async function expectHandTotals() {
    const body = (await overview()).body;
    expect(body.rows.find((r: { code: string }) => r.code === "360999101")).toMatchObject({
      children: 0,
      exited: 1,
      mentored: 0,
      visits: { due: 0, records: 0 },
      checkups: { examined: 0, flags: {} },
      concerns: { open: 0 },
    });
    expect(body.rows.find((r: { code: string }) => r.code === "360999102")).toMatchObject({
      children: 1,
      mentored: 1,
      mentorCoverage: 1,
      visits: { due: 1, onTime: 1, records: 2, punctuality: 1 },
      checkups: { examined: 1, coverage: 1, flags: { low_vision: 1 } },
      concerns: { open: 1 },
    });
    // Coverage never counts a child who left: 庚's exam no longer counts, and nobody is missing an exam.
    expect(body.total).toMatchObject({ children: 1, exited: 1, mentored: 1, checkups: { examined: 1, coverage: 1 }, concerns: { open: 1 } });
    const headers = await issuer.as("county.admin");
    const shimen = (await app.inject({ url: "/api/v1/reports/supervision?orgUnit=360999102", headers })).json();
    expect([shimen.unpaired, shimen.overdue, shimen.unexamined]).toEqual([[], [], []]);
    expect(shimen.openConcerns.map((c: { childName: string; villageCode: string }) => [c.childName, c.villageCode])).toEqual([["己", "360999102201"]]);
    const changling = (await app.inject({ url: "/api/v1/reports/supervision?orgUnit=360999101", headers })).json();
    expect([changling.unpaired, changling.overdue, changling.unexamined, changling.openConcerns]).toEqual([[], [], [], []]);
    const q = { orgUnit: "360999", unitLength: 12 as const, month: "2026-11" };
    expect(await figuresFromCounters(prisma, q)).toEqual(await figuresFromRows(prisma, q));
    return body;
  }

  it("counts the moved child and its rows where it lives now, in any order", async () => {
    await resetAll();
    for (const e of live) await deliver(e);
    await expectHandTotals();
    for (const order of [[...live].reverse(), shuffled(live, 7), shuffled(live, 11)]) {
      await resetAll();
      for (const e of order) await deliver(e);
      await expectHandTotals();
    }
  });

  it("a rebuild from the producers' current state gives the live numbers", async () => {
    await resetAll();
    for (const e of live) await deliver(e);
    const before = await expectHandTotals();
    await startRebuild(prisma, "county.admin", "360999");
    const runId = randomUUID();
    // Each producer re-publishes what it holds now: the moved child at 石门镇.
    const snapshots: Envelope[] = [
      ev("snapshot.child", F.id, moved.villageCode, { runId, child: moved }),
      ev("snapshot.child", G.id, G.villageCode, { runId, child: left }),
      ev("snapshot.completed", "360999", "360999", { runId, producer: "registry", events: 2 }),
      ev("snapshot.pairing", F.id, moved.villageCode, {
        runId,
        pairingId: ids.pairing,
        kind: "mentor",
        status: "active",
        child: pc(moved),
        startDate: "2026-10-01",
        endDate: null,
      }),
      ev("snapshot.completed", "360999", "360999", { runId, producer: "pairing", events: 1 }),
      ev("snapshot.visit-item", F.id, moved.villageCode, {
        runId,
        itemId: ids.item,
        kind: "home_visit",
        period: "2026-11",
        dueDate: "2026-12-05",
        child: vc(moved),
        state: "done",
        doneOn: "2026-11-05",
        onTime: true,
      }),
      ev("snapshot.visit-record", F.id, moved.villageCode, { runId, recordId: ids.r1, kind: "home_visit", date: "2026-11-05", child: vc(moved) }),
      ev("snapshot.visit-record", F.id, moved.villageCode, { runId, recordId: ids.r2, kind: "home_visit", date: "2026-11-25", child: vc(moved) }),
      ev("snapshot.concern", F.id, moved.villageCode, {
        runId,
        concernId: ids.concern,
        category: "neglect",
        child: vc(moved),
        raisedAt: "2026-11-06T02:00:00.000Z",
        escalated: false,
        resolvedAt: null,
      }),
      ev("snapshot.completed", "360999", "360999", { runId, producer: "visits", events: 4 }),
      ev("checkup.recorded", F.id, moved.villageCode, {
        examId: ids.examF,
        campaignId: null,
        date: "2026-10-10",
        child: vc(moved),
        flags: [{ kind: "low_vision", severity: "mild", label: "视力低下（轻度）" }],
      }),
      ev("checkup.recorded", G.id, G.villageCode, { examId: ids.examG, campaignId: null, date: "2026-09-01", child: vc(G), flags: [] }),
      ev("snapshot.completed", "360999", "360999", { runId, producer: "health", events: 2 }),
    ];
    for (const e of shuffled(snapshots, 3)) await deliver(e);
    expect(await expectHandTotals()).toEqual(before);
  });
});
