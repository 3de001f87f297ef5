import { z } from "zod";
import { ChildStatus, DifficultyCategory, ExitReason, LeftBehindType, RiskLevel, Sex } from "@shouhu/contracts";
import type { ChildRecord } from "../domain/child-record.js";

/**
 * What the registry answers, documented so the console's types are generated from the
 * OpenAPI document. Fastify encodes each answer through these, so a field missing here
 * is missing from the answer; the checks at the bottom keep them equal to the records.
 */
const GuardianResponse = z.object({
  name: z.string(),
  relation: z.string(),
  phone: z.string().nullable(),
  age: z.number().int().nullable(),
  health: z.string().nullable(),
});
const ParentResponse = z.object({
  role: z.enum(["father", "mother"]),
  name: z.string().nullable(),
  phone: z.string().nullable(),
  workProvince: z.string().nullable(),
  workCity: z.string().nullable(),
  employer: z.string().nullable(),
  awaySince: z.string().nullable(),
});

/** A child as the caller may see it: masked values arrive starred (e.g. `430***********1234`), withheld ones as null. */
export const ChildResponse = z.object({
  id: z.uuid(),
  idNumber: z.string(),
  name: z.string(),
  sex: Sex,
  birthDate: z.string(),
  ethnicity: z.string(),
  villageCode: z.string(),
  townshipCode: z.string(),
  countyCode: z.string(),
  address: z.string().nullable(),
  schoolId: z.string().nullable(),
  schoolName: z.string().nullable(),
  grade: z.string().nullable(),
  className: z.string().nullable(),
  leftBehindType: LeftBehindType,
  difficultyCategories: z.array(DifficultyCategory),
  riskLevel: RiskLevel,
  status: ChildStatus,
  exitReason: ExitReason.nullable(),
  exitNote: z.string().nullable(),
  exitedAt: z.string().nullable(),
  familySituation: z.string().nullable(),
  healthNotes: z.string().nullable(),
  psychologicalNotes: z.string().nullable(),
  helperName: z.string().nullable(),
  remarks: z.string().nullable(),
  guardians: z.array(GuardianResponse),
  parents: z.array(ParentResponse),
  revision: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const ChildPage = z.object({ items: z.array(ChildResponse), nextCursor: z.string().nullable() });

export const ChildCounts = z.object({
  active: z.number().int(),
  byRiskLevel: z.record(z.string(), z.number().int()),
  byLeftBehindType: z.record(z.string(), z.number().int()),
});

const OrgUnitResponse = z.object({
  code: z.string(),
  name: z.string(),
  level: z.string().describe("county | township | village"),
  parentCode: z.string().nullable(),
  retiredAt: z.string().nullable().describe("撤销时间；未撤销为 null"),
  mergedInto: z.string().nullable().describe("合并撤销时并入的区划代码"),
});
export const OrgUnitList = z.object({ items: z.array(OrgUnitResponse) });
export const OrgUnitDetail = OrgUnitResponse.extend({ children: z.array(OrgUnitResponse) });
export const SchoolResponse = z.object({
  id: z.string(),
  code: z.string().nullable().describe("学校标识码（10位）"),
  name: z.string(),
  type: z.string().nullable().describe("小学 | 初中 | 九年一贯制"),
  townshipCode: z.string(),
  retiredAt: z.string().nullable(),
});
export const SchoolList = z.object({ items: z.array(SchoolResponse) });
export const OrgOverview = z.object({
  county: z.object({ code: z.string(), name: z.string() }),
  units: z.array(OrgUnitResponse.extend({ childCount: z.number().int().describe("在册儿童（未退出）") })),
  schools: z.array(SchoolResponse.extend({ childCount: z.number().int().describe("在册儿童（未退出）") })),
});
export const MergeResult = z.object({ code: z.string(), into: z.string(), movedChildren: z.number().int(), movedSchools: z.number().int() });
export const ListImportResult = z.object({
  created: z.number().int(),
  updated: z.number().int().describe("改名（区划）或信息变更（学校）"),
  unchanged: z.number().int(),
  rejections: z.array(z.object({ rowNumber: z.number().int(), code: z.string().nullable(), name: z.string().nullable(), reasons: z.array(z.string()) })),
});

export const ImportBatchResponse = z.object({
  id: z.uuid(),
  fileName: z.string(),
  orgUnit: z.string(),
  status: z
    .string()
    .describe("queued | running | completed | failed | preview (a re-import waiting for confirmation) | confirming (a re-import's confirm job running)"),
  mode: z.string().describe("create (new children registered at once) | update (a register uploaded again: preview, then confirm)"),
  totalRows: z.number().int(),
  processedRows: z.number().int(),
  acceptedRows: z.number().int(),
  rejectedRows: z.number().int(),
  error: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  /** A re-import's last confirm: rows asked for and rows decided so far (applied, flagged or failed). */
  confirmTotal: z.number().int(),
  confirmDone: z.number().int(),
  /** Only on upload: the same file was uploaded before and that batch is answered. */
  duplicateUpload: z.boolean().optional(),
});
export const ImportBatchList = z.object({ items: z.array(ImportBatchResponse) });
export const RejectionPage = z.object({
  items: z.array(
    z.object({
      sheet: z.string(),
      rowNumber: z.number().int(),
      name: z.string().nullable(),
      reasons: z.array(z.string()),
      existingChildId: z.string().nullable(),
    }),
  ),
  nextCursor: z.string().nullable(),
});
const FieldChangeView = z.object({ field: z.string(), before: z.unknown(), after: z.unknown() });
export const ReimportPreview = z.object({
  batch: ImportBatchResponse,
  counts: z.object({
    new: z.number().int(),
    changed: z.number().int(),
    unchanged: z.number().int(),
    missing: z.number().int(),
    pending: z.number().int(),
    queued: z.number().int(),
    applied: z.number().int(),
    flagged: z.number().int(),
    failed: z.number().int(),
  }),
  items: z.array(
    z.object({
      id: z.string(),
      kind: z.string().describe("new | changed | unchanged | missing"),
      status: z.string().describe("pending | queued | applied | flagged | failed"),
      idNumber: z.string(),
      name: z.string(),
      childId: z.string().nullable(),
      sheet: z.string().nullable(),
      rowNumber: z.number().int().nullable(),
      changes: z.array(FieldChangeView),
      /** Why the confirm refused this row (status failed), in zh-CN. */
      error: z.string().nullable(),
    }),
  ),
  nextCursor: z.string().nullable(),
});
export const ReimportConfirmResponse = z.object({
  batch: ImportBatchResponse,
  /** Rows handed to the confirm job. */
  queued: z.number().int(),
  counts: ReimportPreview.shape.counts,
});

// Compile-time: the record the routes present fits the documented answer, field for field both ways.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const childShapeMatches: Same<z.input<typeof ChildResponse>, ChildRecord> = true;
void childShapeMatches;
