import { z } from "zod";
import { ForbiddenError, type ServiceApp } from "@shouhu/kit";
import { hasAnyRole } from "@shouhu/auth";
import type { PrismaClient, Prisma } from "../generated/prisma/client.js";

const AuditQuery = z.object({
  childId: z.uuid().optional(),
  userId: z.string().max(64).optional(),
  action: z.string().max(20).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  cursor: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** County admins query who read or changed which child record, newest first. */
export function registerAuditRoutes(app: ServiceApp, prisma: PrismaClient): void {
  app.get(
    "/api/v1/audit",
    { schema: { tags: ["audit"], summary: "审计记录：谁在何时查看或修改了哪个儿童档案（仅县级管理员）", querystring: AuditQuery } },
    async (request) => {
      if (!hasAnyRole(request.principal!, ["county-admin"])) throw new ForbiddenError("只有县级管理员可以查看审计记录");
      const q = request.query;
      const where: Prisma.AuditEntryWhereInput = {
        ...(q.childId ? { childIds: { has: q.childId } } : {}),
        ...(q.userId ? { userId: q.userId } : {}),
        ...(q.action ? { action: q.action } : {}),
        ...(q.from || q.to ? { at: { ...(q.from ? { gte: new Date(q.from) } : {}), ...(q.to ? { lt: new Date(q.to) } : {}) } } : {}),
        ...(q.cursor ? { id: { lt: BigInt(q.cursor) } } : {}),
        // The audit trail of the admin's own county only.
        orgUnit: { startsWith: request.principal!.orgUnit.slice(0, 6) },
      };
      const rows = await prisma.auditEntry.findMany({ where, orderBy: { id: "desc" }, take: q.limit + 1 });
      const page = rows.slice(0, q.limit);
      return {
        items: page.map((r) => ({ ...r, id: String(r.id), at: r.at.toISOString() })),
        nextCursor: rows.length > q.limit ? String(page[page.length - 1]!.id) : null,
      };
    },
  );
}
