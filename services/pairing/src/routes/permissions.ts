import type { Role } from "@shouhu/contracts";
import { hasAnyRole, type Principal } from "@shouhu/auth";

/** Who registers and maintains helpers: the people who organise pairing in their area. */
export const helperKeepers: Role[] = ["county-admin", "federation-officer", "township-supervisor", "village-director"];
/** Who approves, rejects and ends pairings (DESIGN.md: the township supervisor; county admins above them). */
export const approvers: Role[] = ["county-admin", "township-supervisor"];
/** Who may start a matching run on demand. */
export const matchers: Role[] = ["county-admin", "federation-officer", "township-supervisor"];

/** Teachers see their school's children and the children paired to them (DESIGN.md). */
export function teacherOnly(principal: Principal): { schoolId: string | null; username: string } | null {
  const caseWorker = hasAnyRole(principal, ["county-admin", "federation-officer", "township-supervisor", "village-director", "inspector", "health-worker"]);
  return !caseWorker && hasAnyRole(principal, ["teacher"]) ? { schoolId: principal.schoolCode, username: principal.username } : null;
}
