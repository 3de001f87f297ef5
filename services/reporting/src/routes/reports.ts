import { z } from "zod";
import type { Queue } from "bullmq";
import { v7 as uuidv7 } from "uuid";
import { todayInChina } from "@shouhu/cn";
import { AUDIT_HEADER, AppError, ConflictError, ForbiddenError, NotFoundError, ValidationError, type ServiceApp } from "@shouhu/kit";
import { hasAnyRole, type Principal, scopeOf } from "@shouhu/auth";
import type { PrismaClient } from "../data/db.js";
import {
  activityCounts,
  parentCallCounts,
  addConcernAges,
  enrolmentRate,
  figuresFromCounters,
  notificationStats,
  orgUnitName,
  overviewReport,
  supervision,
  totals,
  trend,
} from "../data/reports.js";
import { createReportExport, figuresBySchool, reportExportState, reportExportWithFile } from "../data/report-exports.js";
import { rebuildStatus, startRebuild } from "../data/rebuild.js";
import { EXPORT_JOB, REPORT_EXPORT_TTL_MS, purgeExpiredReports, type ExportJobData } from "../jobs/export.js";
import { bornOnOrBefore, parseSemester, semesterOf } from "@shouhu/cn";
import { contains, orgUnitCode, countyOf } from "@shouhu/contracts";
import { DrilldownResponse, ExportStartedResponse, ExportStateResponse, OverviewResponse, SupervisionResponse, TrendResponse } from "./schemas.js";

const code = orgUnitCode();
const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, "月份格式应为 YYYY-MM");

const OverviewQuery = z.object({ orgUnit: code.optional(), month: month.optional() });
const DrillQuery = z.object({
  orgUnit: orgUnitCode(["township"], "应为9位乡镇代码"),
  by: z.enum(["village", "school"]).default("village"),
  month: month.optional(),
});
const TrendQuery = z.object({ orgUnit: code.optional(), month: month.optional(), months: z.coerce.number().int().min(1).max(36).default(12) });
const ActivitiesQuery = z.object({
  orgUnit: code.optional(),
  month: month.optional(),
  months: z.coerce.number().int().min(1, "月数至少为1").max(36, "最多查询36个月").default(12),
});
const ParentCallsResponse = z.object({
  orgUnit: z.string(),
  from: z.string(),
  to: z.string(),
  rows: z.array(
    z.object({
      townshipCode: z.string(),
      townshipName: z.string().nullable(),
      month: z.string(),
      connected: z.number(),
      attempts: z.number(),
      minutes: z.number(),
      childrenReached: z.number(),
      due: z.number(),
      done: z.number(),
    }),
  ),
});
const ActivitiesResponse = z.object({
  orgUnit: z.string(),
  from: z.string(),
  to: z.string(),
  rows: z.array(
    z.object({
      townshipCode: z.string(),
      townshipName: z.string().nullable(),
      kind: z.string(),
      month: z.string(),
      sessions: z.number(),
      attendances: z.number(),
    }),
  ),
});
const EnrolmentQuery = z.object({
  orgUnit: code.optional(),
  semester: z
    .string()
    .max(20)
    .refine((s) => parseSemester(s) !== null, "学期格式应为 YYYY-YYYY-1 或 YYYY-YYYY-2（如 2026-2027-1 为2026—2027学年第一学期）")
    .optional(),
});
const EnrolmentFiguresShape = {
  schoolAge: z.number(),
  enrolled: z.number(),
  suspended: z.number(),
  droppedOut: z.number(),
  transferredOut: z.number(),
  unlisted: z.number(),
  rate: z.number().nullable(),
};
const EnrolmentResponse = z.object({
  orgUnit: z.string(),
  semester: z.string(),
  semesterLabel: z.string(),
  units: z.array(z.object({ code: z.string(), name: z.string().nullable(), ...EnrolmentFiguresShape })),
  schools: z.array(z.object({ schoolId: z.string().nullable(), schoolName: z.string().nullable(), ...EnrolmentFiguresShape })),
  total: z.object(EnrolmentFiguresShape),
});
const SupervisionQuery = z.object({ orgUnit: orgUnitCode(["township"], "督导报告按乡镇出具，应为9位乡镇代码") });
const ExportBody = z
  .object({
    report: z.enum(["overview", "supervision", "work_summary"], { message: "报表类型应为 overview、supervision 或 work_summary" }),
    orgUnit: code,
    month: month.optional(),
    semester: z
      .string()
      .refine((s) => parseSemester(s) !== null, "学期格式应为 YYYY-YYYY-1 或 YYYY-YYYY-2（如 2026-2027-1 为2026—2027学年第一学期）")
      .optional()
      .describe("工作总结的学期：2026-2027-1 为第一学期（9月1日至次年1月31日），2026-2027-2 为第二学期（2月1日至8月31日）；默认为当前学期"),
    schoolId: z.string().trim().min(1).max(32).optional().describe("工作总结按学校出具时的学校代码"),
  })
  .strict();
const IdParams = z.object({ id: z.uuid({ message: "导出任务编号格式不正确" }) });
const NotificationStatsQuery = z.object({ days: z.coerce.number().int().min(1, "天数至少为1").max(366, "最多查询366天").default(30) });
const channelLabel: Record<string, string> = { inapp: "站内消息", sms: "短信", email: "电子邮件", wecom: "企业微信", dingtalk: "钉钉" };

/** Reports are for the people who supervise: county, federation, township, inspectors, and a village director for their village. */
function requireReader(principal: Principal): void {
  if (!hasAnyRole(principal, ["county-admin", "federation-officer", "township-supervisor", "village-director", "inspector"])) {
    throw new ForbiddenError("当前角色无权查看统计报表");
  }
}

/** A report reader's area: the unit asked for, within their jurisdiction (their own unit when none is asked). */
function readerScope(principal: Principal, orgUnit: string | undefined): string {
  requireReader(principal);
  return scopeOf(principal, orgUnit);
}

export function registerReportRoutes(app: ServiceApp, deps: { prisma: PrismaClient; now: () => Date; exports: Queue; exportTtlMs?: number }): void {
  const { prisma } = deps;
  const ttlMs = deps.exportTtlMs ?? REPORT_EXPORT_TTL_MS;
  const thisMonth = () => todayInChina(deps.now()).slice(0, 7);

  app.get(
    "/api/v1/reports/overview",
    {
      schema: {
        tags: ["reports"],
        summary: "总览：每个下级单位一行（县→乡镇，乡镇→村），含合计",
        querystring: OverviewQuery,
        response: { 200: OverviewResponse },
      },
    },
    async (request) => {
      const orgUnit = readerScope(request.principal!, request.query.orgUnit);
      return overviewReport(prisma, orgUnit, request.query.month ?? thisMonth(), deps.now());
    },
  );

  app.get(
    "/api/v1/reports/activities",
    {
      schema: {
        tags: ["reports"],
        summary: "留守儿童之家活动：按乡镇、活动类型、月份统计次数与参加人次",
        querystring: ActivitiesQuery,
        response: { 200: ActivitiesResponse },
      },
    },
    async (request) => {
      const orgUnit = readerScope(request.principal!, request.query.orgUnit);
      return activityCounts(prisma, orgUnit, request.query.month ?? thisMonth(), request.query.months);
    },
  );

  app.get(
    "/api/v1/reports/parent-calls",
    {
      schema: {
        tags: ["reports"],
        summary: "亲情电话：按乡镇、月份统计接通次数、未接通、通话分钟、通话儿童数，及本月应通话与已完成",
        querystring: ActivitiesQuery,
        response: { 200: ParentCallsResponse },
      },
    },
    async (request) => {
      const orgUnit = readerScope(request.principal!, request.query.orgUnit);
      return parentCallCounts(prisma, orgUnit, request.query.month ?? thisMonth(), request.query.months);
    },
  );

  app.get(
    "/api/v1/reports/enrolment",
    {
      schema: {
        tags: ["reports"],
        summary: "控辍保学：学期入学率（在读 ÷ 建档的6–15周岁儿童）、辍学、休学、转学、未入名单人数，按下级单位和学校",
        querystring: EnrolmentQuery,
        response: { 200: EnrolmentResponse },
      },
    },
    async (request) => {
      const orgUnit = readerScope(request.principal!, request.query.orgUnit);
      const semester = request.query.semester ? parseSemester(request.query.semester)! : semesterOf(todayInChina(deps.now()));
      // Compulsory-education age, 6 to 15 at the semester's start (as the registry's missing list counts it).
      const ages = { onOrBefore: bornOnOrBefore(semester.from, 6), after: bornOnOrBefore(semester.from, 16) };
      return { orgUnit, semester: semester.code, semesterLabel: semester.label, ...(await enrolmentRate(prisma, orgUnit, semester.code, ages)) };
    },
  );

  app.get(
    "/api/v1/reports/drilldown",
    { schema: { tags: ["reports"], summary: "乡镇下钻：按村或按学校", querystring: DrillQuery, response: { 200: DrilldownResponse } } },
    async (request) => {
      const orgUnit = readerScope(request.principal!, request.query.orgUnit);
      const m = request.query.month ?? thisMonth();
      if (request.query.by === "village") {
        const rows = await figuresFromCounters(prisma, { orgUnit, unitLength: 12, month: m });
        await addConcernAges(prisma, rows, orgUnit, 12, deps.now());
        return { orgUnit, by: "village", month: m, rows, total: totals(rows, orgUnit, "合计", m) };
      }
      // Schools: children and pairing from the rows (a township is a few thousand children).
      const rows = await figuresBySchool(prisma, orgUnit, m.slice(0, 4));
      return {
        orgUnit,
        by: "school",
        month: m,
        rows: rows.map((r) => ({
          ...r,
          schoolName: r.schoolId === "" ? "未入学" : (r.schoolName ?? r.schoolId),
          mentorCoverage: r.children ? Math.round((r.mentored / r.children) * 1000) / 1000 : null,
        })),
      };
    },
  );

  // Whether the right person is being told: deliveries and failures by channel (the deployment's, so county admins only).
  app.get(
    "/api/v1/reports/notifications",
    { schema: { tags: ["reports"], summary: "通知送达统计：按日、按渠道的送达与失败条数", querystring: NotificationStatsQuery } },
    async (request) => {
      if (!hasAnyRole(request.principal!, ["county-admin"])) throw new ForbiddenError("仅县级管理员可查看通知送达统计");
      const today = todayInChina(deps.now());
      const from = new Date(Date.parse(`${today}T00:00:00Z`) - (request.query.days - 1) * 86_400_000).toISOString().slice(0, 10);
      const rows = await notificationStats(prisma, from, today);
      return { from, to: today, items: rows.map((r) => ({ ...r, channelLabel: channelLabel[r.channel] ?? r.channel })) };
    },
  );

  app.get(
    "/api/v1/reports/trend",
    { schema: { tags: ["reports"], summary: "近12个月趋势：走访记录、走访及时率、新增关注事项", querystring: TrendQuery, response: { 200: TrendResponse } } },
    async (request) => {
      const orgUnit = readerScope(request.principal!, request.query.orgUnit);
      return { orgUnit, months: await trend(prisma, orgUnit, request.query.month ?? thisMonth(), request.query.months) };
    },
  );

  app.get(
    "/api/v1/reports/supervision",
    {
      schema: {
        tags: ["reports"],
        summary: "乡镇督导报告：未结对、逾期未访、未体检、在办关注事项",
        querystring: SupervisionQuery,
        response: { 200: SupervisionResponse },
      },
    },
    async (request) => {
      const orgUnit = readerScope(request.principal!, request.query.orgUnit);
      if (orgUnit.length !== 9) throw ValidationError.field("orgUnit", "督导报告按乡镇出具");
      const report = await supervision(prisma, orgUnit, thisMonth().slice(0, 4), deps.now());
      return {
        orgUnit,
        name: await orgUnitName(prisma, orgUnit),
        ...report,
        openConcerns: report.openConcerns.map((c) => ({ ...c, raisedAt: c.raisedAt?.toISOString() ?? null })),
      };
    },
  );

  app.post(
    "/api/v1/reports/exports",
    {
      schema: {
        tags: ["reports"],
        summary: "导出报表（统计表、督导清单为 .xlsx，工作总结为 .docx；后台生成，可查询进度）",
        body: ExportBody,
        response: { 202: ExportStartedResponse },
      },
    },
    async (request, reply) => {
      const orgUnit = readerScope(request.principal!, request.body.orgUnit);
      const { report, schoolId } = request.body;
      if (report === "supervision" && orgUnit.length !== 9) throw ValidationError.field("orgUnit", "督导报告按乡镇出具，应为9位乡镇代码");
      if (report !== "work_summary" && (request.body.semester || schoolId)) {
        throw ValidationError.field(request.body.semester ? "semester" : "schoolId", "学期和学校只用于工作总结");
      }
      if (schoolId) {
        // A school outside the area answers as one that does not exist.
        const school = await prisma.school.findUnique({ where: { id: schoolId } });
        if (!school || !contains(orgUnit, school.townshipCode)) throw new NotFoundError("学校", schoolId);
      }
      const semester = report === "work_summary" ? (request.body.semester ?? semesterOf(todayInChina(deps.now())).code) : undefined;
      const id = uuidv7();
      // Expired reports are deleted by the hourly purge job; a new export clears them too.
      await purgeExpiredReports(prisma, deps.now(), ttlMs);
      await createReportExport(prisma, { id, report, orgUnit, requestedBy: request.principal!.username });
      const data: ExportJobData = { exportId: id, month: request.body.month ?? thisMonth(), semester, schoolId: schoolId ?? null };
      await deps.exports.add(EXPORT_JOB, data, { jobId: id });
      return reply.status(202).send({ id, status: "queued" });
    },
  );

  app.get(
    "/api/v1/reports/exports/:id",
    { schema: { tags: ["reports"], summary: "导出进度", params: IdParams, response: { 200: ExportStateResponse } } },
    async (request) => {
      const principal = request.principal!;
      const job = await reportExportState(prisma, request.params.id);
      if (!job || job.requestedBy !== principal.username) throw new NotFoundError("导出任务", request.params.id);
      return {
        ...job,
        createdAt: job.createdAt.toISOString(),
        finishedAt: job.finishedAt?.toISOString() ?? null,
        progress: job.total ? Math.round((job.done / job.total) * 100) / 100 : 0,
      };
    },
  );

  app.get("/api/v1/reports/exports/:id/file", { schema: { tags: ["reports"], summary: "下载导出的报表", params: IdParams } }, async (request, reply) => {
    const principal = request.principal!;
    const job = await reportExportWithFile(prisma, request.params.id);
    if (!job || job.requestedBy !== principal.username) throw new NotFoundError("导出任务", request.params.id);
    // Re-checked at download with the token presented now: still a reader, still over that area.
    requireReader(principal);
    if (!contains(principal.orgUnit, job.orgUnit)) throw new ForbiddenError("导出范围已不在您的管辖范围内，无法下载");
    if (job.createdAt.getTime() + ttlMs <= deps.now().getTime()) {
      throw new AppError(410, "EXPORT_EXPIRED", `报表文件已过期（保留 ${Math.round(ttlMs / 3600_000)} 小时后删除），请重新导出`);
    }
    if (job.status !== "done" || !job.file) throw new ConflictError("EXPORT_NOT_READY", "报表尚未生成完毕");
    // Audited by the gateway: the children a supervision list names (an overview names none), the export id.
    reply.header(AUDIT_HEADER, JSON.stringify({ action: "export", childIds: job.childIds, exportId: job.id, childCount: job.childIds.length }));
    const docx = job.fileName?.endsWith(".docx");
    return reply
      .header("content-type", `application/vnd.openxmlformats-officedocument.${docx ? "wordprocessingml.document" : "spreadsheetml.sheet"}`)
      .header("content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(job.fileName ?? "report.xlsx")}`)
      .send(Buffer.from(job.file));
  });

  app.post("/api/v1/reports/rebuild", { schema: { tags: ["reports"], summary: "从各服务的快照重建统计（县级管理员）" } }, async (request, reply) => {
    const principal = request.principal!;
    if (!hasAnyRole(principal, ["county-admin"])) throw new ForbiddenError("只有县级管理员可以重建统计");
    const id = await startRebuild(prisma, principal.username, countyOf(principal.orgUnit));
    // Every producer is asked by the rebuild itself (snapshot.requested); nothing to post by hand.
    return reply.status(202).send({ id, county: countyOf(principal.orgUnit), status: "running" });
  });

  app.get("/api/v1/reports/rebuild", { schema: { tags: ["reports"], summary: "本县最近一次重建的进度（各服务快照是否完成）" } }, async (request) => {
    const principal = request.principal!;
    requireReader(principal);
    return rebuildStatus(prisma, countyOf(principal.orgUnit));
  });
}
