import { z } from "zod";
import { ForbiddenError, ValidationError, markAudit, type ServiceApp } from "@shouhu/kit";
import { recordAccess, scopeOf } from "@shouhu/auth";
import { orgUnitCode } from "@shouhu/contracts";
import type { PrismaClient } from "../data/db.js";
import { listExams, listFollowUps, previewExam, recordExam, referFollowUp } from "../data/exams.js";
import { EvaluateInput, ExamInput } from "../domain/exam.js";
import { examiners, recorderOf, referrers, requireRole } from "../access.js";
import { IdParams } from "./campaigns.js";

const ReferralBody = z.object({
  hospital: z.string().trim().min(1, "请填写转诊医院").max(100),
  date: z.iso.date("日期格式应为 YYYY-MM-DD"),
  note: z.string().max(500).nullish(),
});
const FollowUpQuery = z.object({
  orgUnit: orgUnitCode().optional(),
  status: z.enum(["open", "resolved", "referred", "closed"]).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});
const ExamQuery = z.object({ childId: z.uuid().optional(), campaignId: z.uuid().optional(), limit: z.coerce.number().int().min(1).max(500).default(200) });
const FlagSchema = z.object({ kind: z.string(), severity: z.enum(["mild", "moderate", "severe"]).nullable(), label: z.string() });
const Evaluation = z.object({
  childId: z.string(),
  bmi: z.number().nullable(),
  ageBand: z.number(),
  flags: z.array(FlagSchema),
  /** Findings the values were enough to assess (found or cleared); empty: nothing could be evaluated yet. */
  assessed: z.array(z.string()),
  bloodPressure: z.object({
    result: z.enum(["normal", "high_normal", "elevated", "not_applicable", "not_tested"]),
    label: z.string(),
    basis: z.object({ age: z.number(), heightGroup: z.string(), systolicP95: z.number(), diastolicP95: z.number() }).nullable(),
  }),
});
const STATUS_LABEL = { open: "待随访", resolved: "复查正常", referred: "已转诊", closed: "儿童已退出" } as const;

/** Exams one by one, the exam list by need-to-know, follow-ups and referrals. */
export function registerExamRoutes(app: ServiceApp, deps: { prisma: PrismaClient; today: () => string }): void {
  const { prisma, today } = deps;

  app.post(
    "/api/v1/exams",
    { schema: { tags: ["health"], summary: "录入一份体检记录（按国家标准评价，异常自动生成随访并通知）", body: ExamInput } },
    async (request, reply) => {
      requireRole(request.principal!, examiners, "录入体检结果");
      const result = await recordExam(prisma, request.body, recorderOf(request.principal!), today());
      markAudit(reply, "update", [request.body.childId]);
      return reply.status(201).send(result);
    },
  );

  app.post(
    "/api/v1/exams/evaluate",
    {
      schema: {
        tags: ["health"],
        summary: "按国家标准评价一份体检数值（不保存；录入表格边输入边显示评价）",
        body: EvaluateInput,
        response: { 200: Evaluation },
      },
    },
    async (request, reply) => {
      requireRole(request.principal!, examiners, "录入体检结果");
      const result = await previewExam(prisma, request.body, request.principal!.orgUnit, today());
      markAudit(reply, "read", [result.childId]);
      return result;
    },
  );

  app.get("/api/v1/exams", { schema: { tags: ["health"], summary: "体检记录（按儿童或活动）", querystring: ExamQuery } }, async (request, reply) => {
    const principal = request.principal!;
    // Need-to-know: results (case workers, health workers) | flags only (federation) |
    // flags of the children paired to them (teachers) | coverage only (inspectors: 403 here).
    const access = recordAccess(principal, "checkups");
    if (access === "coverage" || access === "none") throw new ForbiddenError("当前角色无权查看个人体检记录");
    const q = request.query;
    const rows = await listExams(prisma, {
      orgUnit: principal.orgUnit,
      childId: q.childId ?? null,
      campaignId: q.campaignId ?? null,
      limit: q.limit,
      pairedTo: access === "paired-flags" ? principal.username : null,
    });
    markAudit(reply, "read", [...new Set(rows.map((r) => r.childId))]);
    if (access === "full") return { items: rows };
    return { items: rows.map(({ id, campaignId, childId, childName, date, flags }) => ({ id, campaignId, childId, childName, date, flags })) };
  });

  app.get("/api/v1/follow-ups", { schema: { tags: ["health"], summary: "体检异常随访事项", querystring: FollowUpQuery } }, async (request, reply) => {
    const principal = request.principal!;
    // Follow-ups: case workers and health workers all; teachers those of their paired children (they own them).
    const access = recordAccess(principal, "checkups");
    if (access !== "full" && access !== "paired-flags") throw new ForbiddenError("当前角色无权查看随访事项");
    const q = request.query;
    const rows = await listFollowUps(prisma, {
      scope: scopeOf(principal, q.orgUnit),
      status: q.status ?? null,
      owner: access === "paired-flags" ? principal.username : null,
      limit: q.limit,
    });
    markAudit(reply, "list", [...new Set(rows.map((r) => r.childId))]);
    // No mentor: the village child director of the child's village follows it up. A mentor
    // without a login (a proxy parent) has a name but no username: still the mentor.
    return {
      items: rows.map((r) => ({
        ...r,
        ownerRole: r.owner || r.ownerName ? "mentor" : "village-director",
        ownerName: r.ownerName ?? "村儿童主任",
        statusLabel: STATUS_LABEL[r.status],
      })),
    };
  });

  app.post(
    "/api/v1/follow-ups/:id/referral",
    { schema: { tags: ["health"], summary: "登记转诊（关闭随访事项）", params: IdParams, body: ReferralBody } },
    async (request) => {
      requireRole(request.principal!, referrers, "登记转诊");
      if (request.body.date > today()) throw ValidationError.field("date", `转诊日期不能晚于今天（${today()}）`);
      await referFollowUp(prisma, request.params.id, request.body, recorderOf(request.principal!));
      return { id: request.params.id, status: "referred" };
    },
  );
}
