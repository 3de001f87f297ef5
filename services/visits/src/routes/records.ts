import { z } from "zod";
import { labels, orgUnitCode } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import { ConflictError, ForbiddenError, ValidationError, markAudit, type ServiceApp } from "@shouhu/kit";
import { recordAccess, requireRole, scopeOf } from "@shouhu/auth";
import type { PrismaClient } from "../data/db.js";
import { RecordInput, checkFollowUp, checkRecordDate } from "../domain/record.js";
import { createRecord } from "../data/records.js";
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

type RecordRow = { id: string; childId: string; childName?: string; villageCode?: string; kind?: string; date?: string; itemId?: string | null; onTime?: boolean | null };

/** A visit record as "date, kind, on time — no narrative" (need-to-know, inspectors). */
function summaryOf(r: RecordRow) {
  return { id: r.id, childId: r.childId, childName: r.childName, villageCode: r.villageCode, kind: r.kind, date: r.date, itemId: r.itemId, onTime: r.onTime };
}

export function registerRecordRoutes(app: ServiceApp, deps: RecordRoutesDeps): void {
  const { prisma } = deps;

  app.post("/api/v1/visit-records", { schema: { tags: ["visits"], summary: "登记走访记录（家访、谈心、亲情电话等）", body: RecordInput } }, async (request, reply) => {
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
  });

  app.get("/api/v1/visit-records", { schema: { tags: ["visits"], summary: "走访记录", querystring: ListQuery } }, async (request, reply) => {
    const principal = request.principal!;
    const q = request.query;
    // Need-to-know: all | own and paired | date, kind and on-time only | none.
    const access = recordAccess(principal, "visitRecords");
    if (access === "none") throw new ForbiddenError("当前角色无权查看走访记录");
    if (q.childId && access !== "own-and-paired") await visibleChild(prisma, principal, q.childId);
    const teacher = access === "own-and-paired" ? (teacherOnly(principal) ?? principal.username) : null;
    const rows = await prisma.$queryRawUnsafe<RecordRow[]>(
      `SELECT r.id, r.child_id AS "childId", c.name AS "childName", c.village_code AS "villageCode", r.kind,
              to_char(r.date, 'YYYY-MM-DD') AS date, r.visitor_name AS "visitorName", r.location, r.duration_minutes AS "durationMinutes",
              r.findings, r.follow_up_needed AS "followUpNeeded", r.follow_up_note AS "followUpNote", r.item_id AS "itemId", r.created_at AS "createdAt",
              CASE WHEN i.id IS NULL THEN NULL ELSE r.date <= i.due_date END AS "onTime"
         FROM visit_records r JOIN children c ON c.id = r.child_id LEFT JOIN assignments a ON a.child_id = c.id
         LEFT JOIN due_items i ON i.id = r.item_id
        WHERE c.village_code LIKE $1 || '%'
          AND ($2::uuid IS NULL OR r.child_id = $2::uuid)
          AND ($3::date IS NULL OR r.date >= $3::date) AND ($4::date IS NULL OR r.date <= $4::date)
          AND ($5::text IS NULL OR a.username = $5 OR r.visitor_user_id = $8)
          AND ($6::uuid IS NULL OR r.id < $6::uuid)
        ORDER BY r.id DESC LIMIT $7`,
      scopeOf(principal, q.orgUnit),
      q.childId ?? null,
      q.from ?? null,
      q.to ?? null,
      teacher,
      q.cursor ?? null,
      q.limit + 1,
      principal.userId,
    );
    const more = rows.length > q.limit;
    // Inspectors see that a visit happened, when, of what kind and whether on time — not what was seen or who said what.
    const page = more ? rows.slice(0, q.limit) : rows;
    const items = access === "summary" ? page.map(summaryOf) : page;
    markAudit(reply, "read", [...new Set(items.map((r) => r.childId))]);
    return { items, nextCursor: more ? items[items.length - 1]!.id : null };
  });
}
