import { z } from "zod";
import { ConcernCategory, labels, contains, orgUnitCode } from "@shouhu/contracts";
import { ForbiddenError, NotFoundError, markAudit, type ServiceApp } from "@shouhu/kit";
import { recordAccess, requireRole, scopeOf, type Principal } from "@shouhu/auth";
import type { PrismaClient } from "../data/db.js";
import {
  ConcernStatuses,
  concernNotes,
  concernStatusLabel,
  findConcern,
  assignConcern,
  listConcerns,
  openConcernsOf,
  raiseConcernAlone,
  updateConcernAlone,
  type ConcernRow,
} from "../data/concerns.js";
import { visibleChild } from "../data/visibility.js";
import { assigners, caseWorkers, recorders, visitorOf } from "./permissions.js";
import { responseClock } from "../domain/concern-limits.js";

const IdParams = z.object({ id: z.uuid({ message: "关注事项编号格式不正确" }) });
const RaiseBody = z.object({ childId: z.uuid(), category: ConcernCategory, description: z.string().trim().min(1, "请描述发现的情况").max(2000) });
const UpdateBody = z.object({ status: z.enum(ConcernStatuses).optional(), note: z.string().trim().min(1, "请填写处理情况").max(2000) });
const AssignBody = z.object({
  username: z
    .string()
    .trim()
    .min(1, "请填写被指派人的登录账号")
    .max(100, "登录账号不超过100个字符")
    .regex(/^[A-Za-z0-9._@-]+$/, "登录账号只能包含字母、数字和 . _ @ -"),
  name: z.string().trim().min(1, "请填写被指派人姓名").max(40, "姓名不超过40个字"),
  note: z.string().trim().max(500, "说明不超过500字").nullish(),
});
const iso = z.string();
/** A case as the API answers it; child, description and case work only for roles that see them (need-to-know). */
const ConcernSchema = z.object({
  id: z.string(),
  villageCode: z.string(),
  category: ConcernCategory,
  categoryLabel: z.string(),
  status: z.enum(ConcernStatuses),
  statusLabel: z.string(),
  raisedAt: iso,
  resolvedAt: iso.nullable(),
  escalatedAt: iso.nullable(),
  responseLimitHours: z.number(),
  respondBy: iso,
  respondedAt: iso.nullable(),
  overdue: z.boolean(),
  childId: z.string().optional(),
  childName: z.string().optional(),
  recordId: z.string().nullable().optional(),
  description: z.string().optional(),
  ownerOrgUnit: z.string().optional(),
  ownerUsername: z.string().nullable().optional(),
  raisedByName: z.string().optional(),
  resolution: z.string().nullable().optional(),
});
const NoteSchema = z.object({ id: z.string(), authorName: z.string(), status: z.string().nullable(), note: z.string(), createdAt: iso });
const ConcernDetail = ConcernSchema.extend({ notes: z.array(NoteSchema).optional() });
const ConcernList = z.object({ items: z.array(ConcernSchema) });
const SummaryBody = z
  .object({
    childIds: z
      .array(z.uuid({ message: "儿童编号格式不正确" }), { message: "childIds 须为儿童编号数组" })
      .min(1, "请至少给出一名儿童")
      .max(500, "一次最多查询500名儿童"),
  })
  .strict();
const SummaryConcern = z.object({
  id: z.string(),
  category: ConcernCategory,
  categoryLabel: z.string(),
  status: z.enum(ConcernStatuses),
  statusLabel: z.string(),
  raisedAt: iso,
  overdue: z.boolean(),
});
/** Per child (roles that see cases: all of them; teachers and health workers: those they raised); inspectors the totals only. */
const ConcernSummary = z.object({
  access: z.enum(["all", "own", "counts"]),
  items: z.array(z.object({ childId: z.string(), open: z.number().int(), overdue: z.number().int(), concerns: z.array(SummaryConcern) })),
  total: z.object({ open: z.number().int(), overdue: z.number().int() }),
});
const isoOf = (d: Date | null) => (d ? d.toISOString() : null);
const bool = (what: string) =>
  z
    .enum(["true", "false"], { message: `${what}应为 true 或 false` })
    .transform((v) => v === "true")
    .optional();
const ListQuery = z.object({
  orgUnit: orgUnitCode().optional(),
  status: z.enum(ConcernStatuses, { message: "状态应为 open、acknowledged、in_progress、referred 或 resolved" }).optional(),
  category: ConcernCategory.optional(),
  /** Only cases still 待处理 past their category's response limit (true), or only those not (false). */
  overdue: bool("超时筛选"),
  /** One child's cases (the child's page). */
  childId: z.uuid({ message: "儿童编号格式不正确" }).optional(),
  /** Only cases not yet resolved. */
  open: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export function registerConcernRoutes(app: ServiceApp, deps: { prisma: PrismaClient; now: () => Date }): void {
  const { prisma } = deps;
  // Need-to-know: case workers see every case with its notes; a teacher or health worker
  // the cases they raised (what they reported, where it stands — not the case work);
  // an inspector counts and timeliness only: no child, no description, no notes.
  const present = (row: ConcernRow, access: "all" | "own") => {
    const { raisedBy: _raisedBy, ...rest } = row;
    const clock = responseClock(row, deps.now());
    return {
      ...rest,
      raisedAt: row.raisedAt.toISOString(),
      resolvedAt: isoOf(row.resolvedAt),
      escalatedAt: isoOf(row.escalatedAt),
      ...clock,
      respondBy: clock.respondBy.toISOString(),
      respondedAt: isoOf(clock.respondedAt),
      resolution: access === "all" ? row.resolution : null,
      categoryLabel: labels.concernCategory[row.category],
      statusLabel: concernStatusLabel[row.status],
    };
  };
  const timeliness = (row: ConcernRow) => {
    const clock = responseClock(row, deps.now());
    return {
      id: row.id,
      villageCode: row.villageCode,
      category: row.category,
      categoryLabel: labels.concernCategory[row.category],
      status: row.status,
      statusLabel: concernStatusLabel[row.status],
      raisedAt: row.raisedAt.toISOString(),
      resolvedAt: isoOf(row.resolvedAt),
      escalatedAt: isoOf(row.escalatedAt),
      ...clock,
      respondBy: clock.respondBy.toISOString(),
      respondedAt: isoOf(clock.respondedAt),
    };
  };
  const accessOf = (principal: Principal) => recordAccess(principal, "concerns");
  /** A case whose child the caller may see; otherwise 404, as if it did not exist (no hint that it does). */
  const concernInView = async (principal: Principal, id: string) => {
    const row = await findConcern(prisma, id);
    if (!row) throw new NotFoundError("关注事项", id);
    await visibleChild(prisma, principal, row.childId).catch(() => {
      throw new NotFoundError("关注事项", id);
    });
    return row;
  };

  app.post(
    "/api/v1/concerns",
    { schema: { tags: ["concerns"], summary: "报告关注事项（强制报告，立即通知乡镇督导员）", body: RaiseBody } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, recorders, "报告关注事项");
      const child = await visibleChild(prisma, principal, request.body.childId);
      const {
        concernId: id,
        raised,
        status,
      } = await raiseConcernAlone(prisma, {
        child: { id: child.id, name: child.name, villageCode: child.villageCode, townshipCode: child.townshipCode },
        recordId: null,
        category: request.body.category,
        description: request.body.description,
        raisedBy: visitorOf(principal),
        at: deps.now(),
      });
      markAudit(reply, "update", [child.id]);
      // A dropout risk while the child's dropout case is open: added to that case (200), not a second one.
      const known = status as keyof typeof concernStatusLabel;
      return reply.status(raised ? 201 : 200).send({ id, status: known, statusLabel: concernStatusLabel[known] });
    },
  );

  app.get(
    "/api/v1/concerns",
    { schema: { tags: ["concerns"], summary: "关注事项（个案）列表", querystring: ListQuery, response: { 200: ConcernList } } },
    async (request, reply) => {
      const principal = request.principal!;
      const q = request.query;
      const access = accessOf(principal);
      if (access === "none") throw new ForbiddenError("当前角色无权查看关注事项");
      const rows = await listConcerns(prisma, {
        orgUnit: scopeOf(principal, q.orgUnit),
        childId: q.childId ?? null,
        status: q.status ?? null,
        category: q.category ?? null,
        open: q.open ?? null,
        overdue: q.overdue ?? null,
        now: deps.now(),
        raisedBy: access === "own" ? principal.userId : null,
        limit: q.limit,
      });
      if (access === "counts") return { items: rows.map(timeliness) };
      markAudit(reply, "list", [...new Set(rows.map((r) => r.childId))]);
      return { items: rows.map((r) => present(r, access)) };
    },
  );

  app.post(
    "/api/v1/concerns/summary",
    {
      schema: {
        tags: ["concerns"],
        summary: "按儿童汇总未解决的关注事项（交接清单用）",
        description:
          "只读。按需知悉表：县、乡镇、村和妇联角色得到每名儿童的未解决个案；教师和卫生人员只得到本人报告的；督查人员只得到合计数与超时数，不对应到儿童。辖区外或不存在的儿童不出现在结果中。",
        body: SummaryBody,
        response: { 200: ConcernSummary },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const access = accessOf(principal);
      if (access === "none") throw new ForbiddenError("当前角色无权查看关注事项");
      const now = deps.now();
      const rows = await openConcernsOf(prisma, {
        childIds: [...new Set(request.body.childIds.map((id) => id.toLowerCase()))],
        orgUnit: principal.orgUnit,
        raisedBy: access === "own" ? principal.userId : null,
      });
      const withClock = rows.map((r) => ({ row: r, overdue: responseClock(r, now).overdue }));
      const total = { open: rows.length, overdue: withClock.filter((r) => r.overdue).length };
      if (access === "counts") return { access, items: [], total };
      const byChild = new Map<string, { childId: string; open: number; overdue: number; concerns: z.infer<typeof SummaryConcern>[] }>();
      for (const { row, overdue } of withClock) {
        const entry = byChild.get(row.childId) ?? { childId: row.childId, open: 0, overdue: 0, concerns: [] };
        entry.open++;
        if (overdue) entry.overdue++;
        entry.concerns.push({
          id: row.id,
          category: row.category,
          categoryLabel: labels.concernCategory[row.category],
          status: row.status,
          statusLabel: concernStatusLabel[row.status],
          raisedAt: row.raisedAt.toISOString(),
          overdue,
        });
        byChild.set(row.childId, entry);
      }
      markAudit(reply, "list", [...byChild.keys()]);
      return { access, items: [...byChild.values()], total };
    },
  );

  app.get(
    "/api/v1/concerns/:id",
    { schema: { tags: ["concerns"], summary: "关注事项详情与处理记录", params: IdParams, response: { 200: ConcernDetail } } },
    async (request, reply) => {
      const principal = request.principal!;
      const access = accessOf(principal);
      const row = await findConcern(prisma, request.params.id);
      if (!row || access === "none" || (access === "own" && row.raisedBy !== principal.userId) || !contains(principal.orgUnit, row.villageCode)) {
        throw new NotFoundError("关注事项", request.params.id);
      }
      if (access === "counts") return timeliness(row);
      const notes = (access === "all" ? await concernNotes(prisma, row.id) : []).map((n) => ({
        id: n.id,
        authorName: n.authorName,
        status: n.status,
        note: n.note,
        createdAt: n.createdAt.toISOString(),
      }));
      markAudit(reply, "read", [row.childId]);
      return { ...present(row, access), notes };
    },
  );

  app.post(
    "/api/v1/concerns/:id/updates",
    {
      schema: {
        tags: ["concerns"],
        summary: "处理关注事项：受理、处理中、转介、解决（须写明情况）",
        params: IdParams,
        body: UpdateBody,
        response: { 200: ConcernSchema },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, caseWorkers, "处理关注事项");
      const row = await concernInView(principal, request.params.id);
      await updateConcernAlone(prisma, row.id, {
        status: request.body.status,
        note: request.body.note,
        author: visitorOf(principal),
        ownerUsername: principal.username,
        at: deps.now(),
      });
      markAudit(reply, "update", [row.childId]);
      return present((await findConcern(prisma, row.id))!, "all");
    },
  );

  app.post(
    "/api/v1/concerns/:id/assign",
    {
      schema: {
        tags: ["concerns"],
        summary: "指派关注事项给个案工作人员（记入处理记录）",
        params: IdParams,
        body: AssignBody,
        response: { 200: ConcernSchema },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, assigners, "指派关注事项");
      const row = await concernInView(principal, request.params.id);
      await assignConcern(prisma, row.id, {
        username: request.body.username,
        name: request.body.name,
        note: request.body.note ?? null,
        author: visitorOf(principal),
        at: deps.now(),
      });
      markAudit(reply, "update", [row.childId]);
      return present((await findConcern(prisma, row.id))!, "all");
    },
  );
}
