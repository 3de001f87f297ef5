import type { PrismaClient } from "./db.js";

export async function listOrgUnits(prisma: PrismaClient, q: { parent?: string; level?: string }) {
  return prisma.orgUnit.findMany({ where: { parentCode: q.parent, level: q.level }, orderBy: { code: "asc" } });
}

/** One org unit with the units directly under it. */
export async function orgUnitWithChildren(prisma: PrismaClient, code: string) {
  return prisma.orgUnit.findUnique({ where: { code }, include: { children: { orderBy: { code: "asc" } } } });
}

export async function listSchools(prisma: PrismaClient, townshipCode?: string) {
  return prisma.school.findMany({ where: { townshipCode }, orderBy: { id: "asc" } });
}
