import { z } from "zod";

/**
 * What the pairing API answers, documented so the console's types are generated from
 * the OpenAPI document. Fastify encodes each answer through these: a field left out
 * here is left out of the answer, so the route tests cover every field the console reads.
 */
const iso = z.string();

export const PairingResponse = z.object({
  id: z.uuid(),
  kind: z.enum(["mentor", "peer"]),
  kindLabel: z.string(),
  /** primary 主要帮扶人 | secondary 协助帮扶人 */
  role: z.enum(["primary", "secondary"]),
  roleLabel: z.string(),
  status: z.enum(["proposed", "active", "ended", "rejected", "withdrawn"]),
  statusLabel: z.string(),
  matchReason: z.string().nullable(),
  matchReasonLabel: z.string().nullable(),
  cost: z.number().nullable(),
  proximity: z.enum(["same_village", "same_school", "same_township", "other_township"]),
  proximityLabel: z.string(),
  ageGapYears: z.number().int().nullable(),
  proposedAt: iso,
  decidedAt: iso.nullable(),
  decidedBy: z.string().nullable(),
  decisionNote: z.string().nullable(),
  startDate: z.string().nullable(),
  endDate: z.string().nullable(),
  endReason: z.string().nullable(),
  endReasonLabel: z.string().nullable(),
  endNote: z.string().nullable(),
  child: z.object({
    id: z.uuid(),
    name: z.string(),
    villageCode: z.string(),
    townshipCode: z.string(),
    schoolId: z.string().nullable(),
    schoolName: z.string().nullable(),
    riskLevel: z.string(),
    leftBehindType: z.string(),
    status: z.string(),
  }),
  helper: z.object({
    id: z.uuid(),
    kind: z.string(),
    name: z.string(),
    phone: z.string().nullable(),
    username: z.string().nullable(),
    orgUnitCode: z.string(),
    schoolId: z.string().nullable(),
  }),
});

export const PairingPage = z.object({ items: z.array(PairingResponse), nextCursor: z.string().nullable() });

export const DecisionsResponse = z.object({
  succeeded: z.number().int(),
  failed: z.number().int(),
  results: z.array(
    z.object({
      id: z.uuid(),
      ok: z.boolean(),
      pairing: PairingResponse.optional(),
      error: z.object({ code: z.string(), message: z.string() }).optional(),
    }),
  ),
});

export const HelperResponse = z.object({
  id: z.uuid(),
  kind: z.string(),
  kindLabel: z.string(),
  name: z.string(),
  sex: z.enum(["male", "female"]).nullable(),
  birthDate: z.string().nullable(),
  phone: z.string().nullable(),
  orgUnitCode: z.string(),
  townshipCode: z.string(),
  schoolId: z.string().nullable(),
  username: z.string().nullable(),
  capacity: z.number().int(),
  activeCount: z.number().int(),
  proposedCount: z.number().int(),
  free: z.number().int(),
  active: z.boolean(),
  deactivatedAt: iso.nullable(),
  deactivationReason: z.string().nullable(),
  createdAt: iso,
});

export const HelperPage = z.object({ items: z.array(HelperResponse), nextCursor: z.string().nullable() });
export const HelperDetail = HelperResponse.extend({ pairings: z.array(PairingResponse) });
export const DeactivateResponse = z.object({ helper: HelperResponse, endedPairings: z.array(PairingResponse), withdrawnProposals: z.number().int() });

export const UnpairedPage = z.object({
  items: z.array(
    z.object({
      id: z.uuid(),
      name: z.string(),
      villageCode: z.string(),
      schoolId: z.string().nullable(),
      schoolName: z.string().nullable(),
      riskLevel: z.enum(["low", "medium", "high"]),
      riskLevelLabel: z.string(),
      leftBehindType: z.string(),
      leftBehindTypeLabel: z.string(),
      note: z.string().nullable(),
      /** The register's 帮扶责任人 (mentor list only), and why it was not paired: not_found 未找到此人 | ambiguous 多人同名 | full 已满额 | inactive 已停用. */
      registerHelperName: z.string().nullable(),
      registerMatchIssue: z.enum(["not_found", "ambiguous", "full", "inactive"]).nullable(),
      registerMatchIssueLabel: z.string().nullable(),
      waiting: z.string(),
      proposal: z.object({ pairingId: z.uuid(), helperId: z.uuid(), helperName: z.string(), matchReason: z.string() }).nullable(),
    }),
  ),
  nextCursor: z.string().nullable(),
});

const VillageCounts = z.object({
  children: z.number().int(),
  paired: z.number().int(),
  proposed: z.number().int(),
  unmatched: z.number().int(),
  /** Not paired although the register names a 帮扶责任人 (not found, same name twice, full or stopped): a supervisor decides. */
  registerUnmatched: z.number().int(),
});
export const UnpairedSummary = z.object({
  kind: z.enum(["mentor", "peer"]),
  orgUnits: z.array(VillageCounts.extend({ villageCode: z.string() })),
  totals: VillageCounts,
});

const RunSummary = z.object({
  runId: z.uuid(),
  townshipCode: z.string(),
  kind: z.enum(["mentor", "peer"]),
  children: z.number().int(),
  proposed: z.number().int(),
  unmatched: z.number().int(),
  cost: z.number(),
  durationMs: z.number(),
});
export const RunResponse = z.object({ runs: z.array(RunSummary), proposed: z.number().int(), unmatched: z.number().int() });

export const TransferResponse = z.object({ ended: PairingResponse, started: PairingResponse });

export const HelperImportResult = z.object({
  total: z.number().int().describe("数据行数（不含表头和空行）"),
  created: z.number().int(),
  updated: z.number().int().describe("已登记的帮扶人（同乡镇同手机号；无手机号时同姓名、单位、学校）按表更新"),
  rejected: z.number().int(),
  rows: z.array(
    z.object({
      rowNumber: z.number().int(),
      name: z.string().nullable(),
      status: z.enum(["created", "updated", "rejected"]),
      helperId: z.uuid().nullable(),
      reasons: z.array(z.string()),
    }),
  ),
});
