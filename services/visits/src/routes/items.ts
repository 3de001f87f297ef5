import { z } from "zod";
import { VisitKind, labels, type VisitKind as Kind, orgUnitCode } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import { ValidationError, markAudit, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { addDays } from "../domain/rhythm.js";
import { teacherOnly, visibleChild } from "../data/visibility.js";
import { responsibleJoin } from "../data/scan.js";
import { scopeOf } from "@shouhu/auth";

const orgUnit = orgUnitCode().optional();
const bool = z.enum(["true", "false"]).transform((v) => v === "true");

const ItemsQuery = z.object({
  orgUnit,
  childId: z.uuid().optional(),
  kind: VisitKind.optional(),
  /** due_this_week: open and due within 7 days; overdue: open and past due; done; closed. */
  view: z.enum(["open", "due_this_week", "overdue", "done", "closed"]).default("open"),
  /** Only items the caller is responsible for (their paired children's mentor items). */
  mine: bool.optional(),
  cursor: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const SummaryQuery = z.object({
  orgUnit,
  /** Per org unit (village or township) or per responsible person (helper; the village child director where none). */
  groupBy: z.enum(["village", "township", "helper"]).default("village"),
  /** Items due from (inclusive) … to (inclusive); default: the last 90 days. */
  from: z.iso.date().optional(),
  to: z.iso.date().optional(),
});

interface ItemRow {
  id: string;
  childId: string;
  childName: string;
  villageCode: string;
  kind: Kind;
  period: string;
  dueDate: string;
  status: string;
  doneOn: string | null;
  responsible: { kind: "helper" | "village_director"; name: string | null; username: string | null };
}

export function registerItemRoutes(app: ServiceApp, deps: { prisma: PrismaClient; now: () => Date }): void {
  const { prisma } = deps;

  app.get("/api/v1/visit-items", { schema: { tags: ["visits"], summary: "走访事项：本周到期、已逾期、已完成", querystring: ItemsQuery } }, async (request, reply) => {
    const principal = request.principal!;
    const q = request.query;
    const today = todayInChina(deps.now());
    if (q.childId) await visibleChild(prisma, principal, q.childId);
    const teacher = teacherOnly(principal);
    const status = q.view === "done" ? "done" : q.view === "closed" ? "closed" : "open";
    const rows = await prisma.$queryRawUnsafe<ItemRow[]>(
      `SELECT i.id, c.id AS "childId", c.name AS "childName", c.village_code AS "villageCode", i.kind, i.period_key AS period,
              to_char(i.due_date, 'YYYY-MM-DD') AS "dueDate", i.status, to_char(i.done_on, 'YYYY-MM-DD') AS "doneOn",
              json_build_object('kind', CASE WHEN a.child_id IS NULL THEN 'village_director' ELSE 'helper' END,
                                'name', a.name, 'username', a.username, 'helperId', a.helper_id) AS responsible
         FROM due_items i JOIN children c ON c.id = i.child_id ${responsibleJoin("i")}
              LEFT JOIN assignments p ON p.child_id = i.child_id
        WHERE c.village_code LIKE $1 || '%' AND i.status = $2
          AND ($3::text <> 'due_this_week' OR i.due_date BETWEEN $4::date AND $4::date + 6)
          AND ($3::text <> 'overdue' OR i.due_date < $4::date)
          AND ($5::uuid IS NULL OR i.child_id = $5::uuid)
          AND ($6::text IS NULL OR i.kind = $6)
          AND ($7::text IS NULL OR p.username = $7)
          AND ($10::text IS NULL OR a.username = $10)
          AND ($8::uuid IS NULL OR i.id > $8::uuid)
        ORDER BY i.id LIMIT $9`,
      scopeOf(principal, q.orgUnit),
      status,
      q.view,
      today,
      q.childId ?? null,
      q.kind ?? null,
      teacher,
      q.cursor ?? null,
      q.limit + 1,
      q.mine ? principal.username : null,
    );
    const more = rows.length > q.limit;
    const items = (more ? rows.slice(0, q.limit) : rows).map((r) => ({
      ...r,
      kindLabel: labels.visitKind[r.kind],
      daysOverdue: r.status === "open" && r.dueDate < today ? Math.round((Date.parse(today) - Date.parse(r.dueDate)) / 86_400_000) : 0,
    }));
    markAudit(reply, "list", [...new Set(items.map((i) => i.childId))]);
    return { today, items, nextCursor: more ? items[items.length - 1]!.id : null };
  });

  app.get(
    "/api/v1/visit-summary",
    { schema: { tags: ["visits"], summary: "走访及时率：按村或按帮扶人统计应访、按时、补访、未访", querystring: SummaryQuery } },
    async (request) => {
      const principal = request.principal!;
      const q = request.query;
      const today = todayInChina(deps.now());
      const from = q.from ?? addDays(today, -90);
      const to = q.to ?? today;
      if (from > to) throw new ValidationError([{ field: "from", message: `开始日期不能晚于结束日期（${to}）` }]);
      const teacher = teacherOnly(principal);
      // Helpers by id (two 王老师 are two people); items nobody is paired for belong to each village's child director.
      const [group, label] = {
        village: ["c.village_code", "COALESCE(max(v.name), c.village_code)"],
        township: ["c.township_code", "COALESCE(max(t.name), c.township_code)"],
        helper: ["COALESCE(a.helper_id::text, 'village_director:' || c.village_code)", "COALESCE(max(a.name), '村儿童主任（' || COALESCE(max(v.name), max(c.village_code)) || '）')"],
      }[q.groupBy];
      const rows = await prisma.$queryRawUnsafe<{ key: string; name: string; due: number; onTime: number; late: number; missed: number; open: number; dueThisWeek: number }[]>(
        `SELECT ${group} AS key, ${label} AS name,
                count(*) FILTER (WHERE i.due_date BETWEEN $2::date AND $3::date)::int AS due,
                count(*) FILTER (WHERE i.due_date BETWEEN $2::date AND $3::date AND i.status = 'done' AND i.done_on <= i.due_date)::int AS "onTime",
                count(*) FILTER (WHERE i.due_date BETWEEN $2::date AND $3::date AND i.status = 'done' AND i.done_on > i.due_date)::int AS late,
                count(*) FILTER (WHERE i.due_date BETWEEN $2::date AND $3::date AND i.status = 'open' AND i.due_date < $4::date)::int AS missed,
                count(*) FILTER (WHERE i.status = 'open' AND i.due_date < $4::date)::int AS open,
                count(*) FILTER (WHERE i.status = 'open' AND i.due_date BETWEEN $4::date AND $4::date + 6)::int AS "dueThisWeek"
           FROM due_items i JOIN children c ON c.id = i.child_id ${responsibleJoin("i")}
                LEFT JOIN assignments p ON p.child_id = i.child_id
                LEFT JOIN org_units v ON v.code = c.village_code LEFT JOIN org_units t ON t.code = c.township_code
          WHERE c.village_code LIKE $1 || '%' AND i.status <> 'closed' AND ($5::text IS NULL OR p.username = $5)
          GROUP BY 1 ORDER BY 1`,
        scopeOf(principal, q.orgUnit),
        from,
        to,
        today,
        teacher,
      );
      // Punctuality counts items already settled: done (on time or late) or past due and still open.
      const rate = (r: { onTime: number; late: number; missed: number }) => {
        const settled = r.onTime + r.late + r.missed;
        return settled > 0 ? round(r.onTime / settled) : null;
      };
      const withRate = rows.map((r) => ({ ...r, overdueNow: r.open, punctuality: rate(r) }));
      const total = withRate.reduce((t, r) => ({ due: t.due + r.due, onTime: t.onTime + r.onTime, late: t.late + r.late, missed: t.missed + r.missed }), { due: 0, onTime: 0, late: 0, missed: 0 });
      return {
        from,
        to,
        groupBy: q.groupBy,
        groups: withRate.map(({ open: _open, ...r }) => r),
        total: { ...total, punctuality: rate(total) },
      };
    },
  );
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
