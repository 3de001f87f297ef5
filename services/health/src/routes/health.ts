import { z } from "zod";
import multipart from "@fastify/multipart";
import { v7 as uuidv7 } from "uuid";
import { normalizeDate, toHalfWidth, todayInChina } from "@shouhu/cn";
import { AppError, ForbiddenError, NotFoundError, ValidationError, markAudit, type FieldIssue, type ServiceApp } from "@shouhu/kit";
import { SpreadsheetLimitError, inspectXlsx } from "@shouhu/spreadsheet";
import { actorOf, assertWithinJurisdiction, hasAnyRole, recordAccess, scopeOf, type Principal } from "@shouhu/auth";
import type { PrismaClient } from "../data/db.js";
import { ExamInput } from "../domain/exam.js";
import { recordExam, referFollowUp, type Recorder } from "../data/exams.js";
import { readResults, rosterWorkbook } from "../domain/roster.js";
import { publishHealthSnapshot } from "../data/snapshot.js";
import { overlaps, orgUnitCode } from "@shouhu/contracts";

const orgCode = orgUnitCode();
const CampaignInput = z
  .object({
    name: z.string().trim().min(1, "请填写体检活动名称").max(100),
    orgUnits: z.array(orgCode).min(1, "请选择体检覆盖的乡镇或村").max(50),
    startDate: z.iso.date("日期格式应为 YYYY-MM-DD"),
    endDate: z.iso.date("日期格式应为 YYYY-MM-DD"),
    provider: z.string().trim().min(1, "请填写承担体检的医疗机构").max(100),
  })
  .refine((c) => c.endDate >= c.startDate, { path: ["endDate"], message: "结束日期不能早于开始日期" });
const IdParams = z.object({ id: z.uuid({ message: "编号格式不正确" }) });
const ReferralBody = z.object({ hospital: z.string().trim().min(1, "请填写转诊医院").max(100), date: z.iso.date("日期格式应为 YYYY-MM-DD"), note: z.string().max(500).nullish() });
const FollowUpQuery = z.object({ orgUnit: orgCode.optional(), status: z.enum(["open", "resolved", "referred", "closed"]).optional(), limit: z.coerce.number().int().min(1).max(500).default(200) });
const ExamQuery = z.object({ childId: z.uuid().optional(), campaignId: z.uuid().optional(), limit: z.coerce.number().int().min(1).max(500).default(200) });

/** Health workers (卫生院) record exams; case workers read them; inspectors see aggregates only. */
const examiners = ["health-worker", "county-admin"] as const;
const organisers = ["health-worker", "county-admin", "township-supervisor"] as const;
const readers = ["health-worker", "county-admin", "federation-officer", "township-supervisor", "village-director"] as const;

function require(principal: Principal, roles: readonly string[], what: string): void {
  if (!hasAnyRole(principal, roles as never)) throw new ForbiddenError(`当前角色无权${what}`);
}

function recorderOf(principal: Principal): Recorder {
  return { username: principal.username, name: principal.name || principal.username, orgUnit: principal.orgUnit, actor: actorOf(principal) };
}

type CampaignRow = Awaited<ReturnType<PrismaClient["campaign"]["findUniqueOrThrow"]>>;

/** Dates as calendar days, the way they were entered. */
function campaignView(c: CampaignRow) {
  return { ...c, startDate: c.startDate.toISOString().slice(0, 10), endDate: c.endDate.toISOString().slice(0, 10) };
}

async function campaignFor(prisma: PrismaClient, id: string, principal: Principal) {
  const campaign = await prisma.campaign.findUnique({ where: { id } });
  // Visible when it covers something inside the caller's area, or the caller's area lies inside it.
  if (!campaign || !campaign.orgUnits.some((u) => overlaps(principal.orgUnit, u))) throw new NotFoundError("体检活动", id);
  return campaign;
}

/**
 * Rows per upload. Results are recorded synchronously, one transaction per row (a
 * bad row never blocks the good ones); a township campaign is a few hundred to
 * two thousand children, well inside the gateway's timeout. Larger files: split
 * by village.
 */
export const MAX_RESULT_ROWS = 2000;

/** A row of the results sheet → the exam input (numbers and dates as staff type them), or the row's issues. */
function rowToInput(values: Record<string, unknown>, campaignId: string): { input: unknown } | { issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const num = (v: unknown) => {
    if (v === null || v === undefined || v === "") return null;
    if (typeof v === "number") return v;
    const text = toHalfWidth(String(v)).trim();
    return text === "" ? null : Number(text);
  };
  const str = (v: unknown) => (v === null || v === undefined ? null : String(v).trim());
  let date: string | null = null;
  if (values.date === null || values.date === undefined || values.date === "") issues.push({ field: "date", message: "请填写检查日期" });
  else {
    const parsed = normalizeDate(values.date);
    if (parsed.ok) date = parsed.date;
    else issues.push({ field: "date", message: parsed.reason });
  }
  if (issues.length) return { issues };
  return {
    input: {
      childId: str(values.childId),
      campaignId,
      date,
      examiner: str(values.examiner) ?? "",
      heightCm: num(values.heightCm),
      weightKg: num(values.weightKg),
      visionLeft: num(values.visionLeft),
      visionRight: num(values.visionRight),
      hemoglobin: num(values.hemoglobin),
      caries: num(values.caries),
      bpSystolic: num(values.bpSystolic),
      bpDiastolic: num(values.bpDiastolic),
      notes: str(values.notes),
    },
  };
}

export async function registerHealthRoutes(app: ServiceApp, deps: { prisma: PrismaClient; now: () => Date }): Promise<void> {
  const { prisma } = deps;
  const today = () => todayInChina(deps.now());
  await app.register(multipart, { limits: { fileSize: 10 * 1024 * 1024, files: 1 } });

  app.post("/api/v1/campaigns", { schema: { tags: ["health"], summary: "创建体检活动", body: CampaignInput } }, async (request, reply) => {
    const principal = request.principal!;
    require(principal, organisers, "组织体检活动");
    for (const u of request.body.orgUnits) assertWithinJurisdiction(principal, u);
    const campaign = await prisma.campaign.create({
      data: { id: uuidv7(), ...request.body, startDate: new Date(`${request.body.startDate}T00:00:00Z`), endDate: new Date(`${request.body.endDate}T00:00:00Z`), createdBy: principal.username },
    });
    return reply.status(201).send(campaignView(campaign));
  });

  app.get("/api/v1/campaigns", { schema: { tags: ["health"], summary: "体检活动列表" } }, async (request) => {
    const principal = request.principal!;
    const all = await prisma.campaign.findMany({ orderBy: { startDate: "desc" }, take: 200 });
    return { items: all.filter((c) => c.orgUnits.some((u) => overlaps(principal.orgUnit, u))).map(campaignView) };
  });

  app.get("/api/v1/campaigns/:id", { schema: { tags: ["health"], summary: "体检活动详情", params: IdParams } }, async (request) => campaignView(await campaignFor(prisma, request.params.id, request.principal!)));

  app.get("/api/v1/campaigns/:id/coverage", { schema: { tags: ["health"], summary: "体检覆盖：应检、已检、未检，按村；异常检出按类别", params: IdParams } }, async (request) => {
    const principal = request.principal!;
    const campaign = await campaignFor(prisma, request.params.id, principal);
    const rows = await prisma.$queryRawUnsafe<{ villageCode: string; inScope: number; examined: number }[]>(
      `SELECT c.village_code AS "villageCode", count(*)::int AS "inScope", count(e.id)::int AS examined
         FROM children c LEFT JOIN exams e ON e.child_id = c.id AND e.campaign_id = $1::uuid
        WHERE c.status = 'active' AND c.village_code LIKE ANY($2::text[]) AND c.village_code LIKE $3 || '%'
        GROUP BY 1 ORDER BY 1`,
      campaign.id,
      campaign.orgUnits.map((u) => `${u}%`),
      principal.orgUnit,
    );
    const flags = await prisma.$queryRawUnsafe<{ villageCode: string; kind: string; n: number }[]>(
      `SELECT c.village_code AS "villageCode", f->>'kind' AS kind, count(*)::int AS n
         FROM exams e JOIN children c ON c.id = e.child_id, jsonb_array_elements(e.flags) f
        WHERE e.campaign_id = $1::uuid AND c.status = 'active' AND c.village_code LIKE $2 || '%' GROUP BY 1, 2`,
      campaign.id,
      principal.orgUnit,
    );
    const byVillage = rows.map((r) => ({
      ...r,
      missed: r.inScope - r.examined,
      flags: Object.fromEntries(flags.filter((f) => f.villageCode === r.villageCode).map((f) => [f.kind, f.n])),
    }));
    type Sum = { inScope: number; examined: number; missed: number; flags: Record<string, number> };
    const add = (t: Sum, r: Sum): Sum => {
      for (const [k, n] of Object.entries(r.flags)) t.flags[k] = (t.flags[k] ?? 0) + n;
      return { ...t, inScope: t.inScope + r.inScope, examined: t.examined + r.examined, missed: t.missed + r.missed };
    };
    const empty = (): Sum => ({ inScope: 0, examined: 0, missed: 0, flags: {} });
    const townships = new Map<string, Sum>();
    for (const v of byVillage) townships.set(v.villageCode.slice(0, 9), add(townships.get(v.villageCode.slice(0, 9)) ?? empty(), v));
    return {
      campaign: { id: campaign.id, name: campaign.name },
      villages: byVillage,
      townships: [...townships].map(([townshipCode, t]) => ({ townshipCode, ...t })),
      total: byVillage.reduce(add, empty()),
    };
  });

  app.get("/api/v1/campaigns/:id/missed", { schema: { tags: ["health"], summary: "本次体检未检儿童名单", params: IdParams } }, async (request, reply) => {
    const principal = request.principal!;
    require(principal, readers, "查看儿童名单");
    const campaign = await campaignFor(prisma, request.params.id, principal);
    const items = await prisma.$queryRawUnsafe<{ id: string; name: string; villageCode: string }[]>(
      `SELECT c.id, c.name, c.village_code AS "villageCode" FROM children c
        WHERE c.status = 'active' AND c.village_code LIKE ANY($2::text[]) AND c.village_code LIKE $3 || '%'
          AND NOT EXISTS (SELECT 1 FROM exams e WHERE e.child_id = c.id AND e.campaign_id = $1::uuid)
        ORDER BY c.village_code, c.name`,
      campaign.id,
      campaign.orgUnits.map((u) => `${u}%`),
      principal.orgUnit,
    );
    markAudit(reply, "list", items.map((i) => i.id));
    return { items };
  });

  app.get("/api/v1/campaigns/:id/roster.xlsx", { schema: { tags: ["health"], summary: "下载体检名单（填写结果后上传）", params: IdParams } }, async (request, reply) => {
    const principal = request.principal!;
    require(principal, examiners, "下载体检名单");
    const campaign = await campaignFor(prisma, request.params.id, principal);
    const children = await prisma.$queryRawUnsafe<{ id: string; name: string; sex: string; birthDate: string; village: string }[]>(
      `SELECT id, name, sex, to_char(birth_date, 'YYYY-MM-DD') AS "birthDate", village_code AS village FROM children
        WHERE status = 'active' AND village_code LIKE ANY($1::text[]) AND village_code LIKE $2 || '%' ORDER BY village_code, name`,
      campaign.orgUnits.map((u) => `${u}%`),
      principal.orgUnit,
    );
    markAudit(reply, "export", children.map((c) => c.id));
    const buffer = Buffer.from(await rosterWorkbook(campaign.name, children).xlsx.writeBuffer());
    return reply
      .header("content-type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
      .header("content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(`${campaign.name}-体检名单.xlsx`)}`)
      .send(buffer);
  });

  app.post("/api/v1/campaigns/:id/results", { schema: { tags: ["health"], summary: "批量录入体检结果（上传填好的名单 .xlsx，逐行返回错误）", params: IdParams } }, async (request, reply) => {
    const principal = request.principal!;
    require(principal, examiners, "录入体检结果");
    const campaign = await campaignFor(prisma, request.params.id, principal);
    const file = await request.file();
    if (!file) throw ValidationError.field("file", "请上传填好的体检名单（.xlsx）");
    const buffer = await file.toBuffer();
    // Before exceljs loads it whole: a township's results are a few hundred kB; a bomb or a whole-sheet merge is refused here.
    try {
      inspectXlsx(buffer, { maxFileBytes: 10 * 1024 * 1024, maxRows: MAX_RESULT_ROWS + 50, maxMergedCells: 10_000 });
    } catch (err) {
      if (err instanceof SpreadsheetLimitError) throw ValidationError.field("file", err.message);
      throw err;
    }
    let sheet;
    try {
      sheet = await readResults(buffer);
    } catch {
      throw ValidationError.field("file", "无法读取该文件，请上传 .xlsx 格式的体检名单");
    }
    if (sheet.missing.length) throw ValidationError.field("file", `表格缺少列：${sheet.missing.join("、")}。请使用本活动下载的体检名单填写`);
    const rows = sheet.rows;
    if (rows.length > MAX_RESULT_ROWS) throw ValidationError.field("file", `一次最多上传${MAX_RESULT_ROWS}行结果（本文件${rows.length}行），请按村分开上传`);
    const errors: { row: number; issues: FieldIssue[] }[] = [];
    let accepted = 0;
    const recordedFor: string[] = [];
    const recorder = recorderOf(principal);
    for (const { row, values } of rows) {
      const mapped = rowToInput(values, campaign.id);
      if ("issues" in mapped) {
        errors.push({ row, issues: mapped.issues });
        continue;
      }
      const parsed = ExamInput.safeParse(mapped.input);
      if (!parsed.success) {
        errors.push({ row, issues: parsed.error.issues.map((i) => ({ field: i.path.join("."), message: i.message })) });
        continue;
      }
      try {
        await recordExam(prisma, parsed.data, recorder, today());
        accepted++;
        recordedFor.push(parsed.data.childId);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        // A child not found (or outside the caller's area) is the row's 编号 that is wrong.
        const field = (err.details as { field?: string } | undefined)?.field ?? (err.statusCode === 404 ? "childId" : "row");
        const details = Array.isArray(err.details) ? (err.details as FieldIssue[]) : [{ field, message: err.message }];
        errors.push({ row, issues: details });
      }
    }
    markAudit(reply, "import", recordedFor);
    return { rows: rows.length, accepted, rejected: errors.length, errors };
  });

  app.post("/api/v1/exams", { schema: { tags: ["health"], summary: "录入一份体检记录（按国家标准评价，异常自动生成随访并通知）", body: ExamInput } }, async (request, reply) => {
    const principal = request.principal!;
    require(principal, examiners, "录入体检结果");
    const result = await recordExam(prisma, request.body, recorderOf(principal), today());
    markAudit(reply, "update", [request.body.childId]);
    return reply.status(201).send(result);
  });

  app.get("/api/v1/exams", { schema: { tags: ["health"], summary: "体检记录（按儿童或活动）", querystring: ExamQuery } }, async (request, reply) => {
    const principal = request.principal!;
    // Need-to-know: results (case workers, health workers) | flags only (federation) |
    // flags of the children paired to them (teachers) | coverage only (inspectors: 403 here).
    const access = recordAccess(principal, "checkups");
    if (access === "coverage" || access === "none") throw new ForbiddenError("当前角色无权查看个人体检记录");
    const q = request.query;
    const rows = await prisma.$queryRawUnsafe<{ childId: string }[]>(
      `SELECT e.id, e.campaign_id AS "campaignId", e.child_id AS "childId", c.name AS "childName", to_char(e.date, 'YYYY-MM-DD') AS date,
              e.examiner, e.height_cm::float AS "heightCm", e.weight_kg::float AS "weightKg", e.bmi::float AS bmi,
              e.vision_left::float AS "visionLeft", e.vision_right::float AS "visionRight", e.hemoglobin, e.caries,
              e.bp_systolic AS "bpSystolic", e.bp_diastolic AS "bpDiastolic", e.flags, e.notes
         FROM exams e JOIN children c ON c.id = e.child_id
        WHERE c.village_code LIKE $1 || '%' AND ($2::uuid IS NULL OR e.child_id = $2::uuid) AND ($3::uuid IS NULL OR e.campaign_id = $3::uuid)
          AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM mentors m WHERE m.child_id = e.child_id AND m.username = $5))
        ORDER BY e.date DESC LIMIT $4`,
      principal.orgUnit,
      q.childId ?? null,
      q.campaignId ?? null,
      q.limit,
      access === "paired-flags" ? principal.username : null,
    );
    markAudit(reply, "read", [...new Set(rows.map((r) => r.childId))]);
    if (access === "full") return { items: rows };
    const flagsOnly = rows as unknown as { id: string; campaignId: string; childId: string; childName: string; date: string; flags: unknown }[];
    return { items: flagsOnly.map(({ id, campaignId, childId, childName, date, flags }) => ({ id, campaignId, childId, childName, date, flags })) };
  });

  app.get("/api/v1/follow-ups", { schema: { tags: ["health"], summary: "体检异常随访事项", querystring: FollowUpQuery } }, async (request, reply) => {
    const principal = request.principal!;
    // Follow-ups: case workers and health workers all; teachers those of their paired children (they own them).
    const access = recordAccess(principal, "checkups");
    if (access !== "full" && access !== "paired-flags") throw new ForbiddenError("当前角色无权查看随访事项");
    const teacherOnly = access === "paired-flags";
    const rows = await prisma.$queryRawUnsafe<{ childId: string; kind: string }[]>(
      `SELECT f.id, f.child_id AS "childId", c.name AS "childName", f.village_code AS "villageCode", f.kind, f.label, f.owner,
              f.owner_name AS "ownerName", f.status, f.referral, f.created_at AS "createdAt", f.closed_at AS "closedAt"
         FROM follow_ups f JOIN children c ON c.id = f.child_id
        WHERE f.village_code LIKE $1 || '%' AND ($2::text IS NULL OR f.status = $2) AND ($3::text IS NULL OR f.owner = $3)
        ORDER BY f.created_at DESC LIMIT $4`,
      scopeOf(principal, request.query.orgUnit),
      request.query.status ?? null,
      teacherOnly ? principal.username : null,
      request.query.limit,
    );
    markAudit(reply, "list", [...new Set(rows.map((r) => r.childId))]);
    return {
      items: rows.map((r) => {
        const { owner, ownerName, status } = r as unknown as { owner: string | null; ownerName: string | null; status: "open" | "resolved" | "referred" | "closed" };
        return {
          ...r,
          // No mentor: the village child director of the child's village follows it up. A mentor without a login
          // (a proxy parent) has a name but no username: still the mentor.
          ownerRole: owner || ownerName ? "mentor" : "village-director",
          ownerName: ownerName ?? "村儿童主任",
          statusLabel: { open: "待随访", resolved: "复查正常", referred: "已转诊", closed: "儿童已退出" }[status],
        };
      }),
    };
  });

  app.post("/api/v1/snapshots/health", { schema: { tags: ["snapshots"], summary: "发布全部体检记录的快照（供统计重建）" } }, async (request, reply) => {
    require(request.principal!, ["county-admin"], "发布快照");
    // The admin's own county only.
    return reply.status(201).send(await publishHealthSnapshot(prisma, { county: request.principal!.orgUnit.slice(0, 6) }));
  });

  app.post("/api/v1/follow-ups/:id/referral", { schema: { tags: ["health"], summary: "登记转诊（关闭随访事项）", params: IdParams, body: ReferralBody } }, async (request) => {
    const principal = request.principal!;
    require(principal, [...examiners, "township-supervisor", "village-director"], "登记转诊");
    if (request.body.date > today()) throw ValidationError.field("date", `转诊日期不能晚于今天（${today()}）`);
    await referFollowUp(prisma, request.params.id, request.body, recorderOf(principal));
    return { id: request.params.id, status: "referred" };
  });
}
