import { z } from "zod";
import { ForbiddenError, ValidationError, type ServiceApp } from "@shouhu/kit";
import { hasAnyRole } from "@shouhu/auth";
import { countyOf } from "@shouhu/contracts";
import type { PrismaClient } from "../generated/prisma/client.js";
import { queryAudit } from "../audit/query.js";

const AuditEntry = z.object({
  id: z.string(),
  seq: z.string().nullable(),
  at: z.string(),
  userId: z.string().nullable(),
  username: z.string().nullable(),
  roles: z.array(z.string()),
  orgUnit: z.string().nullable(),
  action: z.string(),
  outcome: z.string(),
  childIds: z.array(z.string()),
  method: z.string(),
  path: z.string(),
  status: z.number().int(),
  requestId: z.string().nullable(),
  clientRequestId: z.string().nullable(),
  sourceIp: z.string().nullable(),
});
const AuditPage = z.object({ items: z.array(AuditEntry), nextCursor: z.string().nullable() });

const AuditQuery = z.object({
  childId: z.uuid().optional(),
  userId: z.string().max(64).optional(),
  username: z.string().trim().min(1).max(100).optional(),
  action: z.string().max(20).optional(),
  outcome: z.enum(["allowed", "refused"]).optional(),
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
  cursor: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/**
 * County admins query who read, exported, changed — or tried to — which child's record,
 * newest first: by child, user, action, outcome and period, within their own county.
 */
export function registerAuditRoutes(app: ServiceApp, prisma: PrismaClient): void {
  app.get(
    "/api/v1/audit",
    {
      schema: {
        tags: ["audit"],
        summary: "审计记录：谁在何时查看、导出、修改（或试图查看）了哪个儿童档案（仅县级管理员，本县）",
        querystring: AuditQuery,
        response: { 200: AuditPage },
      },
    },
    async (request) => {
      const principal = request.principal!;
      if (!hasAnyRole(principal, ["county-admin"])) throw new ForbiddenError("只有县级管理员可以查看审计记录");
      const q = request.query;
      if (q.from && q.to && Date.parse(q.from) > Date.parse(q.to)) throw ValidationError.field("from", "起始时间不能晚于结束时间");
      // The admin's own county: entries by its staff (an unauthenticated attempt has no org unit and no county).
      const rows = await queryAudit(prisma, { ...q, orgUnit: countyOf(principal.orgUnit) });
      const page = rows.slice(0, q.limit);
      return {
        items: page.map((r) => ({
          id: String(r.id),
          seq: r.seq === null ? null : String(r.seq),
          at: r.at.toISOString(),
          userId: r.userId,
          username: r.username,
          roles: r.roles,
          orgUnit: r.orgUnit,
          action: r.action,
          outcome: r.outcome,
          childIds: r.childIds,
          method: r.method,
          path: r.path,
          status: r.status,
          requestId: r.requestId,
          clientRequestId: r.clientRequestId,
          sourceIp: r.sourceIp,
        })),
        nextCursor: rows.length > q.limit ? String(page[page.length - 1]!.id) : null,
      };
    },
  );
}
