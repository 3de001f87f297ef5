import { z } from "zod";
import { labels, orgUnitCode } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import { ConflictError, ForbiddenError, ValidationError, markAudit, type ServiceApp } from "@shouhu/kit";
import { recordAccess, requireRole, scopeOf } from "@shouhu/auth";
import type { PrismaClient } from "../data/db.js";
import { RecordInput, checkCall, checkFollowUp, checkRecordDate } from "../domain/record.js";
import { createRecord, listRecords, storedRecord, type RecordRow, type StoredRecord } from "../data/records.js";
import { RecordCreated, RecordPage } from "./schemas.js";
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
function summaryOf(r: RecordRow & { kindLabel: string }) {
  return {
    id: r.id,
    childId: r.childId,
    childName: r.childName,
    villageCode: r.villageCode,
    kind: r.kind,
    kindLabel: r.kindLabel,
    date: r.date,
    itemId: r.itemId,
    onTime: r.onTime,
  };
}

/** Answers a replayed id with the stored record — or 409 when the id names a different record. */
function replay(reply: Parameters<typeof markAudit>[0], stored: StoredRecord, input: RecordInput, visitorUserId: string, childId: string) {
  const same = stored.childId === childId && stored.kind === input.kind && stored.date === input.date && stored.visitorUserId === visitorUserId;
  if (!same)
    throw new ConflictError("RECORD_ID_REUSED", "该记录编号已用于另一条走访记录（儿童、方式、日期或登记人不同），未保存；请重新填写后提交", {
      field: "id",
    });
  markAudit(reply, "read", [stored.childId]);
  return reply.status(200).send({
    id: stored.recordId,
    childId: stored.childId,
    kind: stored.kind as RecordInput["kind"],
    kindLabel: labels.visitKind[stored.kind as RecordInput["kind"]],
    date: stored.date,
    satisfied: stored.satisfied,
    concernId: stored.concernId,
    replayed: true,
  });
}

export function registerRecordRoutes(app: ServiceApp, deps: RecordRoutesDeps): void {
  const { prisma } = deps;

  app.post(
    "/api/v1/visit-records",
    {
      schema: {
        tags: ["visits"],
        summary: "登记走访记录（家访、谈心、亲情电话等）",
        description:
          "`id`（客户端生成的 UUID）是幂等键：同一编号、同一内容重发，返回已登记的记录（200，内容与首次的 201 相同，replayed 为 true），不会登记第二条；" +
          "同一编号但儿童、方式、日期或登记人不同，409 RECORD_ID_REUSED。儿童已退出关爱对象：409 CHILD_EXITED。",
        body: RecordInput,
        response: { 200: RecordCreated, 201: RecordCreated },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, recorders, "登记走访记录");
      const input = request.body;
      const child = await visibleChild(prisma, principal, input.childId);
      const visitor = visitorOf(principal);
      // A replay (a phone syncing again after a lost answer) gets the stored record, even
      // if the child has left the programme since or the date is now past the back-date window.
      const stored = input.id ? await storedRecord(prisma, input.id) : null;
      if (stored) return replay(reply, stored, input, visitor.userId, child.id);
      const issues = [checkRecordDate(input.date, todayInChina(deps.now()), deps.backdateDays), checkFollowUp(input), checkCall(input)].filter(
        (i) => i !== null,
      );
      if (issues.length) throw new ValidationError(issues);
      if (child.status !== "active")
        throw new ConflictError("CHILD_EXITED", `${child.name}已退出关爱对象，不再登记走访；这条记录没有保存`, { childId: child.id, childName: child.name });
      const result = await createRecord(prisma, child, input, visitor, deps.now());
      // Two sends of one id at once: the second waited for the first inside createRecord.
      if (result.replayed) return replay(reply, result.replayed, input, visitor.userId, child.id);
      markAudit(reply, "update", [child.id]);
      return reply.status(201).send({
        id: result.recordId,
        childId: child.id,
        kind: input.kind,
        kindLabel: labels.visitKind[input.kind],
        date: input.date,
        satisfied: result.satisfied,
        concernId: result.concernId,
        replayed: false,
      });
    },
  );

  app.get(
    "/api/v1/visit-records",
    { schema: { tags: ["visits"], summary: "走访记录", querystring: ListQuery, response: { 200: RecordPage } } },
    async (request, reply) => {
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
      const page = (more ? rows.slice(0, q.limit) : rows).map((r) => ({
        ...r,
        kindLabel: labels.visitKind[r.kind],
        createdAt: r.createdAt instanceof Date ? r.createdAt.toISOString() : r.createdAt,
      }));
      const items = access === "summary" ? page.map(summaryOf) : page;
      markAudit(reply, "read", [...new Set(items.map((r) => r.childId))]);
      return { items, nextCursor: more ? items[items.length - 1]!.id : null };
    },
  );
}
