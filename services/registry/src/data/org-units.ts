import type { PrismaClient } from "./db.js";

/** Units in use; retired ones (kept for history) only when asked. */
export async function listOrgUnits(prisma: PrismaClient, q: { parent?: string; level?: string; includeRetired?: boolean }) {
  return prisma.orgUnit.findMany({
    where: { parentCode: q.parent, level: q.level, ...(q.includeRetired ? {} : { retiredAt: null }) },
    orderBy: { code: "asc" },
  });
}

/** One org unit with the units directly under it (retired ones included: the unit's history). */
export async function orgUnitWithChildren(prisma: PrismaClient, code: string) {
  return prisma.orgUnit.findUnique({ where: { code }, include: { children: { orderBy: { code: "asc" } } } });
}

export async function listSchools(prisma: PrismaClient, townshipCode?: string, includeRetired = false) {
  return prisma.school.findMany({ where: { townshipCode, ...(includeRetired ? {} : { retiredAt: null }) }, orderBy: { id: "asc" } });
}
