import { Role } from "@shouhu/contracts";
import { handMadeXlsx, sheetRows, sheetXml } from "@shouhu/testing";
import { recordAccess } from "@shouhu/auth";
import { randomUUID } from "node:crypto";
import ExcelJS from "exceljs";
import { describe, expect, it } from "vitest";
import type { ServiceApp } from "@shouhu/kit";
import type { ChildSnapshot, Envelope, EventData } from "@shouhu/contracts";
import { buildEvent, consumeEvent } from "@shouhu/messaging";
import { mentorPairing, pairingStartedData, teacherHelper, type TestIssuer } from "@shouhu/testing";
import type { PrismaClient, Tx } from "../src/data/db.js";
import { healthHandlers } from "../src/events/handlers.js";
import { MAX_RESULT_ROWS } from "../src/domain/results-sheet.js";
import { rosterColumns } from "../src/domain/roster.js";
import { healthTest } from "./fixtures.js";

let prisma: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;
const now = new Date("2026-11-22T02:00:00Z");
const handlers = healthHandlers();
const actor = { kind: "system" as const, id: "test" };

healthTest("health", { now: () => now }).beforeAll(async ({ health }) => {
  ({ prisma, issuer, app } = health);
});

const deliver = (event: Envelope) => consumeEvent<Tx>(event, handlers, (fn) => prisma.$transaction(fn));

function child(over: Partial<ChildSnapshot> = {}): ChildSnapshot {
  return {
    id: randomUUID(),
    name: "张小明",
    sex: "male",
    birthDate: "2015-03-07",
    villageCode: "360999101201",
    townshipCode: "360999101",
    countyCode: "360999",
    schoolId: "S360999101001",
    schoolName: null,
    grade: null,
    className: null,
    leftBehindType: "both_parents_away",
    difficultyCategories: [],
    riskLevel: "low",
    status: "active",
    exitReason: null,
    guardian: { name: "张奶奶", relation: "祖母", phone: "13977778888" },
    parents: [],
    revision: 1,
    ...over,
  };
}

async function register(over: Partial<ChildSnapshot> = {}) {
  const c = child(over);
  await deliver(buildEvent("child.registered", { subject: c.id, orgUnit: c.villageCode, actor, data: { child: c } }, { producer: "registry" }));
  return c;
}

async function api(method: "GET" | "POST", url: string, user: string, payload?: object) {
  const res = await app.inject({ method, url, headers: await issuer.as(user), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json() as any };
}

const outbox = async (type: string, subject: string) =>
  (await prisma.outboxEvent.findMany({ where: { type, subject }, orderBy: { createdAt: "asc" } })).map((r) => (r.envelope as unknown as Envelope).data as any);

let campaignId: string;

describe("campaigns and scope from registry events", () => {
  it("creates a campaign for the township and counts who is in scope, examined and missed", async () => {
    const bad = await api("POST", "/api/v1/campaigns", "changling.doctor", {
      name: "秋季体检",
      orgUnits: ["360999101"],
      startDate: "2026-11-30",
      endDate: "2026-11-01",
      provider: "长岭乡卫生院",
    });
    expect(bad.body.error.details[0].field).toBe("endDate");
    expect(
      (
        await api("POST", "/api/v1/campaigns", "changling.doctor", {
          name: "越界",
          orgUnits: ["360999102"],
          startDate: "2026-11-01",
          endDate: "2026-11-30",
          provider: "x",
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await api("POST", "/api/v1/campaigns", "changling.teacher", {
          name: "x",
          orgUnits: ["360999101"],
          startDate: "2026-11-01",
          endDate: "2026-11-30",
          provider: "x",
        })
      ).status,
    ).toBe(403);
    const res = await api("POST", "/api/v1/campaigns", "changling.doctor", {
      name: "2026年秋季免费体检",
      orgUnits: ["360999101"],
      startDate: "2026-11-01",
      endDate: "2026-11-30",
      provider: "长岭乡卫生院",
    });
    expect(res.status).toBe(201);
    campaignId = res.body.id;
  });
});

describe("growth reference curves", () => {
  it("serve the evaluation's own tables by sex to any staff role; a bad sex is a 400 naming the field", async () => {
    const boys = await api("GET", "/api/v1/growth-reference?sex=male", "changling.teacher");
    expect(boys.status).toBe(200);
    expect(boys.body.stuntingHeight[0]).toEqual({ age: 6, value: 106.3 });
    expect(boys.body.overweightBmi[0]).toEqual({ age: 6, overweight: 16.4, obese: 17.7 });
    expect(boys.body.overweightBmi.at(-1)).toEqual({ age: 18, overweight: 24, obese: 28 });
    const girls = await api("GET", "/api/v1/growth-reference?sex=female", "county.inspector");
    expect(girls.body.overweightBmi[0]).toEqual({ age: 6, overweight: 16.2, obese: 17.5 });
    const bad = await api("GET", "/api/v1/growth-reference?sex=x", "changling.teacher");
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { field: string }) => d.field)).toEqual(["sex"]);
  });
});

describe("exams, evaluation and follow-up", () => {
  it("rejects values outside physical bounds and bad dates, naming the field", async () => {
    const c = await register();
    const post = (body: object) =>
      api("POST", "/api/v1/exams", "changling.doctor", {
        childId: c.id,
        campaignId,
        date: "2026-11-20",
        examiner: "李医生",
        heightCm: 140,
        weightKg: 35,
        ...body,
      });
    const fields = async (body: object) => (await post(body)).body.error.details.map((d: { field: string }) => d.field);
    expect(await fields({ heightCm: 14 })).toEqual(["heightCm"]);
    expect(await fields({ weightKg: 700 })).toEqual(["weightKg"]); // 斤 typed as kg
    expect(await fields({ heightCm: 1.4 })).toEqual(["heightCm"]); // metres
    expect(await fields({ visionLeft: 1.0 })).toEqual(["visionLeft"]); // decimal record, not 5-point
    expect(await fields({ visionRight: 4.85 })).toEqual(["visionRight"]);
    expect(await fields({ hemoglobin: 12.5 })).toEqual(["hemoglobin"]); // g/dL, not g/L
    expect(await fields({ caries: -1 })).toEqual(["caries"]);
    expect(await fields({ bpSystolic: 70, bpDiastolic: 90 })).toEqual(["bpDiastolic"]);
    expect(await fields({ date: "2026-11-23" })).toEqual(["date"]); // future
    expect(await fields({ date: "2026-10-30" })).toEqual(["date"]); // outside the campaign
    expect(await fields({ heightCm: 60, weightKg: 80 })).toEqual(["weightKg"]); // impossible together
    expect((await post({ childId: randomUUID() })).status).toBe(404);
    expect(await prisma.exam.count({ where: { childId: c.id } })).toBe(0); // nothing stored by any of them
  });

  it("a finding publishes checkup.flagged with the guardian's and mentor's contact and opens a follow-up; a later normal exam closes it", async () => {
    const c = await register({ name: "陈小雨", sex: "female" });
    await deliver(
      buildEvent(
        "pairing.started",
        {
          subject: c.id,
          orgUnit: c.villageCode,
          actor,
          data: {
            pairingId: randomUUID(),
            kind: "mentor",
            child: { id: c.id, name: c.name, villageCode: c.villageCode, townshipCode: c.townshipCode, schoolId: c.schoolId },
            helper: {
              id: randomUUID(),
              kind: "teacher",
              name: "王老师",
              phone: "13907300301",
              username: "changling.teacher",
              orgUnitCode: "360999101",
              schoolId: "S360999101001",
            },
            startDate: "2026-11-01",
            approvedBy: "x",
          },
        },
        { producer: "pairing" },
      ),
    );
    // 11 years 8 months (band 11.5): girls' anaemia threshold 115; vision 4.7 is moderate; BMI 13.9 ≤ 13.9 moderate-to-severe wasting.
    const res = await api("POST", "/api/v1/exams", "changling.doctor", {
      childId: c.id,
      campaignId,
      date: "2026-11-20",
      examiner: "李医生",
      heightCm: 140,
      weightKg: 27.2,
      visionLeft: 4.7,
      visionRight: 5.0,
      hemoglobin: 108,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ ageBand: 11.5, bmi: 13.9 });
    expect(res.body.flags.map((f: { label: string }) => f.label)).toEqual(["中重度消瘦", "视力低下（中度）", "贫血（中度）"]);

    const recorded = await outbox("checkup.recorded", c.id);
    expect(recorded).toHaveLength(1);
    // The figures, for the registry's growth file (handover pack).
    expect(recorded[0].measures).toEqual({ heightCm: 140, weightKg: 27.2, bmi: 13.9 });
    // Three findings, one exam: one checkup.flagged naming all three, each with the follow-up it opened.
    const flagged: EventData<"checkup.flagged">[] = await outbox("checkup.flagged", c.id);
    expect(flagged).toHaveLength(1);
    const followUps = await prisma.followUp.findMany({ where: { childId: c.id } });
    expect(followUps).toHaveLength(3);
    const followUpOf = (kind: string) => followUps.find((f) => f.kind === kind)!.id;
    expect(flagged[0]).toMatchObject({
      examId: res.body.examId,
      campaignId,
      date: "2026-11-20",
      child: { id: c.id, name: "陈小雨", villageCode: c.villageCode },
      guardian: { name: "张奶奶", phone: "13977778888" },
      helper: { name: "王老师", username: "changling.teacher" },
    });
    expect(flagged[0]!.findings).toEqual([
      { kind: "wasting_moderate_severe", severity: "moderate", label: "中重度消瘦", followUpId: followUpOf("wasting_moderate_severe"), followUpOpened: true },
      { kind: "low_vision", severity: "moderate", label: "视力低下（中度）", followUpId: followUpOf("low_vision"), followUpOpened: true },
      { kind: "anaemia", severity: "moderate", label: "贫血（中度）", followUpId: followUpOf("anaemia"), followUpOpened: true },
    ]);
    expect(res.body.followUpsOpened.sort()).toEqual(followUps.map((f) => f.id).sort());

    // The teacher sees the follow-ups of the children paired to them.
    const mine = await api("GET", "/api/v1/follow-ups?status=open", "changling.teacher");
    expect(mine.body.items.filter((f: { childId: string }) => f.childId === c.id)).toHaveLength(3);

    // A referral closes the anaemia follow-up; a re-check with normal vision closes that one; wasting stays open (and is not opened twice).
    const anaemia = (await prisma.followUp.findFirst({ where: { childId: c.id, kind: "anaemia" } }))!;
    const future = await api("POST", `/api/v1/follow-ups/${anaemia.id}/referral`, "changling.doctor", { hospital: "县人民医院", date: "2026-11-23" });
    expect([future.status, future.body.error.details[0].field]).toEqual([400, "date"]);
    expect((await api("POST", `/api/v1/follow-ups/${anaemia.id}/referral`, "changling.doctor", { hospital: "县人民医院", date: "2026-11-21" })).status).toBe(
      200,
    );
    expect((await api("POST", `/api/v1/follow-ups/${anaemia.id}/referral`, "changling.doctor", { hospital: "县人民医院", date: "2026-11-21" })).status).toBe(
      409,
    );
    const recheck = await api("POST", "/api/v1/exams", "changling.doctor", {
      childId: c.id,
      date: "2026-11-22",
      examiner: "李医生",
      heightCm: 140,
      weightKg: 27.2,
      visionLeft: 5.0,
      visionRight: 5.0,
    });
    expect(recheck.status, JSON.stringify(recheck.body)).toBe(201);
    expect(recheck.body).toMatchObject({ followUpsOpened: [], followUpsResolved: 1 });
    // The re-check still shows the wasting: its message names it, under the follow-up already open.
    const again: EventData<"checkup.flagged">[] = await outbox("checkup.flagged", c.id);
    expect(again).toHaveLength(2);
    expect(again[1]).toMatchObject({ examId: recheck.body.examId, campaignId: null });
    expect(again[1]!.findings).toEqual([
      { kind: "wasting_moderate_severe", severity: "moderate", label: "中重度消瘦", followUpId: followUpOf("wasting_moderate_severe"), followUpOpened: false },
    ]);
    const states = await prisma.followUp.findMany({ where: { childId: c.id }, orderBy: { kind: "asc" } });
    expect(states.map((f) => [f.kind, f.status])).toEqual([
      ["anaemia", "referred"],
      ["low_vision", "resolved"],
      ["wasting_moderate_severe", "open"],
    ]);
    expect(
      (await api("POST", "/api/v1/exams", "changling.doctor", { childId: c.id, campaignId, date: "2026-11-21", examiner: "李医生", heightCm: 141 })).body.error
        .code,
    ).toBe("EXAM_EXISTS");

    // An exam that finds nothing is recorded and publishes no checkup.flagged (nobody is texted).
    const normal = await api("POST", "/api/v1/exams", "changling.doctor", {
      childId: c.id,
      date: "2026-11-22",
      examiner: "李医生",
      visionLeft: 5.0,
      visionRight: 5.1,
    });
    expect([normal.status, normal.body.flags]).toEqual([201, []]);
    expect((await outbox("checkup.recorded", c.id)).map((r: { examId: string }) => r.examId)).toContain(normal.body.examId);
    expect((await outbox("checkup.flagged", c.id)).map((f: { examId: string }) => f.examId)).toEqual([res.body.examId, recheck.body.examId]);
  });
});

describe("coverage and jurisdiction", () => {
  it("counts examined and missed per village with findings by kind; inspectors see aggregates only; other townships see nothing", async () => {
    const far = await register({ villageCode: "360999101205", name: "远村儿童" });
    await register({ villageCode: "360999102201", townshipCode: "360999102", name: "石门儿童" }); // outside the campaign
    const cov = await api("GET", `/api/v1/campaigns/${campaignId}/coverage`, "county.inspector");
    expect(cov.status).toBe(200);
    const v201 = cov.body.villages.find((v: { villageCode: string }) => v.villageCode === "360999101201");
    // 201: the child of the bounds test (not examined) and 陈小雨 (examined).
    expect(v201).toMatchObject({ inScope: 2, examined: 1, missed: 1, flags: { anaemia: 1, low_vision: 1, wasting_moderate_severe: 1 } });
    expect(cov.body.villages.find((v: { villageCode: string }) => v.villageCode === "360999101205")).toMatchObject({ inScope: 1, examined: 0, missed: 1 });
    expect(cov.body.total).toMatchObject({ inScope: 3, examined: 1, missed: 2 });
    expect(cov.body.townships).toEqual([{ townshipCode: "360999101", ...cov.body.total }]);
    expect(cov.body.villages.some((v: { villageCode: string }) => v.villageCode.startsWith("360999102"))).toBe(false);

    expect((await api("GET", `/api/v1/exams?campaignId=${campaignId}`, "county.inspector")).status).toBe(403);
    expect((await api("GET", `/api/v1/campaigns/${campaignId}/missed`, "county.inspector")).status).toBe(403);
    expect((await api("GET", `/api/v1/campaigns/${campaignId}/coverage`, "shimen.supervisor")).status).toBe(404);
    const missed = await api("GET", `/api/v1/campaigns/${campaignId}/missed`, "changling.supervisor");
    expect(missed.body.items.map((i: { id: string }) => i.id)).toContain(far.id);

    // The roster the console's grid shows: every child in scope with this campaign's exam, or due / missed.
    const roster = await api("GET", `/api/v1/campaigns/${campaignId}/roster`, "changling.doctor");
    expect(roster.status).toBe(200);
    expect(roster.body.items).toHaveLength(3);
    const done = roster.body.items.filter((i: any) => i.status === "done");
    expect(done).toHaveLength(1);
    expect(done[0].exam).toMatchObject({ date: expect.any(String), flags: expect.any(Array) });
    expect(roster.body.items.filter((i: any) => i.status !== "done").every((i: any) => i.exam === null && ["due", "missed"].includes(i.status))).toBe(true);
    expect((await api("GET", `/api/v1/campaigns/${campaignId}/roster`, "county.inspector")).status).toBe(403);
    expect((await api("GET", `/api/v1/campaigns/${campaignId}/roster`, "federation.officer")).status).toBe(403);
    expect((await api("GET", `/api/v1/campaigns/${campaignId}/roster`, "shimen.supervisor")).status).toBe(404);
    expect((await api("GET", `/api/v1/campaigns/nope/roster`, "changling.doctor")).body.error.details[0].field).toBe("id");
  });

  it("applies a redelivered or stale child event once", async () => {
    const c = child({ name: "原名" });
    const registered = buildEvent("child.registered", { subject: c.id, orgUnit: c.villageCode, actor, data: { child: c } }, { producer: "registry" });
    expect(await deliver(registered)).toBe("applied");
    expect(await deliver(registered)).toBe("duplicate");
    await deliver(
      buildEvent(
        "child.updated",
        { subject: c.id, orgUnit: c.villageCode, actor, data: { child: { ...c, name: "新名", revision: 3 }, changes: [] } },
        { producer: "registry" },
      ),
    );
    await deliver(
      buildEvent(
        "child.updated",
        { subject: c.id, orgUnit: c.villageCode, actor, data: { child: { ...c, name: "旧的更新", revision: 2 }, changes: [] } },
        { producer: "registry" },
      ),
    );
    expect((await prisma.child.findUnique({ where: { id: c.id } }))!.name).toBe("新名");
  });
});

describe("snapshots for a reporting rebuild", () => {
  it("re-publishes every exam as checkup.recorded, then snapshot.completed", async () => {
    expect((await api("POST", "/api/v1/snapshots/health", "changling.doctor")).status).toBe(403);
    const res = await api("POST", "/api/v1/snapshots/health", "county.admin");
    expect(res.body.events).toBe(await prisma.exam.count());
    const done = await prisma.outboxEvent.findFirst({ where: { type: "snapshot.completed" } });
    expect((done!.envelope as unknown as Envelope).data).toEqual({ runId: res.body.runId, producer: "health", events: res.body.events });
  });
});

describe("bulk entry from .xlsx", () => {
  it("downloads the roster, reads the filled-in results back and reports each bad row", async () => {
    const roster = await app.inject({ url: `/api/v1/campaigns/${campaignId}/roster.xlsx`, headers: await issuer.as("changling.doctor") });
    expect(roster.statusCode).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(roster.rawPayload as unknown as ArrayBuffer);
    const sheet = wb.worksheets[0]!;
    expect((sheet.getRow(1).values as unknown[]).slice(1, 4)).toEqual(["编号", "姓名", "性别"]);
    const ids = new Map<string, number>();
    sheet.eachRow((row, n) => {
      if (n > 1) ids.set(String(row.getCell(2).value), n);
    });
    const fill = (name: string, values: Record<string, unknown>) => {
      const row = sheet.getRow(ids.get(name)!);
      const col = (header: string) => (sheet.getRow(1).values as unknown[]).indexOf(header);
      for (const [header, v] of Object.entries(values)) row.getCell(col(header)).value = v as ExcelJS.CellValue;
      row.commit();
    };
    fill("张小明", { 检查日期: "2026-11-21", 检查医生: "李医生", "身高(cm)": 145, "体重(kg)": 38, 左眼视力: 5.0, 右眼视力: 4.9 });
    fill("远村儿童", { 检查日期: "2026-11-21", 检查医生: "李医生", "身高(cm)": 145, "体重(kg)": "三十八" });
    const buffer = Buffer.from(await wb.xlsx.writeBuffer());

    const boundary = "----shouhu";
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="results.xlsx"\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n`,
      ),
      buffer,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await app.inject({
      method: "POST",
      url: `/api/v1/campaigns/${campaignId}/results`,
      headers: { ...(await issuer.as("changling.doctor")), "content-type": `multipart/form-data; boundary=${boundary}` },
      payload: body,
    });
    expect(res.statusCode, res.body).toBe(200);
    const out = res.json();
    expect(out).toMatchObject({ rows: 2, accepted: 1, rejected: 1 });
    expect(out.errors[0]).toMatchObject({ row: ids.get("远村儿童"), issues: [expect.objectContaining({ field: "weightKg" })] });
    const exam = await prisma.exam.findFirst({ where: { campaignId, heightCm: 145 } });
    expect(exam?.flags).toEqual([{ kind: "low_vision", severity: "mild", label: "视力低下（轻度）" }]);
  });
});

function pairingStarted(c: ChildSnapshot, helper: { name: string; username: string }, pairingId = randomUUID()) {
  const data = pairingStartedData(mentorPairing(c, teacherHelper(helper.name, helper.username), pairingId), "2026-11-01");
  return buildEvent("pairing.started", { subject: c.id, orgUnit: c.villageCode, actor, data }, { producer: "pairing" });
}

describe("follow-ups close only on evidence", () => {
  it("an exam that did not measure a finding neither finds nor clears it; an older exam entered late closes nothing newer", async () => {
    const c = await register({ name: "刘小兰", sex: "female" });
    // 11 years 8 months, girls: haemoglobin 108 is moderate anaemia (5–11 years: below 115).
    const first = await api("POST", "/api/v1/exams", "changling.doctor", {
      childId: c.id,
      date: "2026-11-18",
      examiner: "李医生",
      hemoglobin: 108,
      visionLeft: 4.8,
      visionRight: 5.0,
    });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body.flags.map((f: { kind: string }) => f.kind)).toEqual(["low_vision", "anaemia"]);

    // A vision-only re-check: vision is cleared, anaemia was not measured and stays open.
    const visionOnly = await api("POST", "/api/v1/exams", "changling.doctor", {
      childId: c.id,
      date: "2026-11-19",
      examiner: "李医生",
      visionLeft: 5.0,
      visionRight: 5.0,
    });
    expect(visionOnly.body).toMatchObject({ flags: [], followUpsResolved: 1 });
    const older = await api("POST", "/api/v1/exams", "changling.doctor", { childId: c.id, date: "2026-11-10", examiner: "李医生", hemoglobin: 125 });
    expect(older.status, JSON.stringify(older.body)).toBe(201);
    expect(older.body).toMatchObject({ flags: [], followUpsResolved: 0 }); // dated before the finding
    const states = await prisma.followUp.findMany({ where: { childId: c.id }, orderBy: { kind: "asc" } });
    expect(states.map((f) => [f.kind, f.status, f.closedBy?.split(":")[0] ?? null])).toEqual([
      ["anaemia", "open", null],
      ["low_vision", "resolved", "exam"],
    ]);
    // A later haemoglobin of 116 (normal from 115) closes it.
    const later = await api("POST", "/api/v1/exams", "changling.doctor", { childId: c.id, date: "2026-11-21", examiner: "李医生", hemoglobin: 116 });
    expect(later.body).toMatchObject({ flags: [], followUpsResolved: 1 });
    expect(await prisma.followUp.count({ where: { childId: c.id, status: "open" } })).toBe(0);
  });

  it("the owner is the child's mentor, passes to the next mentor and falls back to the village child director; redelivered pairing events change nothing twice", async () => {
    const c = await register({ name: "赵小军" });
    const res = await api("POST", "/api/v1/exams", "changling.doctor", { childId: c.id, date: "2026-11-20", examiner: "李医生", caries: 3 });
    expect(res.body.followUpsOpened).toHaveLength(1);
    const ownerOf = async () =>
      (await api("GET", "/api/v1/follow-ups?status=open", "changling.director")).body.items.find((f: { childId: string }) => f.childId === c.id);
    expect(await ownerOf()).toMatchObject({
      kind: "dental_caries",
      owner: null,
      ownerRole: "village-director",
      ownerName: "村儿童主任",
      status: "open",
      statusLabel: "待随访",
    });

    const started = pairingStarted(c, { name: "王老师", username: "changling.teacher" });
    expect(await deliver(started)).toBe("applied");
    expect(await deliver(started)).toBe("duplicate");
    expect(await ownerOf()).toMatchObject({ owner: "changling.teacher", ownerRole: "mentor", ownerName: "王老师" });

    const { pairingId, kind, child: pc, helper } = started.data as EventData<"pairing.started">;
    const ended = buildEvent(
      "pairing.ended",
      {
        subject: c.id,
        orgUnit: c.villageCode,
        actor,
        data: { pairingId, kind, child: pc, helper, endDate: "2026-11-21", reason: "helper_deactivated", note: null },
      },
      { producer: "pairing" },
    );
    expect(await deliver(ended)).toBe("applied");
    expect(await deliver(ended)).toBe("duplicate");
    expect(await ownerOf()).toMatchObject({ owner: null, ownerRole: "village-director" });
  });
});

describe("a child leaving the programme", () => {
  it("closes their open follow-ups once, leaves them out of scope, and refuses new exams", async () => {
    const c = await register({ name: "钱小梅", sex: "female" });
    const res = await api("POST", "/api/v1/exams", "changling.doctor", { childId: c.id, date: "2026-11-20", examiner: "李医生", caries: 2 });
    expect(res.body.followUpsOpened).toHaveLength(1);
    const exited = buildEvent(
      "child.status-changed",
      {
        subject: c.id,
        orgUnit: c.villageCode,
        actor,
        data: {
          child: { ...c, status: "exited", exitReason: "parent_returned", revision: 2 },
          from: "active",
          to: "exited",
          reason: "parent_returned",
          note: null,
        },
      },
      { producer: "registry" },
    );
    expect(await deliver(exited)).toBe("applied");
    expect(await deliver(exited)).toBe("duplicate");
    const items = (await api("GET", "/api/v1/follow-ups?status=closed", "changling.director")).body.items.filter(
      (f: { childId: string }) => f.childId === c.id,
    );
    expect(items).toEqual([expect.objectContaining({ kind: "dental_caries", status: "closed", statusLabel: "儿童已退出" })]);
    expect((await prisma.followUp.findFirstOrThrow({ where: { childId: c.id } })).closedBy).toBe("child:exited");
    const again = await api("POST", "/api/v1/exams", "changling.doctor", { childId: c.id, date: "2026-11-21", examiner: "李医生", caries: 2 });
    expect([again.status, again.body.error.code]).toEqual([409, "CHILD_EXITED"]);
    const missed = await api("GET", `/api/v1/campaigns/${campaignId}/missed`, "changling.supervisor");
    expect(missed.body.items.map((i: { id: string }) => i.id)).not.toContain(c.id);
  });
});

describe("jurisdiction", () => {
  it("only health workers (and the county) record exams; inspectors read aggregates only; another township sees nothing", async () => {
    const c = await register({ name: "孙小红", sex: "female" });
    const exam = { childId: c.id, campaignId, date: "2026-11-20", examiner: "李医生", heightCm: 150, weightKg: 60 };
    for (const user of ["changling.teacher", "changling.supervisor", "changling.director", "county.inspector", "federation.officer"]) {
      expect((await api("POST", "/api/v1/exams", user, exam)).status, user).toBe(403);
    }
    const recorded = await api("POST", "/api/v1/exams", "changling.doctor", exam);
    expect(recorded.status, JSON.stringify(recorded.body)).toBe(201);
    const followUpId = recorded.body.followUpsOpened[0] as string;
    expect(followUpId).toBeDefined();

    // Inspectors: campaign list and coverage yes; names, exams, follow-ups, roster no.
    expect((await api("GET", "/api/v1/campaigns", "county.inspector")).body.items.map((x: { id: string }) => x.id)).toContain(campaignId);
    expect((await api("GET", "/api/v1/follow-ups", "county.inspector")).status).toBe(403);
    expect((await api("GET", `/api/v1/exams?childId=${c.id}`, "county.inspector")).status).toBe(403);
    expect((await app.inject({ url: `/api/v1/campaigns/${campaignId}/roster.xlsx`, headers: await issuer.as("county.inspector") })).statusCode).toBe(403);

    // 石门镇's supervisor: no campaign, no exam, no follow-up of 长岭乡, and cannot act on one.
    expect((await api("GET", "/api/v1/campaigns", "shimen.supervisor")).body.items).toEqual([]);
    expect((await api("GET", `/api/v1/campaigns/${campaignId}`, "shimen.supervisor")).status).toBe(404);
    expect((await api("GET", `/api/v1/exams?childId=${c.id}`, "shimen.supervisor")).body.items).toEqual([]);
    expect((await api("GET", "/api/v1/follow-ups", "shimen.supervisor")).body.items).toEqual([]);
    expect((await api("GET", "/api/v1/follow-ups?orgUnit=360999101", "shimen.supervisor")).status).toBe(403);
    expect((await api("POST", `/api/v1/follow-ups/${followUpId}/referral`, "shimen.supervisor", { hospital: "县医院", date: "2026-11-21" })).status).toBe(404);
    expect(
      (
        await api("POST", "/api/v1/campaigns", "shimen.supervisor", {
          name: "越界",
          orgUnits: ["360999101"],
          startDate: "2026-11-01",
          endDate: "2026-11-30",
          provider: "x",
        })
      ).status,
    ).toBe(403);

    // The township's own staff see it.
    expect((await api("GET", `/api/v1/campaigns/${campaignId}`, "changling.supervisor")).body).toMatchObject({
      id: campaignId,
      orgUnits: ["360999101"],
      startDate: "2026-11-01",
      endDate: "2026-11-30",
    });
    expect((await api("GET", `/api/v1/exams?childId=${c.id}`, "changling.supervisor")).body.items).toHaveLength(1);
  });
});

describe("OpenAPI", () => {
  it("documents every health route", async () => {
    const doc = (await app.inject({ url: "/openapi.json" })).json() as { paths: Record<string, Record<string, { summary?: string }>> };
    for (const [path, method] of [
      ["/api/v1/campaigns", "post"],
      ["/api/v1/campaigns", "get"],
      ["/api/v1/campaigns/{id}", "get"],
      ["/api/v1/campaigns/{id}/coverage", "get"],
      ["/api/v1/campaigns/{id}/missed", "get"],
      ["/api/v1/campaigns/{id}/roster.xlsx", "get"],
      ["/api/v1/campaigns/{id}/results", "post"],
      ["/api/v1/exams", "post"],
      ["/api/v1/exams", "get"],
      ["/api/v1/follow-ups", "get"],
      ["/api/v1/follow-ups/{id}/referral", "post"],
      ["/api/v1/snapshots/health", "post"],
    ] as const) {
      expect(doc.paths[path]?.[method]?.summary, `${method} ${path}`).toBeTruthy();
    }
  });
});

async function upload(workbook: ExcelJS.Workbook | Buffer, user = "changling.doctor") {
  const boundary = "----shouhu-results";
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="results.xlsx"\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n`,
    ),
    Buffer.isBuffer(workbook) ? workbook : Buffer.from(await workbook.xlsx.writeBuffer()),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const res = await app.inject({
    method: "POST",
    url: `/api/v1/campaigns/${campaignId}/results`,
    headers: { ...(await issuer.as(user)), "content-type": `multipart/form-data; boundary=${boundary}` },
    payload: body,
  });
  return { status: res.statusCode, body: res.json() as any };
}

function sheetOf(rows: Record<string, unknown>[], headers: readonly string[] = rosterColumns.map((c) => c.header)) {
  const wb = new ExcelJS.Workbook();
  const sheet = wb.addWorksheet("体检结果");
  sheet.addRow([...headers]);
  for (const r of rows) sheet.addRow(headers.map((h) => r[h] ?? null));
  return wb;
}

describe("bulk entry: dates as typed, wrong files, limits", () => {
  it("reads dates and digits as staff type them and names the field of each bad row in zh-CN", async () => {
    const a = await register({ name: "周小花", sex: "female" });
    const b = await register({ name: "吴小刚" });
    const res = await upload(
      sheetOf([
        { 编号: a.id, 检查日期: "2026年11月21日", 检查医生: "李医生", "身高(cm)": "１４５", "体重(kg)": 36 },
        { 编号: b.id, 检查日期: "2026.11.31", 检查医生: "李医生", "身高(cm)": 145 },
        { 编号: randomUUID(), 检查日期: "2026-11-21", 检查医生: "李医生", "身高(cm)": 145 },
        { 编号: b.id, 检查日期: "2026-11-21", 检查医生: "", "身高(cm)": 145 },
        { 编号: a.id, 检查日期: "2026-11-21", 检查医生: "李医生", "身高(cm)": 146 }, // the same child twice
      ]),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ rows: 5, accepted: 1, rejected: 4 });
    const byRow = Object.fromEntries(res.body.errors.map((e: { row: number; issues: { field: string; message: string }[] }) => [e.row, e.issues]));
    expect(byRow[3]).toEqual([{ field: "date", message: expect.stringContaining("日期无效") }]);
    expect(byRow[4]).toEqual([{ field: "childId", message: expect.stringContaining("儿童不存在") }]);
    expect(byRow[5]).toEqual([{ field: "examiner", message: "请填写检查医生" }]);
    expect(byRow[6]).toEqual([{ field: "childId", message: "该儿童在本次体检活动中已有检查记录" }]);
    const stored = await prisma.exam.findFirstOrThrow({ where: { childId: a.id, campaignId } });
    expect([stored.date.toISOString().slice(0, 10), Number(stored.heightCm)]).toEqual(["2026-11-21", 145]);
  });

  it("refuses a file that is not the roster, and more rows than one upload takes, before recording anything", async () => {
    const before = await prisma.exam.count();
    const other = await upload(sheetOf([{ 姓名: "张三", 身份证号: "360999201503070021" }], ["序号", "姓名", "身份证号"]));
    expect(other.status).toBe(400);
    expect(other.body.error.details).toEqual([{ field: "file", message: expect.stringContaining("编号、检查日期、检查医生") }]);

    const c = await register({ name: "郑小东" });
    const many = Array.from({ length: MAX_RESULT_ROWS + 1 }, () => ({ 编号: c.id, 检查日期: "2026-11-21", 检查医生: "李医生", "身高(cm)": 145 }));
    const big = await upload(sheetOf(many));
    expect(big.status).toBe(400);
    expect(big.body.error.details[0]).toMatchObject({ field: "file", message: expect.stringContaining(`${MAX_RESULT_ROWS + 1}行`) });
    expect(await prisma.exam.count()).toBe(before);

    const notXlsx = await app.inject({
      method: "POST",
      url: `/api/v1/campaigns/${campaignId}/results`,
      headers: { ...(await issuer.as("changling.doctor")), "content-type": "multipart/form-data; boundary=x" },
      payload: `--x\r\nContent-Disposition: form-data; name="file"; filename="a.xlsx"\r\n\r\nnot a workbook\r\n--x--\r\n`,
    });
    expect(notXlsx.statusCode).toBe(400);
    expect(notXlsx.json().error.details[0].field).toBe("file");
  });
});

describe("need-to-know for check-ups, generated from the table", () => {
  it("each role gets results, flags, its paired children's flags, or coverage only (403 on individual records)", async () => {
    const users: Record<Role, string> = {
      "county-admin": "county.admin",
      "federation-officer": "federation.officer",
      "township-supervisor": "changling.supervisor",
      "village-director": "changling.director",
      teacher: "changling.teacher",
      "health-worker": "changling.doctor",
      inspector: "county.inspector",
    };
    const paired = await register({ name: "需知甲" });
    const other = await register({ name: "需知乙" });
    await deliver(pairingStarted(paired, { name: "王老师", username: "changling.teacher" }));
    for (const c of [paired, other]) {
      const res = await api("POST", "/api/v1/exams", "changling.doctor", {
        childId: c.id,
        campaignId,
        date: "2026-11-21",
        examiner: "李医生",
        heightCm: 130,
        weightKg: 28,
        hemoglobin: 100,
      });
      expect(res.status).toBe(201);
    }
    const ours = (items: { childId: string }[]) => items.filter((i) => i.childId === paired.id || i.childId === other.id);
    for (const role of Role.options) {
      const access = recordAccess({ roles: [role] }, "checkups");
      const exams = await api("GET", "/api/v1/exams?limit=500", users[role]);
      const followUps = await api("GET", "/api/v1/follow-ups?limit=500", users[role]);
      if (access === "coverage" || access === "none") {
        expect([exams.status, followUps.status], role).toEqual([403, 403]);
        continue;
      }
      expect(exams.status, role).toBe(200);
      const seen = ours(exams.body.items);
      expect(new Set(seen.map((i) => i.childId)), role).toEqual(new Set(access === "paired-flags" ? [paired.id] : [paired.id, other.id]));
      for (const item of seen) {
        if (access === "full") expect(item, role).toMatchObject({ heightCm: 130, hemoglobin: 100 });
        else expect(Object.keys(item).sort(), role).toEqual(["campaignId", "childId", "childName", "date", "flags", "id"]);
      }
      if (access === "flags") expect(followUps.status, role).toBe(403);
      else {
        expect(followUps.status, role).toBe(200);
        expect(new Set(ours(followUps.body.items).map((i) => i.childId)), role).toEqual(
          new Set(access === "paired-flags" ? [paired.id] : [paired.id, other.id]),
        );
      }
    }
  });
});

describe("hostile result files", () => {
  it("a whole-sheet merge or a zip bomb is refused before exceljs loads it, naming the file field", async () => {
    for (const [file, reason] of [
      [handMadeXlsx(sheetXml(sheetRows(3), `<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>`)), /合并单元格/],
      [handMadeXlsx(Buffer.concat([Buffer.from(sheetXml("")), Buffer.alloc(8 * 1024 * 1024, 0x20)]), { "xl/worksheets/sheet1.xml": 2048 }), /声明的大小/],
      [handMadeXlsx(sheetXml(sheetRows(2100, 2))), /行/],
    ] as const) {
      const res = await upload(file);
      expect(res.status).toBe(400);
      expect(res.body.error.details[0]).toMatchObject({ field: "file", message: expect.stringMatching(reason) });
    }
  });
});

describe("blood pressure (WS/T 610-2018) and the evaluation the results grid shows as values are typed", () => {
  it("evaluates without storing, refuses bad values naming the field in Chinese, and only for examiners", async () => {
    const c = await register({ name: "血压测", sex: "male", birthDate: "2016-11-23" });
    const before = await prisma.exam.count();
    const ok = await api("POST", "/api/v1/exams/evaluate", "changling.doctor", {
      childId: c.id,
      date: "2026-11-22",
      heightCm: 136,
      weightKg: 30,
      bpSystolic: 120,
      bpDiastolic: 70,
    });
    expect(ok.status).toBe(200);
    expect(ok.body.bloodPressure).toMatchObject({ result: "elevated", label: "血压偏高", basis: { age: 9, heightGroup: "P50–P75", systolicP95: 119 } });
    expect(ok.body.flags).toContainEqual({ kind: "elevated_bp", severity: null, label: "血压偏高" });
    expect(ok.body.assessed).toEqual(expect.arrayContaining(["elevated_bp", "stunting", "overweight"]));
    expect(await prisma.exam.count()).toBe(before);
    // Nothing typed yet is not an error.
    expect((await api("POST", "/api/v1/exams/evaluate", "changling.doctor", { childId: c.id, date: "2026-11-22" })).body.bloodPressure.result).toBe(
      "not_tested",
    );
    const bad = await api("POST", "/api/v1/exams/evaluate", "changling.doctor", { childId: c.id, date: "2026-11-22", bpSystolic: 300 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details).toContainEqual(expect.objectContaining({ field: "bpSystolic", message: "收缩压应在50–250 mmHg之间" }));
    const crossed = await api("POST", "/api/v1/exams/evaluate", "changling.doctor", { childId: c.id, date: "2026-11-22", bpSystolic: 80, bpDiastolic: 90 });
    expect(crossed.body.error.details).toEqual([{ field: "bpDiastolic", message: "舒张压应低于收缩压" }]);
    const text = await api("POST", "/api/v1/exams/evaluate", "changling.doctor", { childId: c.id, date: "2026-11-22", heightCm: "abc" });
    expect(text.status).toBe(400);
    expect(text.body.error.details[0].field).toBe("heightCm");
    const young = await register({ name: "血压幼", sex: "female", birthDate: "2021-03-01" });
    const six = await api("POST", "/api/v1/exams/evaluate", "changling.doctor", {
      childId: young.id,
      date: "2026-11-22",
      heightCm: 110,
      bpSystolic: 130,
      bpDiastolic: 85,
    });
    expect(six.body.bloodPressure.label).toBe("不适用（WS/T 610 适用于7岁及以上）");
    expect((await api("POST", "/api/v1/exams/evaluate", "changling.teacher", { childId: c.id, date: "2026-11-22" })).status).toBe(403);
    expect((await api("POST", "/api/v1/exams/evaluate", "changling.doctor", { childId: randomUUID(), date: "2026-11-22" })).status).toBe(404);
  });

  it("an exam with 血压偏高 opens a follow-up like any finding; a later normal reading resolves it", async () => {
    const c = await register({ name: "血压随访", sex: "male", birthDate: "2016-11-23" });
    const first = await api("POST", "/api/v1/exams", "changling.doctor", {
      childId: c.id,
      date: "2026-11-20",
      examiner: "李医生",
      heightCm: 136,
      bpSystolic: 121,
      bpDiastolic: 70,
    });
    expect(first.status).toBe(201);
    expect(first.body.bloodPressure.result).toBe("elevated");
    expect(first.body.followUpsOpened).toHaveLength(1);
    const open = (await api("GET", "/api/v1/follow-ups?status=open&limit=500", "changling.doctor")).body.items.filter((f: any) => f.childId === c.id);
    expect(open).toEqual([expect.objectContaining({ kind: "elevated_bp", label: "血压偏高" })]);
    const flagged = await outbox("checkup.flagged", c.id);
    expect(flagged.at(-1).findings).toContainEqual(expect.objectContaining({ kind: "elevated_bp", followUpOpened: true }));
    const second = await api("POST", "/api/v1/exams", "changling.doctor", {
      childId: c.id,
      date: "2026-11-21",
      examiner: "李医生",
      heightCm: 136,
      bpSystolic: 110,
      bpDiastolic: 70,
    });
    expect(second.body.followUpsResolved).toBe(1);
  });
});
