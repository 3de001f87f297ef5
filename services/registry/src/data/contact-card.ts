import type pg from "pg";
import { labels } from "@shouhu/contracts";
import { applyLevel, type ChildView } from "@shouhu/auth";
import type { ChildRecord } from "../domain/child-record.js";
import type { PrismaClient } from "./db.js";
import { currentHelpers, type CurrentHelper } from "./pairings.js";

/**
 * 联系卡 (one card per child): who the child is, who looks after them, how to
 * reach the parents, and where they go to school. `child` is already masked for
 * the caller; `view` (need-to-know) decides the helpers' phones by the same
 * rule as the family's. The helper is the mentor
 * the pairing service paired (pairing.started), or — while it has none — the
 * 帮扶责任人 written on the register, marked as such; a secondary helper (协助帮扶人) is
 * named beside it (`assistantHelper`), never in its place; the peer buddy comes from
 * pairing only.
 */
export async function contactCard(db: { prisma: PrismaClient; pool?: pg.Pool }, child: ChildRecord, view: ChildView) {
  const codes = [child.villageCode, child.townshipCode];
  const [units, helpers] = await Promise.all([db.prisma.orgUnit.findMany({ where: { code: { in: codes } } }), currentHelpers(db, child.id)]);
  const nameOf = (code: string) => units.find((u) => u.code === code)?.name ?? null;
  const paired = (h: CurrentHelper) => ({
    name: h.name,
    // A helper's phone as the family's: no contact details for those who see none.
    phone: applyLevel(view.guardianPhone, h.phone, "phone"),
    helperKind: h.helperKind,
    helperKindLabel: labels.helperKind[h.helperKind],
    since: h.since,
    source: "pairing" as const,
  });
  const mentor = helpers.find((h) => h.kind === "mentor" && h.role === "primary");
  const assistant = helpers.find((h) => h.kind === "mentor" && h.role === "secondary");
  const peer = helpers.find((h) => h.kind === "peer");
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
    helper: mentor ? paired(mentor) : child.helperName ? { name: child.helperName, source: "register" as const } : null,
    assistantHelper: assistant ? paired(assistant) : null,
    peerBuddy: peer ? paired(peer) : null,
  };
}
