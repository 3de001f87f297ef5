import { ForbiddenError } from "@shouhu/kit";
import { actorOf, hasAnyRole, type Principal } from "@shouhu/auth";
import type { Role } from "@shouhu/contracts";
import type { Recorder } from "./data/exams.js";

/** Health workers (卫生院) record exams; case workers read them; inspectors see aggregates only. */
export const examiners = ["health-worker", "county-admin"] as const satisfies readonly Role[];
export const organisers = ["health-worker", "county-admin", "township-supervisor"] as const satisfies readonly Role[];
export const readers = ["health-worker", "county-admin", "federation-officer", "township-supervisor", "village-director"] as const satisfies readonly Role[];
export const referrers = [...examiners, "township-supervisor", "village-director"] as const satisfies readonly Role[];

/** 403 unless the caller holds one of the roles; `what` completes "当前角色无权…". */
export function requireRole(principal: Principal, roles: readonly Role[], what: string): void {
  if (!hasAnyRole(principal, roles)) throw new ForbiddenError(`当前角色无权${what}`);
}

export function recorderOf(principal: Principal): Recorder {
  return { username: principal.username, name: principal.name || principal.username, orgUnit: principal.orgUnit, actor: actorOf(principal) };
}
