import type { ChildStatus, DifficultyCategory, LeftBehindType, RiskLevel } from "@shouhu/contracts";
import { ForbiddenError, NotFoundError } from "@shouhu/kit";
import type { Principal } from "@shouhu/auth";
import type { ChildRecord } from "../domain/child-record.js";
import { childInclude, toChildRecord } from "./child-mapper.js";
import { readChild, type ChildReadDb } from "./child-read.js";
import type { Prisma, PrismaClient } from "./db.js";

export interface ChildFilters {
  orgUnit?: string;
  leftBehindType?: LeftBehindType;
  difficultyCategory?: DifficultyCategory;
  riskLevel?: RiskLevel;
  status?: ChildStatus;
  schoolId?: string;
  /** Name fragment, or ID-number fragment for roles allowed to see ID numbers. */
  q?: string;
  cursor?: string;
  limit: number;
}

/**
 * The rows a principal may see (DESIGN.md "jurisdiction"): a code-prefix test on
 * the child's village code; teachers see their school's children.
 */
export function jurisdictionWhere(principal: Principal): Prisma.ChildWhereInput {
  const byOrg: Prisma.ChildWhereInput = { villageCode: { startsWith: principal.orgUnit } };
  if (principal.roles.length === 1 && principal.roles[0] === "teacher") {
    return principal.schoolCode ? { schoolId: principal.schoolCode } : { id: { in: [] } };
  }
  return byOrg;
}

export function canSee(principal: Principal, child: Pick<ChildRecord, "villageCode" | "schoolId">): boolean {
  if (principal.roles.length === 1 && principal.roles[0] === "teacher") return child.schoolId !== null && child.schoolId === principal.schoolCode;
  return child.villageCode.startsWith(principal.orgUnit);
}

/**
 * A record outside the caller's jurisdiction answers 404, not 403, so that
 * probing IDs reveals nothing about which children exist elsewhere.
 */
export async function getVisibleChild(db: ChildReadDb, principal: Principal, id: string): Promise<ChildRecord> {
  const child = await readChild(db, id);
  if (!child || !canSee(principal, child)) throw new NotFoundError("儿童档案", id);
  return child;
}

export async function listChildren(
  prisma: PrismaClient,
  principal: Principal,
  filters: ChildFilters,
  canSearchIdNumbers: boolean,
): Promise<{ items: ChildRecord[]; nextCursor: string | null }> {
  const and: Prisma.ChildWhereInput[] = [jurisdictionWhere(principal)];
  if (filters.orgUnit) {
    const inside = filters.orgUnit.startsWith(principal.orgUnit) || principal.orgUnit.startsWith(filters.orgUnit);
    if (!inside) throw new ForbiddenError(`无权查看该地区的儿童：${filters.orgUnit}`);
    and.push({ villageCode: { startsWith: filters.orgUnit } });
  }
  if (filters.leftBehindType) and.push({ leftBehindType: filters.leftBehindType });
  if (filters.difficultyCategory) and.push({ difficultyCategories: { has: filters.difficultyCategory } });
  if (filters.riskLevel) and.push({ riskLevel: filters.riskLevel });
  if (filters.status) and.push({ status: filters.status });
  if (filters.schoolId) and.push({ schoolId: filters.schoolId });
  if (filters.q) {
    const q = filters.q.trim();
    and.push(
      canSearchIdNumbers
        ? { OR: [{ name: { contains: q } }, { idNumber: { contains: q.toUpperCase() } }] }
        : { name: { contains: q } },
    );
  }
  if (filters.cursor) and.push({ id: { gt: filters.cursor } });
  const rows = await prisma.child.findMany({
    where: { AND: and },
    include: childInclude,
    orderBy: { id: "asc" },
    take: filters.limit + 1,
  });
  const page = rows.slice(0, filters.limit).map(toChildRecord);
  return { items: page, nextCursor: rows.length > filters.limit ? page[page.length - 1]!.id : null };
}

export async function childHistory(prisma: PrismaClient, childId: string) {
  const rows = await prisma.childHistory.findMany({ where: { childId }, orderBy: { revision: "asc" } });
  return rows.map((h) => ({
    revision: h.revision,
    action: h.action,
    actor: { id: h.actorId, name: h.actorName, role: h.actorRole },
    reason: h.reason,
    at: h.at.toISOString(),
    changes: h.changes as { field: string; before: unknown; after: unknown }[],
  }));
}
