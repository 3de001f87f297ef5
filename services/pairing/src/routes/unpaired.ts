import { z } from "zod";
import { PairingKind, labels, type LeftBehindType, type RiskLevel, orgUnitCode } from "@shouhu/contracts";
import { markAudit, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { teacherOnly } from "./permissions.js";
import { unpairedByVillage, unpairedChildren } from "../data/unpaired.js";
import { scopeOf } from "@shouhu/auth";
import { UnpairedPage, UnpairedSummary } from "./schemas.js";
import { registerMatchIssueLabel, type RegisterMatchIssue } from "../domain/register-match.js";

const ListQuery = z.object({
  orgUnit: orgUnitCode().optional(),
  kind: PairingKind.default("mentor"),
  /** `<villageCode>_<childId>` of the last item of the previous page. */
  cursor: z
    .string()
    .regex(/^\d{12}_[0-9a-f-]{36}$/, "分页游标格式不正确")
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});
const SummaryQuery = ListQuery.pick({ orgUnit: true, kind: true });

interface UnpairedRow {
  id: string;
  name: string;
  villageCode: string;
  schoolId: string | null;
  schoolName: string | null;
  riskLevel: RiskLevel;
  leftBehindType: LeftBehindType;
  note: string | null;
  registerHelperName: string | null;
  registerMatchIssue: RegisterMatchIssue | null;
  proposal: { pairingId: string; helperId: string; helperName: string; matchReason: string } | null;
}

/**
 * Nothing unpaired silently: every active child without an active pairing of the
 * kind, by village, with its open proposal or the reason the last run gave.
 */
export function registerUnpairedRoutes(app: ServiceApp, prisma: PrismaClient): void {
  app.get(
    "/api/v1/unpaired-children",
    {
      schema: {
        tags: ["matching"],
        summary: "未结对儿童名单（按村排列，含待审批建议或未能匹配的原因）",
        querystring: ListQuery,
        response: { 200: UnpairedPage },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const { kind, cursor, limit } = request.query;
      const teacher = teacherOnly(principal);
      const [afterVillage, afterId] = cursor ? cursor.split("_") : [null, null];
      const rows = await unpairedChildren<UnpairedRow>(prisma, {
        scope: scopeOf(principal, request.query.orgUnit),
        kind,
        schoolId: teacher ? (teacher.schoolId ?? "-") : null,
        afterVillage,
        afterId,
        limit,
      });
      const more = rows.length > limit;
      const items = (more ? rows.slice(0, limit) : rows).map((r) => ({
        ...r,
        riskLevelLabel: labels.riskLevel[r.riskLevel],
        leftBehindTypeLabel: labels.leftBehindType[r.leftBehindType],
        waiting: r.proposal ? "待审批" : "未能匹配",
        registerMatchIssueLabel: r.registerMatchIssue ? registerMatchIssueLabel[r.registerMatchIssue] : null,
      }));
      markAudit(
        reply,
        "list",
        items.map((i) => i.id),
      );
      const last = items[items.length - 1];
      return { items, nextCursor: more && last ? `${last.villageCode}_${last.id}` : null };
    },
  );

  app.get(
    "/api/v1/unpaired-children/summary",
    {
      schema: {
        tags: ["matching"],
        summary: "各村结对情况汇总：在册、已结对、待审批、未能匹配",
        querystring: SummaryQuery,
        response: { 200: UnpairedSummary },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const kind = request.query.kind;
      const teacher = teacherOnly(principal);
      const rows = await unpairedByVillage(prisma, {
        scope: scopeOf(principal, request.query.orgUnit),
        kind,
        schoolId: teacher ? (teacher.schoolId ?? "-") : null,
      });
      const totals = rows.reduce(
        (t, r) => ({
          children: t.children + r.children,
          paired: t.paired + r.paired,
          proposed: t.proposed + r.proposed,
          unmatched: t.unmatched + r.unmatched,
          registerUnmatched: t.registerUnmatched + r.registerUnmatched,
        }),
        { children: 0, paired: 0, proposed: 0, unmatched: 0, registerUnmatched: 0 },
      );
      return { kind, orgUnits: rows, totals };
    },
  );
}
