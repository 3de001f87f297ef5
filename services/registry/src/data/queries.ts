import type { ChildStatus, DifficultyCategory, LeftBehindType, RiskLevel } from "@shouhu/contracts";
import { ForbiddenError, NotFoundError } from "@shouhu/kit";
import { childView, needsPairing, type ChildView, type Principal } from "@shouhu/auth";
import type { ChildRecord } from "../domain/child-record.js";
import { childInclude, toChildRecord } from "./child-mapper.js";
import { readChild, type ChildReadDb } from "./child-read.js";
import type { Prisma, PrismaClient } from "./db.js";
import { childIdsPairedTo, childIdsWithMentor, currentHelpers } from "./pairings.js";
import { contains, overlaps } from "@shouhu/contracts";

export interface ChildFilters {
  orgUnit?: string;
  leftBehindType?: LeftBehindType;
  difficultyCategory?: DifficultyCategory;
  riskLevel?: RiskLevel;
  status?: ChildStatus;
  schoolId?: string;
  /** Has a mentor now (true) or not (false). */
  paired?: boolean;
  /** Name fragment, or ID-number fragment for roles allowed to see ID numbers. */
  q?: string;
  cursor?: string;
  limit: number;
}

/** Teachers alone (no case-worker role) are scoped by school and pairing rather than by area. */
function isTeacherOnly(principal: Principal): boolean {
  return principal.roles.length === 1 && principal.roles[0] === "teacher";
}

/**
 * The rows a principal may see (DESIGN.md "jurisdiction"): a code-prefix test on
 * the child's village code; teachers, inside their area, see their school's
 * children plus the children currently paired to them (`pairedIds`: their login is
 * the helper's username — the rule pairing uses for "paired to me").
 */
function jurisdictionWhere(principal: Principal, pairedIds: string[] = []): Prisma.ChildWhereInput {
  const byOrg: Prisma.ChildWhereInput = { villageCode: { startsWith: principal.orgUnit } };
  if (isTeacherOnly(principal)) {
    const mine: Prisma.ChildWhereInput[] = [
      ...(principal.schoolCode ? [{ schoolId: principal.schoolCode }] : []),
      ...(pairedIds.length ? [{ id: { in: pairedIds } }] : []),
    ];
    return mine.length ? { AND: [byOrg, { OR: mine }] } : { id: { in: [] } };
  }
  return byOrg;
}

/** `pairedToCaller`: the child is currently paired to the caller (only asked for teachers outside their school). */
function canSee(principal: Principal, child: Pick<ChildRecord, "villageCode" | "schoolId">, pairedToCaller = false): boolean {
  if (!contains(principal.orgUnit, child.villageCode)) return false;
  if (isTeacherOnly(principal)) return (child.schoolId !== null && child.schoolId === principal.schoolCode) || pairedToCaller;
  return true;
}

/** Whether the child is currently paired to this login (mentor or peer buddy). */
async function pairedTo(db: ChildReadDb, childId: string, username: string): Promise<boolean> {
  if (!username) return false;
  return (await currentHelpers(db, childId)).some((h) => h.username === username);
}

/**
 * A record outside the caller's jurisdiction answers 404, not 403, so that
 * probing IDs reveals nothing about which children exist elsewhere.
 */
export async function getVisibleChild(db: ChildReadDb, principal: Principal, id: string): Promise<ChildRecord> {
  return (await getVisibleChildAndView(db, principal, id)).child;
}

/** Children paired with the caller, for the roles whose jurisdiction that widens or narrows (teachers, helpers). */
async function childIdsPairedToCaller(prisma: PrismaClient, principal: Principal): Promise<string[]> {
  return isTeacherOnly(principal) || needsPairing(principal) ? childIdsPairedTo(prisma, principal.username) : [];
}

/**
 * The child and the caller's view of it (need-to-know). The pairing is looked up only
 * for roles whose view depends on it (teachers); every other read stays one statement.
 */
export async function getVisibleChildAndView(
  db: ChildReadDb,
  principal: Principal,
  id: string,
): Promise<{ child: ChildRecord; view: ChildView; paired: boolean }> {
  const child = await readChild(db, id);
  if (!child) throw new NotFoundError("儿童档案", id);
  const lookup = needsPairing(principal) || isTeacherOnly(principal);
  const paired = lookup ? await pairedTo(db, id, principal.username) : false;
  if (!canSee(principal, child, paired)) throw new NotFoundError("儿童档案", id);
  return { child, view: childView(principal, { paired }), paired };
}

export async function listChildren(
  prisma: PrismaClient,
  principal: Principal,
  filters: ChildFilters,
  canSearchIdNumbers: boolean,
): Promise<{ items: ChildRecord[]; nextCursor: string | null; pairedIds: Set<string> }> {
  const paired = await childIdsPairedToCaller(prisma, principal);
  const and: Prisma.ChildWhereInput[] = [jurisdictionWhere(principal, paired)];
  if (filters.orgUnit) {
    const inside = overlaps(principal.orgUnit, filters.orgUnit);
    if (!inside) throw new ForbiddenError(`无权查看该地区的儿童：${filters.orgUnit}`);
    and.push({ villageCode: { startsWith: filters.orgUnit } });
  }
  if (filters.leftBehindType) and.push({ leftBehindType: filters.leftBehindType });
  if (filters.difficultyCategory) and.push({ difficultyCategories: { has: filters.difficultyCategory } });
  if (filters.riskLevel) and.push({ riskLevel: filters.riskLevel });
  if (filters.status) and.push({ status: filters.status });
  if (filters.schoolId) and.push({ schoolId: filters.schoolId });
  if (filters.paired !== undefined) {
    const ids = await childIdsWithMentor(prisma, filters.orgUnit ?? principal.orgUnit);
    and.push(filters.paired ? { id: { in: ids } } : { id: { notIn: ids } });
  }
  if (filters.q) {
    const q = filters.q.trim();
    and.push(canSearchIdNumbers ? { OR: [{ name: { contains: q } }, { idNumber: { contains: q.toUpperCase() } }] } : { name: { contains: q } });
  }
  if (filters.cursor) and.push({ id: { gt: filters.cursor } });
  const rows = await prisma.child.findMany({
    where: { AND: and },
    include: childInclude,
    orderBy: { id: "asc" },
    take: filters.limit + 1,
  });
  const page = rows.slice(0, filters.limit).map(toChildRecord);
  return { items: page, nextCursor: rows.length > filters.limit ? page[page.length - 1]!.id : null, pairedIds: new Set(paired) };
}

/** Active children the caller may see, by risk level and by left-behind type (the 工作台's key counts). */
export async function childCounts(prisma: PrismaClient, principal: Principal) {
  const paired = await childIdsPairedToCaller(prisma, principal);
  const where: Prisma.ChildWhereInput = { AND: [jurisdictionWhere(principal, paired), { status: "active" }] };
  const [byRisk, byType] = await Promise.all([
    prisma.child.groupBy({ by: ["riskLevel"], where, _count: { _all: true } }),
    prisma.child.groupBy({ by: ["leftBehindType"], where, _count: { _all: true } }),
  ]);
  return {
    active: byRisk.reduce((n, r) => n + r._count._all, 0),
    byRiskLevel: Object.fromEntries(byRisk.map((r) => [r.riskLevel, r._count._all])) as Record<string, number>,
    byLeftBehindType: Object.fromEntries(byType.map((r) => [r.leftBehindType, r._count._all])) as Record<string, number>,
  };
}

export async function childHistory(prisma: PrismaClient, childId: string) {
  const rows = await prisma.childHistory.findMany({ where: { childId }, orderBy: { revision: "asc" } });
  return rows.map((h) => ({
    revision: h.revision,
    // Written only by data/children.ts.
    action: h.action as "created" | "updated" | "status_changed" | "promoted" | "school_assigned" | "transferred",
    actor: { id: h.actorId, name: h.actorName, role: h.actorRole },
    reason: h.reason,
    at: h.at.toISOString(),
    changes: h.changes as { field: string; before: unknown; after: unknown }[],
  }));
}
