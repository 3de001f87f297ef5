import { z } from "zod";
import { PairingKind, labels, type LeftBehindType, type RiskLevel, orgUnitCode } from "@shouhu/contracts";
import { markAudit, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { teacherOnly } from "./permissions.js";
import { scopeOf } from "@shouhu/auth";

const ListQuery = z.object({
  orgUnit: orgUnitCode().optional(),
  kind: PairingKind.default("mentor"),
  /** `<villageCode>_<childId>` of the last item of the previous page. */
  cursor: z.string().regex(/^\d{12}_[0-9a-f-]{36}$/, "分页游标格式不正确").optional(),
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
  proposal: { pairingId: string; helperId: string; helperName: string; matchReason: string } | null;
}

/**
 * Nothing unpaired silently: every active child without an active pairing of the
 * kind, by village, with its open proposal or the reason the last run gave.
 */
export function registerUnpairedRoutes(app: ServiceApp, prisma: PrismaClient): void {
  app.get(
    "/api/v1/unpaired-children",
    { schema: { tags: ["matching"], summary: "未结对儿童名单（按村排列，含待审批建议或未能匹配的原因）", querystring: ListQuery } },
    async (request, reply) => {
      const principal = request.principal!;
      const { kind, cursor, limit } = request.query;
      const teacher = teacherOnly(principal);
      const [afterVillage, afterId] = cursor ? cursor.split("_") : [null, null];
      const rows = await prisma.$queryRawUnsafe<UnpairedRow[]>(
        `SELECT c.id, c.name, c.village_code AS "villageCode", c.school_id AS "schoolId", c.school_name AS "schoolName",
                c.risk_level AS "riskLevel", c.left_behind_type AS "leftBehindType",
                CASE WHEN $2 = 'mentor' THEN c.mentor_match_note ELSE c.peer_match_note END AS note,
                (SELECT json_build_object('pairingId', p.id, 'helperId', h.id, 'helperName', h.name, 'matchReason', p.match_reason)
                   FROM pairings p JOIN helpers h ON h.id = p.helper_id
                  WHERE p.child_id = c.id AND p.kind = $2 AND p.status = 'proposed') AS proposal
           FROM children c
          WHERE c.status = 'active' AND c.village_code LIKE $1 || '%'
            AND ($2 = 'mentor' OR c.school_id IS NOT NULL)
            AND NOT EXISTS (SELECT 1 FROM pairings p WHERE p.child_id = c.id AND p.kind = $2 AND p.status = 'active')
            AND ($3::text IS NULL OR c.school_id = $3)
            AND ($4::text IS NULL OR (c.village_code, c.id) > ($4, $5::uuid))
          ORDER BY c.village_code, c.id
          LIMIT $6`,
        scopeOf(principal, request.query.orgUnit),
        kind,
        teacher ? (teacher.schoolId ?? "-") : null,
        afterVillage,
        afterId,
        limit + 1,
      );
      const more = rows.length > limit;
      const items = (more ? rows.slice(0, limit) : rows).map((r) => ({
        ...r,
        riskLevelLabel: labels.riskLevel[r.riskLevel],
        leftBehindTypeLabel: labels.leftBehindType[r.leftBehindType],
        waiting: r.proposal ? "待审批" : "未能匹配",
      }));
      markAudit(reply, "list", items.map((i) => i.id));
      const last = items[items.length - 1];
      return { items, nextCursor: more && last ? `${last.villageCode}_${last.id}` : null };
    },
  );

  app.get(
    "/api/v1/unpaired-children/summary",
    { schema: { tags: ["matching"], summary: "各村结对情况汇总：在册、已结对、待审批、未能匹配", querystring: SummaryQuery } },
    async (request) => {
      const principal = request.principal!;
      const kind = request.query.kind;
      const teacher = teacherOnly(principal);
      const rows = await prisma.$queryRawUnsafe<{ villageCode: string; children: number; paired: number; proposed: number; unmatched: number }[]>(
        `SELECT c.village_code AS "villageCode", count(*)::int AS children,
                count(*) FILTER (WHERE s.state = 'active')::int AS paired,
                count(*) FILTER (WHERE s.state = 'proposed')::int AS proposed,
                count(*) FILTER (WHERE s.state IS NULL)::int AS unmatched
           FROM children c
           LEFT JOIN LATERAL (SELECT p.status AS state FROM pairings p
                               WHERE p.child_id = c.id AND p.kind = $2 AND p.status IN ('active', 'proposed')) s ON true
          WHERE c.status = 'active' AND c.village_code LIKE $1 || '%' AND ($2 = 'mentor' OR c.school_id IS NOT NULL)
            AND ($3::text IS NULL OR c.school_id = $3)
          GROUP BY c.village_code ORDER BY c.village_code`,
        scopeOf(principal, request.query.orgUnit),
        kind,
        teacher ? (teacher.schoolId ?? "-") : null,
      );
      const totals = rows.reduce(
        (t, r) => ({ children: t.children + r.children, paired: t.paired + r.paired, proposed: t.proposed + r.proposed, unmatched: t.unmatched + r.unmatched }),
        { children: 0, paired: 0, proposed: 0, unmatched: 0 },
      );
      return { kind, orgUnits: rows, totals };
    },
  );
}
