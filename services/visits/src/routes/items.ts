import { z } from "zod";
import { VisitKind, labels, orgUnitCode } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import { ValidationError, markAudit, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { addDays } from "../domain/rhythm.js";
import { teacherOnly, visibleChild } from "../data/visibility.js";
import { itemSummary, listItems } from "../data/items.js";
import { scopeOf } from "@shouhu/auth";
import { VisitItemPage } from "./schemas.js";

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

export function registerItemRoutes(app: ServiceApp, deps: { prisma: PrismaClient; now: () => Date }): void {
  const { prisma } = deps;

  app.get(
    "/api/v1/visit-items",
    { schema: { tags: ["visits"], summary: "走访事项：本周到期、已逾期、已完成", querystring: ItemsQuery, response: { 200: VisitItemPage } } },
    async (request, reply) => {
      const principal = request.principal!;
      const q = request.query;
      const today = todayInChina(deps.now());
      if (q.childId) await visibleChild(prisma, principal, q.childId);
      const teacher = teacherOnly(principal);
      const status = q.view === "done" ? "done" : q.view === "closed" ? "closed" : "open";
      const rows = await listItems(prisma, {
        orgUnit: scopeOf(principal, q.orgUnit),
        status,
        view: q.view,
        today,
        childId: q.childId ?? null,
        kind: q.kind ?? null,
        helperUsername: teacher,
        responsibleUsername: q.mine ? principal.username : null,
        cursor: q.cursor ?? null,
        limit: q.limit + 1,
      });
      const more = rows.length > q.limit;
      const items = (more ? rows.slice(0, q.limit) : rows).map((r) => ({
        ...r,
        kindLabel: labels.visitKind[r.kind],
        daysOverdue: r.status === "open" && r.dueDate < today ? Math.round((Date.parse(today) - Date.parse(r.dueDate)) / 86_400_000) : 0,
      }));
      markAudit(reply, "list", [...new Set(items.map((i) => i.childId))]);
      return { today, items, nextCursor: more ? items[items.length - 1]!.id : null };
    },
  );

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
      const rows = await itemSummary(prisma, { groupBy: q.groupBy, orgUnit: scopeOf(principal, q.orgUnit), from, to, today, helperUsername: teacher });
      // Punctuality counts items already settled: done (on time or late) or past due and still open.
      const rate = (r: { onTime: number; late: number; missed: number }) => {
        const settled = r.onTime + r.late + r.missed;
        return settled > 0 ? round(r.onTime / settled) : null;
      };
      const withRate = rows.map((r) => ({ ...r, overdueNow: r.open, punctuality: rate(r) }));
      const total = withRate.reduce((t, r) => ({ due: t.due + r.due, onTime: t.onTime + r.onTime, late: t.late + r.late, missed: t.missed + r.missed }), {
        due: 0,
        onTime: 0,
        late: 0,
        missed: 0,
      });
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
