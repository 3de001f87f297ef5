import { z } from "zod";
import { labels, orgUnitCode } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import { ConflictError, ForbiddenError, ValidationError, markAudit, type ServiceApp } from "@shouhu/kit";
import { recordAccess, requireRole, scopeOf } from "@shouhu/auth";
import type { PrismaClient } from "../data/db.js";
import { RecordInput, checkFollowUp, checkRecordDate } from "../domain/record.js";
import { createRecord, listRecords, type RecordRow } from "../data/records.js";
import { teacherOnly, visibleChild } from "../data/visibility.js";
import { recorders, visitorOf } from "./permissions.js";

export interface RecordRoutesDeps {
  prisma: PrismaClient;
  now: () => Date;
  backdateDays: number;
}

const ListQuery = z.object({
  childId: z.uuid().optional(),
  orgUnit: orgUnitCode().optional(),
  from: z.iso.date().optional(),
  to: z.iso.date().optional(),
  cursor: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** A visit record as "date, kind, on time — no narrative" (need-to-know, inspectors). */
function summaryOf(r: RecordRow) {
  return { id: r.id, childId: r.childId, childName: r.childName, villageCode: r.villageCode, kind: r.kind, date: r.date, itemId: r.itemId, onTime: r.onTime };
}

export function registerRecordRoutes(app: ServiceApp, deps: RecordRoutesDeps): void {
  const { prisma } = deps;

  app.post(
    "/api/v1/visit-records",
    { schema: { tags: ["visits"], summary: "登记走访记录（家访、谈心、亲情电话等）", body: RecordInput } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, recorders, "登记走访记录");
      const input = request.body;
      const issues = [checkRecordDate(input.date, todayInChina(deps.now()), deps.backdateDays), checkFollowUp(input)].filter((i) => i !== null);
      if (issues.length) throw new ValidationError(issues);
      const child = await visibleChild(prisma, principal, input.childId);
      if (child.status !== "active") throw new ConflictError("CHILD_EXITED", "该儿童已退出关爱对象，不再登记走访");
      const result = await createRecord(prisma, child, input, visitorOf(principal), deps.now());
      markAudit(reply, "update", [child.id]);
      return reply.status(201).send({
        id: result.recordId,
        childId: child.id,
        kind: input.kind,
        kindLabel: labels.visitKind[input.kind],
        date: input.date,
        satisfied: result.satisfied,
        concernId: result.concernId,
      });
    },
  );

  app.get("/api/v1/visit-records", { schema: { tags: ["visits"], summary: "走访记录", querystring: ListQuery } }, async (request, reply) => {
    const principal = request.principal!;
    const q = request.query;
    // Need-to-know: all | own and paired | date, kind and on-time only | none.
    const access = recordAccess(principal, "visitRecords");
    if (access === "none") throw new ForbiddenError("当前角色无权查看走访记录");
    if (q.childId && access !== "own-and-paired") await visibleChild(prisma, principal, q.childId);
    const teacher = access === "own-and-paired" ? (teacherOnly(principal) ?? principal.username) : null;
    const rows = await listRecords(prisma, {
      orgUnit: scopeOf(principal, q.orgUnit),
      childId: q.childId ?? null,
      from: q.from ?? null,
      to: q.to ?? null,
      helperUsername: teacher,
      visitorUserId: principal.userId,
      cursor: q.cursor ?? null,
      limit: q.limit + 1,
    });
    const more = rows.length > q.limit;
    // Inspectors see that a visit happened, when, of what kind and whether on time — not what was seen or who said what.
    const page = more ? rows.slice(0, q.limit) : rows;
    const items = access === "summary" ? page.map(summaryOf) : page;
    markAudit(reply, "read", [...new Set(items.map((r) => r.childId))]);
    return { items, nextCursor: more ? items[items.length - 1]!.id : null };
  });
}
