import type { Role } from "@shouhu/contracts";
import type { Principal } from "./principal.js";

/** What a role may see of minors' personal data (DESIGN.md "Cross-cutting"). */
export interface FieldAccess {
  /** Full resident ID numbers. */
  idNumbers: boolean;
  /** Phone numbers of guardians and parents (without them, no contact details at all). */
  phones: boolean;
  /** Family situation, health and psychological notes. */
  sensitiveNotes: boolean;
}

// Case workers who keep the record need all of it. Teachers (proxy parents) and
// health workers must reach the family and act on health/psychological/family
// notes, but never need the full ID number. Deliberately not split per note kind
// (health-worker → health notes only) to keep one flag; split here if that changes.
// Inspectors audit records without ID numbers, contact details or notes.
const byRole: Record<Role, FieldAccess> = {
  "county-admin": { idNumbers: true, phones: true, sensitiveNotes: true },
  "federation-officer": { idNumbers: true, phones: true, sensitiveNotes: true },
  "township-supervisor": { idNumbers: true, phones: true, sensitiveNotes: true },
  "village-director": { idNumbers: true, phones: true, sensitiveNotes: true },
  teacher: { idNumbers: false, phones: true, sensitiveNotes: true },
  "health-worker": { idNumbers: false, phones: true, sensitiveNotes: true },
  inspector: { idNumbers: false, phones: false, sensitiveNotes: false },
};

/** The union of what the principal's roles allow. */
export function fieldAccess(principal: Pick<Principal, "roles">): FieldAccess {
  const access: FieldAccess = { idNumbers: false, phones: false, sensitiveNotes: false };
  for (const role of principal.roles) {
    const a = byRole[role];
    access.idNumbers ||= a.idNumbers;
    access.phones ||= a.phones;
    access.sensitiveNotes ||= a.sensitiveNotes;
  }
  return access;
}

/** `430102201205030017` → `4301**********0017`. */
export function maskIdNumber(idNumber: string): string {
  if (idNumber.length <= 8) return "*".repeat(idNumber.length);
  return `${idNumber.slice(0, 4)}${"*".repeat(idNumber.length - 8)}${idNumber.slice(-4)}`;
}

/** `13812345678` → `138****5678`; landlines keep area code and last 4. */
export function maskPhone(phone: string): string {
  if (phone.length <= 7) return "*".repeat(phone.length);
  return `${phone.slice(0, 3)}${"*".repeat(phone.length - 7)}${phone.slice(-4)}`;
}
