import { labels } from "@shouhu/contracts";
import type { ChildRecord } from "../domain/child-record.js";
import type { PrismaClient } from "./db.js";

/**
 * 联系卡 (one card per child): who the child is, who looks after them, how to
 * reach the parents, and where they go to school. `child` is already masked for
 * the caller. The helper is the 帮扶责任人 recorded on the register until the
 * pairing service owns pairings.
 */
export async function contactCard(prisma: PrismaClient, child: ChildRecord) {
  const codes = [child.villageCode, child.townshipCode];
  const units = await prisma.orgUnit.findMany({ where: { code: { in: codes } } });
  const nameOf = (code: string) => units.find((u) => u.code === code)?.name ?? null;
  return {
    child: {
      id: child.id,
      name: child.name,
      sex: child.sex,
      sexLabel: labels.sex[child.sex],
      birthDate: child.birthDate,
      idNumber: child.idNumber,
      status: child.status,
      leftBehindType: child.leftBehindType,
      leftBehindTypeLabel: labels.leftBehindType[child.leftBehindType],
      riskLevel: child.riskLevel,
    },
    address: {
      villageCode: child.villageCode,
      village: nameOf(child.villageCode),
      township: nameOf(child.townshipCode),
      detail: child.address,
    },
    school: child.schoolId ? { id: child.schoolId, name: child.schoolName, grade: child.grade, className: child.className } : null,
    guardians: child.guardians,
    parents: child.parents,
    helper: child.helperName ? { name: child.helperName, source: "register" as const } : null,
  };
}
