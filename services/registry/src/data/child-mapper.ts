import type { ChildStatus, DifficultyCategory, ExitReason, LeftBehindType, RiskLevel, Sex } from "@shouhu/contracts";
import type { ChildRecord } from "../domain/child-record.js";
import type { Prisma } from "./db.js";

export const childInclude = {
  guardians: { orderBy: { position: "asc" } },
  parents: { orderBy: { role: "asc" } },
  school: { select: { name: true } },
} as const satisfies Prisma.ChildInclude;

export type ChildRow = Prisma.ChildGetPayload<{ include: typeof childInclude }>;

const isoDate = (d: Date): string => d.toISOString().slice(0, 10);

export function toChildRecord(row: ChildRow): ChildRecord {
  return {
    id: row.id,
    idNumber: row.idNumber,
    name: row.name,
    sex: row.sex as Sex,
    birthDate: isoDate(row.birthDate),
    ethnicity: row.ethnicity,
    villageCode: row.villageCode,
    townshipCode: row.townshipCode,
    countyCode: row.countyCode,
    address: row.address,
    schoolId: row.schoolId,
    schoolName: row.school?.name ?? null,
    grade: row.grade,
    className: row.className,
    leftBehindType: row.leftBehindType as LeftBehindType,
    difficultyCategories: row.difficultyCategories as DifficultyCategory[],
    riskLevel: row.riskLevel as RiskLevel,
    status: row.status as ChildStatus,
    exitReason: row.exitReason as ExitReason | null,
    exitNote: row.exitNote,
    exitedAt: row.exitedAt ? isoDate(row.exitedAt) : null,
    familySituation: row.familySituation,
    healthNotes: row.healthNotes,
    psychologicalNotes: row.psychologicalNotes,
    helperName: row.helperName,
    remarks: row.remarks,
    guardians: row.guardians.map((g) => ({ name: g.name, relation: g.relation, phone: g.phone, age: g.age, health: g.health })),
    parents: row.parents.map((p) => ({
      role: p.role as "father" | "mother",
      name: p.name,
      phone: p.phone,
      workProvince: p.workProvince,
      workCity: p.workCity,
      employer: p.employer,
      awaySince: p.awaySince,
    })),
    revision: row.revision,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}
