import { contains } from "@shouhu/contracts";
import { ForbiddenError } from "@shouhu/kit";
import type { Principal } from "./principal.js";

/**
 * DESIGN.md: a user may see exactly the records whose org-unit code starts with
 * their own (county 6 digits ⊃ township 9 ⊃ village 12).
 */
export function withinJurisdiction(principal: Pick<Principal, "orgUnit">, orgUnitCode: string): boolean {
  return contains(principal.orgUnit, orgUnitCode);
}

export function assertWithinJurisdiction(principal: Pick<Principal, "orgUnit">, orgUnitCode: string): void {
  if (!withinJurisdiction(principal, orgUnitCode)) throw new ForbiddenError(`无权访问该地区的记录：${orgUnitCode}`);
}

/**
 * The org unit a query covers: the caller's own, a narrower one inside it, or —
 * asked for a wider one above it — still the caller's own; 403 elsewhere.
 */
export function scopeOf(principal: Pick<Principal, "orgUnit">, requested: string | undefined): string {
  if (!requested || contains(requested, principal.orgUnit)) return principal.orgUnit;
  assertWithinJurisdiction(principal, requested);
  return requested;
}
