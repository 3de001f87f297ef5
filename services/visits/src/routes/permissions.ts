import type { Actor, Role } from "@shouhu/contracts";
import { ForbiddenError } from "@shouhu/kit";
import { assertWithinJurisdiction, hasAnyRole, type Principal } from "@shouhu/auth";
import type { Visitor } from "../data/records.js";

/** Who writes visit records: the people who visit. Inspectors and health workers read only. */
export const recorders: Role[] = ["county-admin", "federation-officer", "township-supervisor", "village-director", "teacher"];
/** Who works concern cases. */
export const caseWorkers: Role[] = ["county-admin", "federation-officer", "township-supervisor", "village-director"];

export function requireRole(principal: Principal, roles: Role[], what: string): void {
  if (!hasAnyRole(principal, roles)) throw new ForbiddenError(`当前角色无权${what}`);
}

/** A query's org unit: the caller's own, a narrower one inside it, or (asked for a wider one) still their own. */
export function scopeOf(principal: Principal, requested: string | undefined): string {
  if (!requested || principal.orgUnit.startsWith(requested)) return principal.orgUnit;
  assertWithinJurisdiction(principal, requested);
  return requested;
}

export function visitorOf(principal: Principal): Visitor {
  const actor: Actor = { kind: "user", id: principal.userId, name: principal.name, role: principal.roles[0] };
  return { userId: principal.userId, name: principal.name || principal.username, actor };
}
