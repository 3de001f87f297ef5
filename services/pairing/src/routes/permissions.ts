import type { Actor, Role } from "@shouhu/contracts";
import { ForbiddenError } from "@shouhu/kit";
import { assertWithinJurisdiction, hasAnyRole, type Principal } from "@shouhu/auth";

/** Who registers and maintains helpers: the people who organise pairing in their area. */
export const helperKeepers: Role[] = ["county-admin", "federation-officer", "township-supervisor", "village-director"];
/** Who approves, rejects and ends pairings (DESIGN.md: the township supervisor; county admins above them). */
export const approvers: Role[] = ["county-admin", "township-supervisor"];
/** Who may start a matching run on demand. */
export const matchers: Role[] = ["county-admin", "federation-officer", "township-supervisor"];

export function requireRole(principal: Principal, roles: Role[], what: string): void {
  if (!hasAnyRole(principal, roles)) throw new ForbiddenError(`当前角色无权${what}`);
}

/**
 * The org unit a query covers: the caller's own, a narrower one inside it, or
 * — asked for a wider one above it — still the caller's own; 403 elsewhere.
 */
export function scopeOf(principal: Principal, requested: string | undefined): string {
  if (!requested || principal.orgUnit.startsWith(requested)) return principal.orgUnit;
  assertWithinJurisdiction(principal, requested);
  return requested;
}

export function actorOf(principal: Principal): Actor {
  return { kind: "user", id: principal.userId, name: principal.name, role: principal.roles[0] };
}

/** Teachers see their school's children and the children paired to them (DESIGN.md). */
export function teacherOnly(principal: Principal): { schoolId: string | null; username: string } | null {
  const caseWorker = hasAnyRole(principal, ["county-admin", "federation-officer", "township-supervisor", "village-director", "inspector", "health-worker"]);
  return !caseWorker && hasAnyRole(principal, ["teacher"]) ? { schoolId: principal.schoolCode, username: principal.username } : null;
}
