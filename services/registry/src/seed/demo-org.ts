import type { PrismaClient } from "../data/db.js";

/**
 * The demo county the realm's demo users belong to (infra/keycloak). In a real
 * deployment org units come from the national division list for the county.
 */
const demoOrgUnits = [
  { code: "360999", name: "示范县", level: "county", parentCode: null },
  { code: "360999100", name: "城关镇", level: "township", parentCode: "360999" },
  { code: "360999101", name: "长岭乡", level: "township", parentCode: "360999" },
  { code: "360999102", name: "石门镇", level: "township", parentCode: "360999" },
  { code: "360999100201", name: "东街社区", level: "village", parentCode: "360999100" },
  { code: "360999100202", name: "西街社区", level: "village", parentCode: "360999100" },
  { code: "360999101201", name: "长岭村", level: "village", parentCode: "360999101" },
  { code: "360999101202", name: "白水村", level: "village", parentCode: "360999101" },
  { code: "360999102201", name: "石门村", level: "village", parentCode: "360999102" },
  { code: "360999102202", name: "青山村", level: "village", parentCode: "360999102" },
] as const;

const demoSchools = [
  { id: "S360999100001", code: "2136099901", name: "城关第一小学", type: "小学", townshipCode: "360999100" },
  { id: "S360999101001", code: "2136099902", name: "长岭乡中心小学", type: "小学", townshipCode: "360999101" },
  { id: "S360999102001", code: "2136099903", name: "石门镇中学", type: "初中", townshipCode: "360999102" },
] as const;

/** Idempotent: safe at every start; names a county admin changed since are kept. */
export async function seedDemoOrg(prisma: PrismaClient): Promise<void> {
  for (const unit of demoOrgUnits) {
    await prisma.orgUnit.upsert({ where: { code: unit.code }, create: unit, update: {} });
  }
  for (const school of demoSchools) {
    await prisma.school.upsert({ where: { id: school.id }, create: school, update: {} });
    // Demo databases seeded before schools had a 学校标识码 get theirs once.
    await prisma.school.updateMany({ where: { id: school.id, code: null }, data: { code: school.code, type: school.type } });
  }
}
