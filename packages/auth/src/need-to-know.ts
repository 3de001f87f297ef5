import type { Role } from "@shouhu/contracts";
import type { Principal } from "./principal.js";

/**
 * DESIGN.md "Need-to-know: who sees which fields", held once, as data. Jurisdiction
 * (jurisdiction.ts) decides WHICH children a user may see; this table decides which
 * PARTS of a child's file. Every service presents child data through `childView`
 * and the record rules below, and the generated test (services' need-to-know tests)
 * walks this same table, so a change here changes both the behaviour and its test.
 */

/** How much of a field a role gets. `paired`: full when the caller is the child's current helper, else none. */
export type Level = "full" | "masked" | "region" | "paired" | "none";
/** The level once the caller's relation to the child is known. */
export type Resolved = "full" | "masked" | "region" | "none";

/** The parts of a child's file that not every role may see. Name, sex, birth date, village, school, class, categories and risk are seen by every role that sees the child. */
export const CHILD_FIELDS = [
  "idNumber",
  "guardianName",
  "guardianPhone",
  "guardianDetails",
  "parentName",
  "parentPhone",
  "workPlace",
  "address",
  "familyNotes",
  "psychologicalNotes",
  "healthNotes",
] as const;
export type ChildField = (typeof CHILD_FIELDS)[number];

const caseWorker = { "county-admin": "full", "township-supervisor": "full", "village-director": "full" } as const;

export const NEED_TO_KNOW: Record<ChildField, Record<Role, Level>> = {
  // "full" | "region only (first 6 digits)": a partial mask plus the birth date rebuilds the number.
  idNumber: { ...caseWorker, "federation-officer": "region", teacher: "region", "health-worker": "region", inspector: "region" },
  // guardian/parent names, phones, work places, address: federation phones masked; teacher paired only; health worker guardian name + phone; inspector none.
  guardianName: { ...caseWorker, "federation-officer": "full", teacher: "paired", "health-worker": "full", inspector: "none" },
  guardianPhone: { ...caseWorker, "federation-officer": "masked", teacher: "paired", "health-worker": "full", inspector: "none" },
  guardianDetails: { ...caseWorker, "federation-officer": "full", teacher: "paired", "health-worker": "none", inspector: "none" },
  parentName: { ...caseWorker, "federation-officer": "full", teacher: "paired", "health-worker": "none", inspector: "none" },
  parentPhone: { ...caseWorker, "federation-officer": "masked", teacher: "paired", "health-worker": "none", inspector: "none" },
  workPlace: { ...caseWorker, "federation-officer": "full", teacher: "paired", "health-worker": "none", inspector: "none" },
  address: { ...caseWorker, "federation-officer": "full", teacher: "paired", "health-worker": "none", inspector: "none" },
  // family, psychological and health notes: teacher paired only; health worker health notes only; inspector none.
  familyNotes: { ...caseWorker, "federation-officer": "full", teacher: "paired", "health-worker": "none", inspector: "none" },
  psychologicalNotes: { ...caseWorker, "federation-officer": "full", teacher: "paired", "health-worker": "none", inspector: "none" },
  healthNotes: { ...caseWorker, "federation-officer": "full", teacher: "paired", "health-worker": "full", inspector: "none" },
};

/** What a role sees of the records kept about a child (visits, concerns, check-ups). */
export const RECORD_ACCESS = {
  /** all | own and paired | none | date, kind and on-time only (no narrative). */
  visitRecords: {
    "county-admin": "all",
    "township-supervisor": "all",
    "village-director": "all",
    "federation-officer": "all",
    teacher: "own-and-paired",
    "health-worker": "none",
    inspector: "summary",
  },
  /** all, with notes | those they raised | counts and timeliness only. */
  concerns: {
    "county-admin": "all",
    "township-supervisor": "all",
    "village-director": "all",
    "federation-officer": "all",
    teacher: "own",
    "health-worker": "own",
    inspector: "counts",
  },
  /** results and follow-ups | flags only | paired: flags + follow-up | coverage only. */
  checkups: {
    "county-admin": "full",
    "township-supervisor": "full",
    "village-director": "full",
    "federation-officer": "flags",
    teacher: "paired-flags",
    "health-worker": "full",
    inspector: "coverage",
  },
  /**
   * 成长档案 awards and notes (registry growth entries): read as family notes are (teachers: the children
   * they are paired with, and what they wrote themselves); health workers and inspectors none.
   */
  growthNotes: {
    "county-admin": "all",
    "township-supervisor": "all",
    "village-director": "all",
    "federation-officer": "all",
    teacher: "own-and-paired",
    "health-worker": "none",
    inspector: "none",
  },
} as const satisfies Record<string, Record<Role, string>>;
export type RecordKind = keyof typeof RECORD_ACCESS;
export type RecordLevel<K extends RecordKind> = (typeof RECORD_ACCESS)[K][Role];

// Most to least: a user with several roles gets the most any of them allows.
const RANK: Record<Resolved, number> = { full: 3, masked: 2, region: 1, none: 0 };

/** The caller's view of one child: every field resolved for their roles and their relation to the child. */
export type ChildView = Record<ChildField, Resolved>;

export function resolveLevel(level: Level, paired: boolean): Resolved {
  return level === "paired" ? (paired ? "full" : "none") : level;
}

/**
 * The caller's view of a child. `paired`: the caller is the child's current helper
 * (mentor or peer's teacher) — only asked for roles whose table entries say "paired".
 */
export function childView(principal: Pick<Principal, "roles">, relation: { paired?: boolean } = {}): ChildView {
  const view = Object.fromEntries(CHILD_FIELDS.map((f) => [f, "none"])) as ChildView;
  for (const role of principal.roles) {
    for (const field of CHILD_FIELDS) {
      const level = resolveLevel(NEED_TO_KNOW[field][role], relation.paired ?? false);
      if (RANK[level] > RANK[view[field]]) view[field] = level;
    }
  }
  return view;
}

/** Whether the caller's view of a field depends on being paired with the child (so the pairing must be looked up). */
export function needsPairing(principal: Pick<Principal, "roles">): boolean {
  const unpaired = childView(principal, { paired: false });
  const paired = childView(principal, { paired: true });
  return CHILD_FIELDS.some((f) => unpaired[f] !== paired[f]);
}

// Most to least for each kind of record.
const RECORD_ORDER: { [K in RecordKind]: readonly RecordLevel<K>[] } = {
  visitRecords: ["all", "own-and-paired", "summary", "none"],
  concerns: ["all", "own", "counts"],
  checkups: ["full", "paired-flags", "flags", "coverage"],
  growthNotes: ["all", "own-and-paired", "none"],
};

/** The most a caller's roles allow of a kind of record; "none" without any role. */
export function recordAccess<K extends RecordKind>(principal: Pick<Principal, "roles">, kind: K): RecordLevel<K> | "none" {
  const order = RECORD_ORDER[kind] as readonly string[];
  let best = -1;
  for (const role of principal.roles) {
    const i = order.indexOf(RECORD_ACCESS[kind][role] as string);
    if (i >= 0 && (best < 0 || i < best)) best = i;
  }
  return best < 0 ? "none" : (order[best] as RecordLevel<K> | "none");
}

/** Whether the caller may see anyone's contact details at all (inspectors may not: "no contact details"). */
export function seesContacts(principal: Pick<Principal, "roles">): boolean {
  return childView(principal, { paired: true }).guardianPhone !== "none";
}

/** `360999201503070021` → `360999************`: the region code and nothing else (DESIGN.md). */
export function regionOnly(idNumber: string): string {
  return idNumber.slice(0, 6) + "*".repeat(Math.max(0, idNumber.length - 6));
}

/** `13812345678` → `138****5678`; landlines keep area code and last 4. */
export function maskPhone(phone: string): string {
  if (phone.length <= 7) return "*".repeat(phone.length);
  return `${phone.slice(0, 3)}${"*".repeat(phone.length - 7)}${phone.slice(-4)}`;
}

/** A value as a resolved level allows: itself, masked, region only, or nothing. */
export function applyLevel(level: Resolved, value: string | null, kind: "idNumber" | "phone" | "text"): string | null {
  if (value === null || level === "full") return value;
  if (level === "none") return null;
  if (kind === "idNumber") return regionOnly(value);
  if (kind === "phone") return maskPhone(value);
  // Text has no masked form: masked or region means withheld.
  return null;
}

/**
 * The kinds of evidence kept in a child's file, and who sees each (DESIGN.md need-to-know,
 * "attachments"). Guardianship agreements and proofs of difficulty name the guardian, the
 * family's situation and often ID numbers and income: as sensitive as guardian details and
 * family notes, so a teacher sees them only as the child's helper and health workers and
 * inspectors not at all. Consent forms are what a check-up needs, so health workers see
 * them. Photos show the child and the home: the case workers, the federation and the
 * child's helper. Seeing a kind is also what lets a caller upload it.
 */
export const CHILD_ATTACHMENT_KINDS = ["guardianship-agreement", "hardship-proof", "consent-form", "photo"] as const;
export type ChildAttachmentKind = (typeof CHILD_ATTACHMENT_KINDS)[number];

export const ATTACHMENT_ACCESS: Record<ChildAttachmentKind, Record<Role, "full" | "paired" | "none">> = {
  "guardianship-agreement": { ...caseWorker, "federation-officer": "full", teacher: "paired", "health-worker": "none", inspector: "none" },
  "hardship-proof": { ...caseWorker, "federation-officer": "full", teacher: "paired", "health-worker": "none", inspector: "none" },
  "consent-form": { ...caseWorker, "federation-officer": "full", teacher: "paired", "health-worker": "full", inspector: "none" },
  photo: { ...caseWorker, "federation-officer": "full", teacher: "paired", "health-worker": "none", inspector: "none" },
};

/** The attachment kinds of a child's file this caller sees (and may add), given whether they are its current helper. */
export function attachmentKindsSeen(principal: Pick<Principal, "roles">, relation: { paired?: boolean } = {}): ChildAttachmentKind[] {
  return CHILD_ATTACHMENT_KINDS.filter((kind) =>
    principal.roles.some((role) => resolveLevel(ATTACHMENT_ACCESS[kind][role], relation.paired ?? false) === "full"),
  );
}
