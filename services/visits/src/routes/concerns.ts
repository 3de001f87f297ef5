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
  listConcerns,
  raiseConcernAlone,
  updateConcernAlone,
  type ConcernRow,
} from "../data/concerns.js";
import { visibleChild } from "../data/visibility.js";
import { caseWorkers, recorders, visitorOf } from "./permissions.js";

const IdParams = z.object({ id: z.uuid({ message: "关注事项编号格式不正确" }) });
const RaiseBody = z.object({ childId: z.uuid(), category: ConcernCategory, description: z.string().trim().min(1, "请描述发现的情况").max(2000) });
const UpdateBody = z.object({ status: z.enum(ConcernStatuses).optional(), note: z.string().trim().min(1, "请填写处理情况").max(2000) });
const ListQuery = z.object({
  orgUnit: orgUnitCode().optional(),
  status: z.enum(ConcernStatuses).optional(),
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
    return {
      ...rest,
      resolution: access === "all" ? row.resolution : null,
      categoryLabel: labels.concernCategory[row.category],
      statusLabel: concernStatusLabel[row.status],
    };
  };
  const timeliness = (row: ConcernRow) => ({
    id: row.id,
    villageCode: row.villageCode,
    category: row.category,
    categoryLabel: labels.concernCategory[row.category],
    status: row.status,
    statusLabel: concernStatusLabel[row.status],
    raisedAt: row.raisedAt,
    resolvedAt: row.resolvedAt,
    escalatedAt: row.escalatedAt,
  });
  const accessOf = (principal: Principal) => recordAccess(principal, "concerns");

  app.post(
    "/api/v1/concerns",
    { schema: { tags: ["concerns"], summary: "报告关注事项（强制报告，立即通知乡镇督导员）", body: RaiseBody } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, recorders, "报告关注事项");
      const child = await visibleChild(prisma, principal, request.body.childId);
      const id = await raiseConcernAlone(prisma, {
        child: { id: child.id, name: child.name, villageCode: child.villageCode, townshipCode: child.townshipCode },
        recordId: null,
        category: request.body.category,
        description: request.body.description,
        raisedBy: visitorOf(principal),
        at: deps.now(),
      });
      markAudit(reply, "update", [child.id]);
      return reply.status(201).send({ id, status: "open", statusLabel: concernStatusLabel.open });
    },
  );

  app.get("/api/v1/concerns", { schema: { tags: ["concerns"], summary: "关注事项（个案）列表", querystring: ListQuery } }, async (request, reply) => {
    const principal = request.principal!;
    const q = request.query;
    const access = accessOf(principal);
    if (access === "none") throw new ForbiddenError("当前角色无权查看关注事项");
    const rows = await listConcerns(prisma, {
      orgUnit: scopeOf(principal, q.orgUnit),
      childId: q.childId ?? null,
      status: q.status ?? null,
      open: q.open ?? null,
      raisedBy: access === "own" ? principal.userId : null,
      limit: q.limit,
    });
    if (access === "counts") return { items: rows.map(timeliness) };
    markAudit(reply, "list", [...new Set(rows.map((r) => r.childId))]);
    return { items: rows.map((r) => present(r, access)) };
  });

  app.get("/api/v1/concerns/:id", { schema: { tags: ["concerns"], summary: "关注事项详情与处理记录", params: IdParams } }, async (request, reply) => {
    const principal = request.principal!;
    const access = accessOf(principal);
    const row = await findConcern(prisma, request.params.id);
    if (!row || access === "none" || (access === "own" && row.raisedBy !== principal.userId) || !contains(principal.orgUnit, row.villageCode)) {
      throw new NotFoundError("关注事项", request.params.id);
    }
    if (access === "counts") return timeliness(row);
    const notes = access === "all" ? await concernNotes(prisma, row.id) : [];
    markAudit(reply, "read", [row.childId]);
    return { ...present(row, access), notes };
  });

  app.post(
    "/api/v1/concerns/:id/updates",
    { schema: { tags: ["concerns"], summary: "处理关注事项：受理、处理中、转介、解决（须写明情况）", params: IdParams, body: UpdateBody } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, caseWorkers, "处理关注事项");
      const row = await findConcern(prisma, request.params.id);
      if (!row) throw new NotFoundError("关注事项", request.params.id);
      await visibleChild(prisma, principal, row.childId).catch(() => {
        throw new NotFoundError("关注事项", request.params.id);
      });
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
}
