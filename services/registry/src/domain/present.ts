import type { ChildRecord } from "./child-record.js";

/** What a role may see of a child's personal data (from `@shouhu/auth` fieldAccess). */
export interface FieldAccess {
  idNumbers: boolean;
  phones: boolean;
  sensitiveNotes: boolean;
}

export type Masker = { idNumber: (v: string) => string; phone: (v: string) => string };

/**
 * A child as the caller may see it. Roles without contact access (inspectors)
 * get no ID numbers or phones at all; roles that need to reach the family but
 * not identify the child see the ID number masked.
 */
export function presentChild(child: ChildRecord, access: FieldAccess, mask: Masker): ChildRecord {
  const noContacts = !access.phones;
  const phone = (v: string | null) => (v === null ? null : noContacts ? null : v);
  return {
    ...child,
    idNumber: access.idNumbers ? child.idNumber : noContacts ? (null as unknown as string) : mask.idNumber(child.idNumber),
    guardians: child.guardians.map((g) => ({ ...g, phone: phone(g.phone) })),
    parents: child.parents.map((p) => ({ ...p, phone: phone(p.phone) })),
    familySituation: access.sensitiveNotes ? child.familySituation : null,
    healthNotes: access.sensitiveNotes ? child.healthNotes : null,
    psychologicalNotes: access.sensitiveNotes ? child.psychologicalNotes : null,
  };
}
