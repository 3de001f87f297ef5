import type { ChildSnapshot, ChildStatus, DifficultyCategory, ExitReason, LeftBehindType, RiskLevel, Sex } from "@shouhu/contracts";

export interface GuardianRecord {
  name: string;
  relation: string;
  phone: string | null;
  age: number | null;
  health: string | null;
}

export interface ParentRecord {
  role: "father" | "mother";
  name: string | null;
  phone: string | null;
  workProvince: string | null;
  workCity: string | null;
  employer: string | null;
  awaySince: string | null;
}

/** A child as the registry holds it, with dates as ISO strings. */
export interface ChildRecord {
  id: string;
  idNumber: string;
  name: string;
  sex: Sex;
  birthDate: string;
  ethnicity: string;
  villageCode: string;
  townshipCode: string;
  countyCode: string;
  address: string | null;
  schoolId: string | null;
  schoolName: string | null;
  grade: string | null;
  className: string | null;
  leftBehindType: LeftBehindType;
  difficultyCategories: DifficultyCategory[];
  riskLevel: RiskLevel;
  status: ChildStatus;
  exitReason: ExitReason | null;
  exitNote: string | null;
  exitedAt: string | null;
  familySituation: string | null;
  healthNotes: string | null;
  psychologicalNotes: string | null;
  helperName: string | null;
  remarks: string | null;
  guardians: GuardianRecord[];
  parents: ParentRecord[];
  revision: number;
  createdAt: string;
  updatedAt: string;
}

/** The fields staff edit; history diffs and update patches are over these. */
export const editableFields = [
  "idNumber",
  "name",
  "sex",
  "birthDate",
  "ethnicity",
  "villageCode",
  "address",
  "schoolId",
  "grade",
  "className",
  "leftBehindType",
  "difficultyCategories",
  "riskLevel",
  "familySituation",
  "healthNotes",
  "psychologicalNotes",
  "helperName",
  "remarks",
  "guardians",
  "parents",
] as const satisfies readonly (keyof ChildRecord)[];

/** What consumers of child events need (DESIGN.md: events carry names, org unit, phones). */
export function toSnapshot(child: ChildRecord): ChildSnapshot {
  const guardian = child.guardians[0];
  return {
    id: child.id,
    name: child.name,
    sex: child.sex,
    birthDate: child.birthDate,
    villageCode: child.villageCode,
    townshipCode: child.townshipCode,
    countyCode: child.countyCode,
    schoolId: child.schoolId,
    schoolName: child.schoolName,
    grade: child.grade,
    className: child.className,
    leftBehindType: child.leftBehindType,
    difficultyCategories: child.difficultyCategories,
    riskLevel: child.riskLevel,
    status: child.status,
    exitReason: child.exitReason,
    guardian: guardian ? { name: guardian.name, relation: guardian.relation, phone: guardian.phone } : null,
    parents: child.parents.map((p) => ({ role: p.role, name: p.name, phone: p.phone })),
    helperName: child.helperName,
    revision: child.revision,
  };
}
