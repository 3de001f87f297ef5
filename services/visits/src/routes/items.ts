import { z } from "zod";
import { VisitKind, labels, orgUnitCode } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import { ConflictError, ValidationError, markAudit, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { addDays } from "../domain/rhythm.js";
import { teacherOnly, visibleChild } from "../data/visibility.js";
import { itemSummary, listItems, openItem, planItem } from "../data/items.js";
import { requireRole, scopeOf } from "@shouhu/auth";
import { ItemPlanned, VisitItemPage } from "./schemas.js";
import { recorders, visitorOf } from "./permissions.js";
import { checkPlan } from "../domain/rhythm.js";

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

const PlanBody = z
  .object({
    /** China time with its offset (2026-12-12T10:00:00+08:00); null clears the plan. */
    at: z.iso.datetime({ offset: true, message: "预约时间格式应为 ISO 8601（含时区）" }).nullable(),
    note: z.string().trim().max(200, "备注不超过200字").nullish(),
  })
  .strict();

export function registerItemRoutes(app: ServiceApp, deps: { prisma: PrismaClient; now: () => Date }): void {
  const { prisma } = deps;

  app.put(
    "/api/v1/visit-items/:id/plan",
    {
      schema: {
        tags: ["visits"],
        summary: "预约走访或亲情电话的时间（如周六上午在儿童之家打亲情电话）；at 为 null 取消预约",
        params: z.object({ id: z.uuid({ message: "事项编号格式不正确" }) }),
        body: PlanBody,
        response: { 200: ItemPlanned },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, recorders, "预约走访");
      const item = await openItem(prisma, request.params.id);
      // Not open, or not this caller's child: one answer, so nothing is said of items outside their area.
      if (!item) throw new ConflictError("ITEM_NOT_OPEN", "该事项已完成或已关闭，无需预约", { field: "id" });
      await visibleChild(prisma, principal, item.childId);
      const { at, note } = request.body;
      const issue = at ? checkPlan(at, deps.now(), item.periodEnd) : null;
      if (issue) throw new ValidationError([issue]);
      const planned = await planItem(prisma, request.params.id, { at, note: note ?? null, by: visitorOf(principal).name });
      if (!planned) throw new ConflictError("ITEM_NOT_OPEN", "该事项已完成或已关闭，无需预约", { field: "id" });
      markAudit(reply, "update", [item.childId]);
      return { id: request.params.id, plan: planned.plan };
    },
  );

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
