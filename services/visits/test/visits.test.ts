import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { jobQueues, type ChildSnapshot, type Envelope } from "@shouhu/contracts";
import { buildEvent, consumeEvent, createJobQueue, createRedisConnection } from "@shouhu/messaging";
import { childSnapshot, mentorPairing, pairingEndedData, pairingStartedData, testPrefix, type TestHelper, type TestIssuer } from "@shouhu/testing";
import type { PrismaClient, Tx } from "../src/data/db.js";
import { visitEventHandlers } from "../src/events/handlers.js";
import { SCAN_JOB, dailyScan } from "../src/data/scan.js";
import { startScanWorker } from "../src/jobs/scan-worker.js";
import { publishVisitsSnapshot } from "../src/data/snapshot.js";
import { visitsTest, type VisitsHarness } from "./fixtures.js";

const VILLAGE = "360999101201";
const actor = { kind: "user" as const, id: "registrar", name: "登记员" };

let prisma: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;
let scheduleQueue: VisitsHarness["scheduleQueue"];
const clock = { now: new Date("2026-11-22T02:00:00Z") };
/** 10:00 China time on that day: the scan's and the API's "today". */
const at = (date: string) => new Date(`${date}T02:00:00Z`);
const setToday = (date: string) => (clock.now = at(date));
const handlers = visitEventHandlers(() => clock.now);

visitsTest("visits", { now: () => clock.now }).beforeAll(async ({ visits }) => {
  ({ prisma, issuer, app, scheduleQueue } = visits);
});

const deliver = (event: Envelope) => consumeEvent<Tx>(event, handlers, (fn) => prisma.$transaction(fn));

async function register(over: Partial<ChildSnapshot> = {}): Promise<ChildSnapshot> {
  const child = childSnapshot(over);
  await deliver(
    buildEvent("child.registered", { subject: child.id, orgUnit: child.villageCode, actor, data: { child } }, { producer: "registry", now: clock.now }),
  );
  return child;
}

function pairing(type: "pairing.started" | "pairing.ended", child: ChildSnapshot, helper: TestHelper, pairingId: string, date = "2026-11-22"): Envelope {
  const fields = { subject: child.id, orgUnit: child.villageCode, actor };
  const p = mentorPairing(child, helper, pairingId, "13907311111");
  return type === "pairing.started"
    ? buildEvent(type, { ...fields, data: pairingStartedData(p, date) }, { producer: "pairing" })
    : buildEvent(type, { ...fields, data: pairingEndedData(p, date) }, { producer: "pairing" });
}

async function api(method: "GET" | "POST" | "PUT", url: string, user: string, payload?: object) {
  const res = await app.inject({ method, url, headers: await issuer.as(user), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as any };
}

async function items(childId: string, view = "open") {
  return (await api("GET", `/api/v1/visit-items?childId=${childId}&view=${view}`, "changling.supervisor")).body.items as {
    kind: string;
    period: string;
    dueDate: string;
    status: string;
    responsible: { kind: string; name: string | null; username: string | null };
  }[];
}

async function outbox(type: string, childId: string) {
  const rows = await prisma.outboxEvent.findMany({ where: { type, subject: childId }, orderBy: { createdAt: "asc" } });
  return rows.map((r) => (r.envelope as unknown as Envelope).data as any);
}

const teacher = { id: randomUUID(), name: "王老师", username: "changling.teacher" };

describe("schedules from registry and pairing events", () => {
  it("creates this period's items for a new child, first for the village child director, then for the paired helper", async () => {
    setToday("2026-11-22");
    const child = await register();
    const open = await items(child.id);
    expect(open.map((i) => `${i.kind}:${i.period}:${i.dueDate}`).sort()).toEqual([
      "guardian_contact:2026-autumn:2027-02-07",
      "home_visit:2026-11:2026-12-05",
      "letter:2026-autumn:2027-02-07",
      "parent_call:2026-11:2026-12-05",
      "talk:2026-autumn:2027-02-07",
    ]);
    expect(open.every((i) => i.responsible.kind === "village_director")).toBe(true);

    await deliver(pairing("pairing.started", child, teacher, randomUUID()));
    expect((await items(child.id)).every((i) => i.responsible.kind === "helper" && i.responsible.username === "changling.teacher")).toBe(true);
  });

  it("hands open items back to the village child director when the pairing ends, and to the next helper when one starts — in either order", async () => {
    const child = await register();
    const first = randomUUID();
    const second = randomUUID();
    await deliver(pairing("pairing.started", child, teacher, first));
    await deliver(pairing("pairing.ended", child, teacher, first));
    expect((await items(child.id)).every((i) => i.responsible.kind === "village_director")).toBe(true);

    const next = { id: randomUUID(), name: "赵志愿", username: null };
    await deliver(pairing("pairing.started", child, next, second, "2026-11-23"));
    // A late pairing.ended of the first pairing must not take the child from the new helper.
    await deliver(pairing("pairing.ended", child, teacher, first));
    expect((await items(child.id)).every((i) => i.responsible.name === "赵志愿")).toBe(true);
  });

  it("closes a child's open items when the child exits", async () => {
    const child = await register();
    const exited = { ...child, status: "exited" as const, exitReason: "parent_returned" as const, revision: 2 };
    await deliver(
      buildEvent(
        "child.status-changed",
        { subject: child.id, orgUnit: VILLAGE, actor, data: { child: exited, from: "active", to: "exited", reason: "parent_returned", note: null } },
        { producer: "registry", now: clock.now },
      ),
    );
    expect(await items(child.id)).toEqual([]);
    expect((await items(child.id, "closed")).length).toBe(5);
  });
});

describe("records, the rhythm and the daily scan", () => {
  it("a month with a visit and a month without: reminded, overdue the day after, escalated later — each once", async () => {
    setToday("2026-11-22");
    const child = await register({ villageCode: "360999101209" });
    await deliver(pairing("pairing.started", child, teacher, randomUUID()));

    // The teacher visits on the 20th (recorded two days later) but never calls the parents.
    const rec = await api("POST", "/api/v1/visit-records", "changling.teacher", {
      childId: child.id,
      kind: "home_visit",
      date: "2026-11-20",
      location: "家中",
      durationMinutes: 45,
      findings: { livingConditions: "整洁", mood: "开朗" },
    });
    expect(rec.status, JSON.stringify(rec.body)).toBe(201);
    expect(rec.body.satisfied).toMatchObject({ period: "2026-11", onTime: true });

    await dailyScan(prisma, at("2026-11-27"));
    expect(await outbox("visit.due", child.id)).toEqual([]);
    await dailyScan(prisma, at("2026-11-28")); // remind 7 days before the 12-05 due date
    const due = await outbox("visit.due", child.id);
    expect(due.map((d) => d.kind)).toEqual(["parent_call"]);
    expect(due[0]).toMatchObject({ dueDate: "2026-12-05", daysLeft: 7, responsible: { kind: "helper", username: "changling.teacher", phone: "13907311111" } });

    await dailyScan(prisma, at("2026-12-05"));
    expect(await outbox("visit.overdue", child.id)).toEqual([]);
    await dailyScan(prisma, at("2026-12-06"));
    expect((await outbox("visit.overdue", child.id)).map((e) => [e.kind, e.level, e.daysOverdue])).toEqual([["parent_call", 1, 1]]);
    await dailyScan(prisma, at("2026-12-12"));
    await dailyScan(prisma, at("2026-12-13"));
    await dailyScan(prisma, at("2026-12-13"));
    expect((await outbox("visit.overdue", child.id)).map((e) => [e.kind, e.level, e.daysOverdue])).toEqual([
      ["parent_call", 1, 1],
      ["parent_call", 2, 8],
    ]);
    // The December items appeared with the month.
    expect((await items(child.id)).filter((i) => i.period === "2026-12").length).toBe(2);

    // A call on 12-10 is December's call, on time; November's call stays missed (overdue) …
    setToday("2026-12-13");
    const december = await api("POST", "/api/v1/visit-records", "changling.teacher", { childId: child.id, kind: "parent_call", date: "2026-12-10" });
    expect(december.body.satisfied).toMatchObject({ period: "2026-12", onTime: true });
    expect((await items(child.id)).filter((i) => i.kind === "parent_call").map((i) => i.period)).toEqual(["2026-11"]);
    const missing = await api("GET", "/api/v1/visit-summary?orgUnit=360999101209&from=2026-11-01&to=2026-12-31", "changling.supervisor");
    expect(missing.body.total).toEqual({ due: 2, onTime: 1, late: 0, missed: 1, punctuality: 0.5 });
    // … until a second call makes it up (补访), late.
    const late = await api("POST", "/api/v1/visit-records", "changling.teacher", { childId: child.id, kind: "parent_call", date: "2026-12-11" });
    expect(late.body.satisfied).toMatchObject({ period: "2026-11", onTime: false });
    expect((await items(child.id)).filter((i) => i.kind === "parent_call")).toEqual([]);
    // November's two monthly items fell due on 12-05: the visit in time, the call made up late.
    const summary = await api("GET", "/api/v1/visit-summary?orgUnit=360999101209&from=2026-11-01&to=2026-12-31", "changling.supervisor");
    expect(summary.body.total).toEqual({ due: 2, onTime: 1, late: 1, missed: 0, punctuality: 0.5 });
    const byHelper = await api("GET", "/api/v1/visit-summary?orgUnit=360999101209&groupBy=helper&from=2026-11-01&to=2026-12-31", "changling.supervisor");
    expect(byHelper.body.groups).toEqual([expect.objectContaining({ key: teacher.id, name: "王老师", due: 2, onTime: 1, late: 1, punctuality: 0.5 })]);
    // On 01-10 December's home visit is past due and still open: missed until made up; December's call was on time.
    setToday("2027-01-10");
    const later = await api("GET", "/api/v1/visit-summary?orgUnit=360999101209&from=2026-11-01&to=2027-01-10", "changling.supervisor");
    expect(later.body.total).toMatchObject({ due: 4, onTime: 2, late: 1, missed: 1, punctuality: 0.5 });
    const overdueNow = await api("GET", "/api/v1/visit-items?orgUnit=360999101209&view=overdue", "changling.teacher");
    expect(overdueNow.body.items.map((i: { kind: string; period: string; daysOverdue: number }) => [i.kind, i.period, i.daysOverdue])).toEqual([
      ["home_visit", "2026-12", 5],
    ]);
    const recorded = await outbox("visit.recorded", child.id);
    expect(recorded.map((r) => [r.kind, r.satisfied?.period, r.satisfied?.onTime])).toEqual([
      ["home_visit", "2026-11", true],
      ["parent_call", "2026-12", true],
      ["parent_call", "2026-11", false],
    ]);
  });

  it("two scans at once send each event once", async () => {
    setToday("2026-11-22");
    const children = await Promise.all(Array.from({ length: 30 }, () => register({ villageCode: "360999101202" })));
    const results = await Promise.all([dailyScan(prisma, at("2026-11-29"), { batchSize: 7 }), dailyScan(prisma, at("2026-11-29"), { batchSize: 7 })]);
    const sent = await prisma.outboxEvent.count({ where: { type: "visit.due", subject: { in: children.map((c) => c.id) } } });
    // Two monthly items each are in their reminder window (semester items are not yet).
    expect(sent).toBe(60);
    expect(results[0]!.reminded + results[1]!.reminded).toBeGreaterThanOrEqual(60);
    const perItem = await prisma.$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM outbox WHERE type = 'visit.due' GROUP BY envelope->'data'->>'itemId' HAVING count(*) > 1`,
    );
    expect(perItem).toEqual([]);
  });

  it("semester boundaries: nothing for semesters in the holidays, the new semester's items from its first day", async () => {
    setToday("2027-02-10");
    const child = await register({ villageCode: "360999101203" });
    expect((await items(child.id)).map((i) => i.kind).sort()).toEqual(["home_visit", "parent_call"]);
    await dailyScan(prisma, at("2027-03-01"));
    const spring = (await items(child.id)).filter((i) => i.period === "2027-spring");
    expect(spring.map((i) => i.kind).sort()).toEqual(["guardian_contact", "letter", "talk"]);
    expect(spring.every((i) => i.dueDate === "2027-08-07")).toBe(true);
  });

  it("a county's own rules and calendar apply to new periods", async () => {
    setToday("2026-11-22");
    const bad = await api("PUT", "/api/v1/visit-rules/360999", "county.admin", {
      rules: [{ kind: "home_visit", frequency: "fortnightly", graceDays: 3, remindDaysBefore: 3, escalateAfterDays: 5 }],
      calendar: { spring: { start: "03-01", end: "07-31" }, autumn: { start: "09-01", end: "13-31" } },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(["calendar.autumn.end", "rules.0.frequency"]);
    expect((await api("PUT", "/api/v1/visit-rules/360999", "changling.supervisor", { rules: [], calendar: {} })).status).toBe(400);
    const ok = await api("PUT", "/api/v1/visit-rules/360999", "county.admin", {
      rules: [{ kind: "home_visit", frequency: "monthly", graceDays: 0, remindDaysBefore: 3, escalateAfterDays: 3 }],
      calendar: { spring: { start: "02-20", end: "07-10" }, autumn: { start: "08-25", end: "01-20" } },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect((await api("PUT", "/api/v1/visit-rules/360999", "changling.supervisor", ok.body)).status).toBe(403);
    const child = await register({ villageCode: "360999101204" });
    expect((await items(child.id)).map((i) => `${i.kind}:${i.dueDate}`)).toEqual(["home_visit:2026-11-30"]);
    // Back to the seed rhythm for the other tests.
    await prisma.ruleSet.deleteMany({});
  });

  it("rejects bad dates and bad input with the field named, and records only for visible children", async () => {
    setToday("2026-11-22");
    const child = await register({ villageCode: "360999101205" });
    const post = (user: string, body: object) =>
      api("POST", "/api/v1/visit-records", user, { childId: child.id, kind: "home_visit", date: "2026-11-21", ...body });
    const fields = async (user: string, body: object) => (await post(user, body)).body.error?.details?.map((d: { field: string }) => d.field);
    expect(await fields("changling.supervisor", { date: "2026-11-23" })).toEqual(["date"]);
    expect(await fields("changling.supervisor", { date: "2026-10-01" })).toEqual(["date"]);
    expect(await fields("changling.supervisor", { date: "2026-11-31" })).toEqual(["date"]);
    expect(await fields("changling.supervisor", { date: "21/11/2026" })).toEqual(["date"]);
    expect(await fields("changling.supervisor", { kind: "party" })).toEqual(["kind"]);
    expect(await fields("changling.supervisor", { durationMinutes: -5 })).toEqual(["durationMinutes"]);
    expect(await fields("changling.supervisor", { followUpNeeded: true })).toEqual(["followUpNote"]);
    expect((await post("changling.supervisor", { childId: randomUUID() })).status).toBe(404);
    expect((await post("shimen.supervisor", {})).status).toBe(404);
    // Not paired to this teacher: invisible to them.
    expect((await post("changling.teacher", {})).status).toBe(404);
    expect((await post("county.inspector", {})).status).toBe(403);
    // The village child director of 长岭村 (…201) does not see 205's children.
    expect((await post("changling.director", {})).status).toBe(404);
    expect((await post("changling.supervisor", {})).status).toBe(201);
  });

  it("shows a teacher only the items of children paired to them", async () => {
    const mine = await register({ villageCode: "360999101206" });
    const notMine = await register({ villageCode: "360999101206" });
    await deliver(pairing("pairing.started", mine, teacher, randomUUID()));
    const seen = (await api("GET", "/api/v1/visit-items?orgUnit=360999101206", "changling.teacher")).body.items.map((i: { childId: string }) => i.childId);
    expect(new Set(seen)).toEqual(new Set([mine.id]));
    expect(seen).not.toContain(notMine.id);
  });
});

describe("the daily scan as a BullMQ job scheduler", () => {
  it("is one schedule however many workers start, in China time, and its job runs the scan", async () => {
    const prefix = testPrefix("visits_sched");
    const connection = createRedisConnection(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { role: "worker" });
    const queue = createJobQueue(jobQueues.visitsSchedule, connection, prefix);
    const logger = createLogger("scan", "silent");
    const deps = { prisma, connection, prefix, queue, cron: "30 6 * * *", concernEscalationDays: 3, logger, now: () => clock.now };
    const workers = [await startScanWorker(deps), await startScanWorker(deps)];
    try {
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers).toHaveLength(1);
      expect(schedulers[0]).toMatchObject({ pattern: "30 6 * * *", tz: "Asia/Shanghai" });
      const job = await queue.add(SCAN_JOB, {});
      await expect.poll(async () => (await queue.getJob(job.id!))?.returnvalue ?? null, { timeout: 10_000 }).toMatchObject({ reminded: expect.any(Number) });
    } finally {
      for (const w of workers) await w.close();
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
    }
  });
});

describe("snapshots for a reporting rebuild", () => {
  it("queues a background job for county admins, which re-publishes items, records and concerns", async () => {
    expect((await api("POST", "/api/v1/snapshots/visits", "changling.supervisor")).status).toBe(403);
    const queued = await api("POST", "/api/v1/snapshots/visits", "county.admin");
    expect(queued.status).toBe(202);
    expect((await scheduleQueue.getJob(`snapshot-${queued.body.runId}`))?.name).toBe("publish-snapshot");
    const result = await publishVisitsSnapshot(prisma, queued.body.runId);
    const [items, records, concerns] = await Promise.all([prisma.dueItem.count(), prisma.visitRecord.count(), prisma.concern.count()]);
    expect(result.events).toBe(items + records + concerns);
    const snap = await prisma.outboxEvent.findMany({ where: { type: "snapshot.visit-item" } });
    const states = new Set(snap.map((r) => ((r.envelope as unknown as Envelope).data as { state: string }).state));
    expect([...states].sort()).toEqual(expect.arrayContaining(["closed", "done", "due", "escalated"]));
    // Each record names its visitor and, when it satisfied an item, whether in time (the registry's handover pack).
    const recs = (await prisma.outboxEvent.findMany({ where: { type: "snapshot.visit-record" } })).map(
      (r) => (r.envelope as unknown as Envelope<"snapshot.visit-record">).data,
    );
    expect(recs.length).toBeGreaterThan(0);
    for (const r of recs) expect(r.visitor).toEqual({ userId: expect.any(String), name: expect.any(String) });
    expect(recs.some((r) => typeof r.onTime === "boolean")).toBe(true);
  });
});

describe("concerns (强制报告)", () => {
  it("a record flagging abuse opens a case and publishes concern.raised at once; an unacknowledged case is escalated, an acknowledged one is not", async () => {
    setToday("2026-11-22");
    const child = await register({ villageCode: VILLAGE });
    const rec = await api("POST", "/api/v1/visit-records", "changling.director", {
      childId: child.id,
      kind: "home_visit",
      date: "2026-11-22",
      findings: { safety: "手臂有多处淤青，孩子不愿说明原因" },
      concern: { category: "abuse_suspected", description: "疑似遭受家庭暴力" },
    });
    expect(rec.status, JSON.stringify(rec.body)).toBe(201);
    const [raised] = await outbox("concern.raised", child.id);
    expect(raised).toMatchObject({
      concernId: rec.body.concernId,
      category: "abuse_suspected",
      urgent: true,
      ownerOrgUnit: "360999101",
      child: { id: child.id },
    });

    const other = await api("POST", "/api/v1/concerns", "changling.director", { childId: child.id, category: "safety", description: "房屋漏雨" });
    expect(other.status).toBe(201);
    // One child's cases (the console's child page), not the first page of the township's.
    const mine = await api("GET", `/api/v1/concerns?childId=${child.id}`, "changling.supervisor");
    expect(mine.body.items.map((c: { id: string }) => c.id).sort()).toEqual([rec.body.concernId, other.body.id].sort());
    expect((await api("GET", `/api/v1/concerns?childId=${randomUUID()}`, "changling.supervisor")).body.items).toEqual([]);
    expect((await api("GET", `/api/v1/concerns?childId=nope`, "changling.supervisor")).body.error.message).toContain("儿童编号格式不正确");
    const ack = await api("POST", `/api/v1/concerns/${other.body.id}/updates`, "changling.supervisor", { status: "acknowledged", note: "已联系村委" });
    expect(ack.body).toMatchObject({ status: "acknowledged", ownerUsername: "changling.supervisor" });
    expect((await api("POST", `/api/v1/concerns/${other.body.id}/updates`, "changling.supervisor", { status: "open", note: "x" })).status).toBe(409);
    expect((await api("POST", `/api/v1/concerns/${other.body.id}/updates`, "changling.teacher", { note: "x" })).status).toBe(403);

    await dailyScan(prisma, at("2026-11-24"), { concernEscalationDays: 3 });
    expect(await outbox("concern.escalated", child.id)).toEqual([]);
    await dailyScan(prisma, at("2026-11-25"), { concernEscalationDays: 3 });
    await dailyScan(prisma, at("2026-11-26"), { concernEscalationDays: 3 });
    const escalated = await outbox("concern.escalated", child.id);
    expect(escalated).toEqual([expect.objectContaining({ concernId: rec.body.concernId, escalatedTo: "360999", openDays: 3 })]);

    const resolve = await api("POST", `/api/v1/concerns/${rec.body.concernId}/updates`, "changling.supervisor", {
      status: "resolved",
      note: "已报警并转介妇联，儿童由祖母照顾",
    });
    expect(resolve.body).toMatchObject({ status: "resolved", resolution: "已报警并转介妇联，儿童由祖母照顾" });
    expect(await outbox("concern.resolved", child.id)).toEqual([
      expect.objectContaining({ concernId: rec.body.concernId, resolution: "已报警并转介妇联，儿童由祖母照顾" }),
    ]);
    // Inspectors: counts and timeliness only — no child, description, resolution or notes.
    const inspector = await api("GET", `/api/v1/concerns/${rec.body.concernId}`, "county.inspector");
    expect(inspector.status).toBe(200);
    expect(Object.keys(inspector.body).sort()).toEqual([
      "category",
      "categoryLabel",
      "escalatedAt",
      "id",
      "overdue",
      "raisedAt",
      "resolvedAt",
      "respondBy",
      "respondedAt",
      "responseLimitHours",
      "status",
      "statusLabel",
      "villageCode",
    ]);
    expect(inspector.body).toMatchObject({ status: "resolved" });
    expect(inspector.body.escalatedAt).not.toBeNull();
    // A health worker raised nothing here, so sees nothing of it.
    expect((await api("GET", `/api/v1/concerns/${rec.body.concernId}`, "changling.doctor")).status).toBe(404);
  });
});

describe("audit of issue 4: rules, schedules, boundaries, views, jurisdiction, OpenAPI", () => {
  it("the seed rhythm is the default; a bad rule set is refused naming each field; a rule can make the village child director responsible", async () => {
    setToday("2026-11-22");
    const seed = await api("GET", "/api/v1/visit-rules/360999", "changling.supervisor");
    expect(seed.body).toMatchObject({ custom: false, calendar: { spring: { start: "03-01", end: "07-31" }, autumn: { start: "09-01", end: "01-31" } } });
    expect(seed.body.rules.map((r: { kind: string; frequency: string; responsible: string }) => `${r.kind}:${r.frequency}:${r.responsible}`)).toEqual([
      "home_visit:monthly:mentor",
      "parent_call:monthly:mentor",
      "talk:semester:mentor",
      "guardian_contact:semester:mentor",
      "letter:semester:mentor",
    ]);

    const put = (body: object) => api("PUT", "/api/v1/visit-rules/360999", "county.admin", body);
    const fieldsOf = (res: { body: { error?: { details?: { field: string; message: string }[] } } }) => res.body.error?.details?.map((d) => d.field).sort();
    const rule = { kind: "home_visit", frequency: "monthly", graceDays: 3, remindDaysBefore: 3, escalateAfterDays: 5 };
    const calendar = { spring: { start: "03-01", end: "07-31" }, autumn: { start: "09-01", end: "01-31" } };
    const bad = await put({
      rules: [
        { ...rule, responsible: "headmaster", graceDays: -1 },
        { ...rule, kind: "tutoring" },
      ],
      calendar: { ...calendar, spring: { start: "02-30", end: "07-31" } },
    });
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad)).toEqual(["calendar.spring.start", "rules.0.graceDays", "rules.0.responsible", "rules.1.kind"]);
    expect(bad.body.error.details.find((d: { field: string }) => d.field === "calendar.spring.start").message).toContain("没有这一天");
    const duplicate = await put({ rules: [rule, rule], calendar });
    expect(fieldsOf(duplicate)).toEqual(["rules.1.kind"]);
    const overlap = await put({ rules: [rule], calendar: { spring: { start: "03-01", end: "09-10" }, autumn: { start: "09-01", end: "01-31" } } });
    expect(fieldsOf(overlap)).toEqual(["calendar.autumn.start"]);
    expect(overlap.body.error.details[0].message).toContain("重叠");
    expect((await api("PUT", "/api/v1/visit-rules/36099", "county.admin", { rules: [rule], calendar })).body.error.details[0].field).toBe("countyCode");

    const ok = await put({
      rules: [
        rule,
        { ...rule, kind: "guardian_contact", frequency: "semester", responsible: "village_director" },
        { ...rule, kind: "letter", frequency: "yearly" },
      ],
      calendar,
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ custom: true, updatedBy: expect.any(String), updatedAt: clock.now.toISOString() });
    try {
      const child = await register({ villageCode: "360999101211" });
      await deliver(pairing("pairing.started", child, teacher, randomUUID()));
      const open = await items(child.id);
      expect(open.map((i) => `${i.kind}:${i.period}:${i.dueDate}:${i.responsible.kind}:${i.responsible.name}`).sort()).toEqual([
        "guardian_contact:2026-autumn:2027-02-03:village_director:null",
        "home_visit:2026-11:2026-12-03:helper:王老师",
        "letter:2026:2027-01-03:helper:王老师",
      ]);
      // The teacher sees the paired child's items; "mine" narrows them to what the teacher must do.
      const asTeacher = async (q: string) =>
        (await api("GET", `/api/v1/visit-items?childId=${child.id}${q}`, "changling.teacher")).body.items.map((i: { kind: string }) => i.kind).sort();
      expect(await asTeacher("")).toEqual(["guardian_contact", "home_visit", "letter"]);
      expect(await asTeacher("&mine=true")).toEqual(["home_visit", "letter"]);
      // The reminder for the guardian contact (due 01-31 + 3 grace days, reminded 3 days before) goes to the village child director, not the mentor.
      await dailyScan(prisma, at("2027-01-31"));
      const due = (await outbox("visit.due", child.id)).filter((d) => d.kind === "guardian_contact");
      expect(due).toEqual([
        expect.objectContaining({
          period: "2026-autumn",
          responsible: expect.objectContaining({ kind: "village_director", helperId: null, villageCode: "360999101211" }),
        }),
      ]);
    } finally {
      await prisma.ruleSet.deleteMany({});
    }
  });

  it("pairing.started creates the child's items for the current periods, and a pairing.started arriving after its own pairing.ended is ignored", async () => {
    setToday("2026-11-22");
    const child = await register({ villageCode: "360999101212" });
    // A new month begins; the daily scan has not run yet when the pairing is approved.
    setToday("2026-12-02");
    const pairingId = randomUUID();
    await deliver(pairing("pairing.started", child, teacher, pairingId, "2026-12-02"));
    const december = (await items(child.id)).filter((i) => i.period === "2026-12");
    expect(december.map((i) => `${i.kind}:${i.responsible.username}`).sort()).toEqual(["home_visit:changling.teacher", "parent_call:changling.teacher"]);

    // Another child's pairing: its end is delivered first, its start late.
    const other = await register({ villageCode: "360999101212" });
    const stale = randomUUID();
    await deliver(pairing("pairing.ended", other, teacher, stale, "2026-12-02"));
    await deliver(pairing("pairing.started", other, teacher, stale, "2026-12-01"));
    expect((await items(other.id)).every((i) => i.responsible.kind === "village_director")).toBe(true);
  });

  it("semester boundaries through the scan: spring ends in July, nothing in August, autumn from September runs over the year change and is overdue in February", async () => {
    setToday("2026-07-20");
    const child = await register({ villageCode: "360999101213" });
    const semesterItems = async () =>
      (await api("GET", `/api/v1/visit-items?childId=${child.id}&kind=talk&view=open`, "changling.supervisor")).body.items.map(
        (i: { period: string; dueDate: string }) => `${i.period}:${i.dueDate}`,
      );
    expect(await semesterItems()).toEqual(["2026-spring:2026-08-07"]);

    await dailyScan(prisma, at("2026-08-01")); // summer holidays: a new month, no new semester
    expect(
      (await items(child.id))
        .filter((i) => i.period === "2026-08")
        .map((i) => i.kind)
        .sort(),
    ).toEqual(["home_visit", "parent_call"]);
    expect(await semesterItems()).toEqual(["2026-spring:2026-08-07"]);
    await dailyScan(prisma, at("2026-08-07"));
    expect((await outbox("visit.overdue", child.id)).filter((e) => e.kind === "talk")).toEqual([]);
    await dailyScan(prisma, at("2026-08-08")); // the day after spring's due date (07-31 + 7 grace days)
    expect((await outbox("visit.overdue", child.id)).filter((e) => e.kind === "talk").map((e) => [e.period, e.level, e.daysOverdue])).toEqual([
      ["2026-spring", 1, 1],
    ]);

    await dailyScan(prisma, at("2026-09-01"));
    expect((await semesterItems()).sort()).toEqual(["2026-autumn:2027-02-07", "2026-spring:2026-08-07"]);
    // A talk in January belongs to autumn (named for the year it starts in), on time.
    setToday("2027-01-15");
    const talk = await api("POST", "/api/v1/visit-records", "changling.supervisor", { childId: child.id, kind: "talk", date: "2027-01-15" });
    expect(talk.body.satisfied).toMatchObject({ period: "2026-autumn", onTime: true });
    await dailyScan(prisma, at("2027-02-01")); // winter holidays: January's and February's months, no semester
    await dailyScan(prisma, at("2027-02-08"));
    const letters = (await outbox("visit.overdue", child.id)).filter((e) => e.kind === "letter").map((e) => [e.period, e.dueDate, e.level]);
    expect(letters).toEqual([
      ["2026-spring", "2026-08-07", 1],
      ["2026-spring", "2026-08-07", 2],
      ["2026-autumn", "2027-02-07", 1],
    ]);
    expect((await outbox("visit.overdue", child.id)).filter((e) => e.kind === "talk" && e.period === "2026-autumn")).toEqual([]);
  });

  it("views: due this week per helper and per org unit, overdue, punctuality by township; bad query fields named", async () => {
    setToday("2026-11-22");
    const child = await register({ villageCode: "360999102201", townshipCode: "360999102" });
    const helper = { id: randomUUID(), name: "孙老师", username: "shimen.teacher" };
    await deliver(pairing("pairing.started", child, helper, randomUUID()));
    // 11-29: November's items are due 12-05, within the week.
    setToday("2026-11-29");
    const week = await api("GET", "/api/v1/visit-items?orgUnit=360999102201&view=due_this_week", "shimen.supervisor");
    expect(week.body.items.map((i: { kind: string; dueDate: string }) => `${i.kind}:${i.dueDate}`).sort()).toEqual([
      "home_visit:2026-12-05",
      "parent_call:2026-12-05",
    ]);
    setToday("2026-11-22");
    expect((await api("GET", "/api/v1/visit-items?orgUnit=360999102201&view=due_this_week", "shimen.supervisor")).body.items).toEqual([]);

    setToday("2026-12-07");
    const township = await api("GET", "/api/v1/visit-summary?orgUnit=360999102&groupBy=township&from=2026-11-01&to=2026-12-31", "shimen.supervisor");
    expect(township.body.groups).toEqual([expect.objectContaining({ key: "360999102", due: 2, onTime: 0, missed: 2, overdueNow: 2, punctuality: 0 })]);
    const perHelper = await api("GET", "/api/v1/visit-summary?orgUnit=360999102&groupBy=helper", "shimen.supervisor");
    expect(perHelper.body.groups).toEqual([expect.objectContaining({ key: helper.id, name: "孙老师", overdueNow: 2 })]);
    // Names come from the registry's org-unit snapshot; before it arrives the code stands in.
    expect(township.body.groups[0].name).toBe("360999102");
    await deliver(
      buildEvent(
        "snapshot.org-units",
        {
          subject: "360999",
          orgUnit: "360999",
          actor,
          data: {
            runId: randomUUID(),
            units: [
              { code: "360999102", name: "石门镇", level: "township", parentCode: "360999" },
              { code: "360999102201", name: "石门村", level: "village", parentCode: "360999102" },
            ],
            schools: [],
          },
        },
        { producer: "registry" },
      ),
    );
    const named = await api("GET", "/api/v1/visit-summary?orgUnit=360999102&groupBy=township&from=2026-11-01&to=2026-12-31", "shimen.supervisor");
    expect(named.body.groups).toEqual([expect.objectContaining({ key: "360999102", name: "石门镇", due: 2 })]);
    const byVillage = await api("GET", "/api/v1/visit-summary?orgUnit=360999102&groupBy=village&from=2026-11-01&to=2026-12-31", "shimen.supervisor");
    expect(byVillage.body.groups).toEqual([expect.objectContaining({ key: "360999102201", name: "石门村" })]);

    const field = async (url: string) => (await api("GET", url, "shimen.supervisor")).body.error?.details?.[0]?.field;
    expect(await field("/api/v1/visit-summary?from=2026-12-31&to=2026-11-01")).toBe("from");
    expect(await field("/api/v1/visit-summary?groupBy=school")).toBe("groupBy");
    expect(await field("/api/v1/visit-items?view=late")).toBe("view");
    expect(await field("/api/v1/visit-items?orgUnit=3609")).toBe("orgUnit");
    expect(await field("/api/v1/visit-items?limit=0")).toBe("limit");
    expect((await api("GET", "/api/v1/visit-items?orgUnit=360999101", "shimen.supervisor")).status).toBe(403);
  });

  it("a teacher sees their paired children's records and their own, and only the concerns they raised", async () => {
    setToday("2026-11-22");
    const mine = await register({ villageCode: "360999101214" });
    const notMine = await register({ villageCode: "360999101214" });
    await deliver(pairing("pairing.started", mine, teacher, randomUUID()));
    for (const child of [mine, notMine]) {
      expect((await api("POST", "/api/v1/visit-records", "changling.supervisor", { childId: child.id, kind: "talk", date: "2026-11-22" })).status).toBe(201);
      expect(
        (await api("POST", "/api/v1/concerns", "changling.supervisor", { childId: child.id, category: "health", description: "咳嗽两周未就医" })).status,
      ).toBe(201);
    }
    const records = await api("GET", "/api/v1/visit-records?orgUnit=360999101214", "changling.teacher");
    expect(records.body.items.map((r: { childId: string }) => r.childId)).toEqual([mine.id]);
    // Concerns: only those the teacher raised, none of the supervisor's.
    expect((await api("GET", "/api/v1/concerns?orgUnit=360999101214", "changling.teacher")).body.items).toEqual([]);
    const raised = await api("POST", "/api/v1/concerns", "changling.teacher", { childId: mine.id, category: "safety", description: "放学后独自去河边" });
    expect(raised.status).toBe(201);
    const concerns = await api("GET", "/api/v1/concerns?orgUnit=360999101214", "changling.teacher");
    expect(concerns.body.items.map((r: { id: string }) => r.id)).toEqual([raised.body.id]);
    expect(concerns.body.items[0]).toMatchObject({ description: "放学后独自去河边", resolution: null });
    expect((await api("GET", `/api/v1/visit-records?childId=${notMine.id}`, "changling.teacher")).body.items).toEqual([]);
    const all = await api("GET", "/api/v1/visit-records?orgUnit=360999101214", "changling.supervisor");
    expect(new Set(all.body.items.map((r: { childId: string }) => r.childId))).toEqual(new Set([mine.id, notMine.id]));
    // Visit records: inspectors get date, kind and on-time only; health workers none.
    const inspected = await api("GET", "/api/v1/visit-records?orgUnit=360999101214", "county.inspector");
    expect(inspected.status).toBe(200);
    for (const r of inspected.body.items)
      expect(Object.keys(r).sort()).toEqual(["childId", "childName", "date", "id", "itemId", "kind", "kindLabel", "onTime", "villageCode"]);
    expect((await api("GET", "/api/v1/visit-records?orgUnit=360999101214", "changling.doctor")).status).toBe(403);
  });

  it("documents every route in OpenAPI with its summary and input schema", async () => {
    const doc = (await app.inject({ url: "/openapi.json" })).json() as {
      paths: Record<string, Record<string, { summary?: string; parameters?: { name: string }[]; requestBody?: unknown }>>;
    };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
    const api = routes.filter((r) => r.path.startsWith("/api/v1/"));
    expect(api.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      "get /api/v1/concerns",
      "get /api/v1/concerns/{id}",
      "get /api/v1/public/task-links/{*}",
      "get /api/v1/visit-items",
      "get /api/v1/visit-records",
      "get /api/v1/visit-rules/{countyCode}",
      "get /api/v1/visit-summary",
      "post /api/v1/concerns",
      "post /api/v1/concerns/summary",
      "post /api/v1/concerns/{id}/assign",
      "post /api/v1/concerns/{id}/updates",
      "post /api/v1/public/task-links/{*}",
      "post /api/v1/snapshots/visits",
      "post /api/v1/task-links",
      "post /api/v1/visit-records",
      "put /api/v1/visit-items/{id}/plan",
      "put /api/v1/visit-rules/{countyCode}",
    ]);
    expect(api.every((r) => r.op.summary)).toBe(true);
    const post = doc.paths["/api/v1/visit-records"]!.post!;
    expect(JSON.stringify(post.requestBody)).toContain("durationMinutes");
    expect(doc.paths["/api/v1/visit-items"]!.get!.parameters!.map((p) => p.name)).toEqual(expect.arrayContaining(["view", "orgUnit", "mine"]));
  });
});

describe("concerns: response limits by category, filters, triage and assignment (the console's 关注事项)", () => {
  it("shows each case's response limit and due time, filters by category and overdue, and stops the clock at the first response", async () => {
    setToday("2026-11-22");
    const child = await register({ villageCode: VILLAGE });
    const abuse = await api("POST", "/api/v1/concerns", "changling.director", { childId: child.id, category: "abuse_suspected", description: "身上有伤" });
    const other = await api("POST", "/api/v1/concerns", "changling.director", { childId: child.id, category: "other", description: "辍学风险" });
    const detail = await api("GET", `/api/v1/concerns/${abuse.body.id}`, "changling.supervisor");
    expect(detail.body).toMatchObject({ responseLimitHours: 24, respondBy: "2026-11-23T02:00:00.000Z", respondedAt: null, overdue: false });
    expect((await api("GET", `/api/v1/concerns/${other.body.id}`, "changling.supervisor")).body.responseLimitHours).toBe(72);

    // 25 hours later the abuse case is past its 24 h; the other (72 h) is not.
    clock.now = new Date("2026-11-23T03:00:00Z");
    const overdue = await api("GET", `/api/v1/concerns?childId=${child.id}&overdue=true`, "changling.supervisor");
    expect(overdue.body.items.map((c: any) => c.id)).toEqual([abuse.body.id]);
    expect(overdue.body.items[0].overdue).toBe(true);
    const onTime = await api("GET", `/api/v1/concerns?childId=${child.id}&overdue=false`, "changling.supervisor");
    expect(onTime.body.items.map((c: any) => c.id)).toEqual([other.body.id]);
    const byCategory = await api("GET", `/api/v1/concerns?childId=${child.id}&category=other`, "changling.supervisor");
    expect(byCategory.body.items.map((c: any) => c.id)).toEqual([other.body.id]);

    // Bad filters: 400 naming the field.
    const bad = await api("GET", `/api/v1/concerns?category=fire&overdue=maybe`, "changling.supervisor");
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: any) => d.field).sort()).toEqual(["category", "overdue"]);
    expect(bad.body.error.details.find((d: any) => d.field === "overdue").message).toBe("超时筛选应为 true 或 false");

    // 受理 (triage) late: the clock stops, the case stays marked as answered late.
    const ack = await api("POST", `/api/v1/concerns/${abuse.body.id}/updates`, "changling.supervisor", { status: "acknowledged", note: "已电话核实" });
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ status: "acknowledged", respondedAt: "2026-11-23T03:00:00.000Z", overdue: true });
    expect((await api("GET", `/api/v1/concerns?childId=${child.id}&overdue=true`, "changling.supervisor")).body.items).toEqual([]);
    setToday("2026-11-22");
  });

  it("a supervisor assigns a case (owner and a timeline note); a village director may not; bad input names the field; a resolved case is not reassigned", async () => {
    setToday("2026-11-22");
    const child = await register({ villageCode: VILLAGE });
    const raised = await api("POST", "/api/v1/concerns", "changling.director", { childId: child.id, category: "neglect", description: "无人照看" });
    const id = raised.body.id;
    const assign = await api("POST", `/api/v1/concerns/${id}/assign`, "changling.supervisor", {
      username: "changling.director",
      name: "赵主任",
      note: "请今天上门",
    });
    expect(assign.status).toBe(200);
    expect(assign.body.ownerUsername).toBe("changling.director");
    const notes = (await api("GET", `/api/v1/concerns/${id}`, "changling.supervisor")).body.notes;
    expect(notes.at(-1)).toMatchObject({ note: "指派给 赵主任（changling.director）：请今天上门", status: null });
    // Assigning is not a response: the clock still runs.
    expect((await api("GET", `/api/v1/concerns/${id}`, "changling.supervisor")).body.respondedAt).toBeNull();

    expect((await api("POST", `/api/v1/concerns/${id}/assign`, "changling.director", { username: "a", name: "b" })).status).toBe(403);
    expect((await api("POST", `/api/v1/concerns/${id}/assign`, "changling.teacher", { username: "a", name: "b" })).status).toBe(403);
    const bad = await api("POST", `/api/v1/concerns/${id}/assign`, "changling.supervisor", { username: "赵 主任", name: "" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toEqual(
      expect.arrayContaining([
        { field: "username", message: "登录账号只能包含字母、数字和 . _ @ -" },
        { field: "name", message: "请填写被指派人姓名" },
      ]),
    );
    expect((await api("POST", `/api/v1/concerns/${randomUUID()}/assign`, "changling.supervisor", { username: "a", name: "b" })).status).toBe(404);
    expect((await api("POST", `/api/v1/concerns/nope/assign`, "changling.supervisor", { username: "a", name: "b" })).status).toBe(400);
    // Another township's supervisor does not find it.
    expect((await api("POST", `/api/v1/concerns/${id}/assign`, "shimen.supervisor", { username: "a", name: "b" })).status).toBe(404);

    await api("POST", `/api/v1/concerns/${id}/updates`, "changling.director", { status: "resolved", note: "已安排亲属照看" });
    const late = await api("POST", `/api/v1/concerns/${id}/assign`, "changling.supervisor", { username: "a", name: "b" });
    expect(late.status).toBe(409);
    expect(late.body.error.message).toBe("该关注事项已解决，不能再指派");
  });
});
