import type { Role } from "@shouhu/contracts";
import { ForbiddenError } from "@shouhu/kit";
import type { Principal } from "@shouhu/auth";
import { contains, orgLevel } from "@shouhu/contracts";
import { requireRole } from "@shouhu/auth";

/** Who may create or change child records: the people who keep the register. */
export const registrars: Role[] = ["county-admin", "federation-officer", "township-supervisor", "village-director"];
/** Who may bulk-import or export registers. */
export const registerKeepers: Role[] = ["county-admin", "federation-officer", "township-supervisor"];

/**
 * Who may re-import a register and see and confirm its preview: the roles that see a child's
 * file in full (the preview shows ID numbers, phones and notes old → new), in their own unit.
 */
export const reimporters: Role[] = ["county-admin", "township-supervisor"];

/** Writes are only allowed inside the writer's own org unit. */
export function requireWithin(principal: Principal, villageCode: string): void {
  if (!contains(principal.orgUnit, villageCode)) throw new ForbiddenError(`无权在该地区建档或修改：${villageCode}`);
}

/** Who keeps the county's org units and schools: county admins, in their own county. */
export const orgKeepers: Role[] = ["county-admin"];

/** A county admin acting on a unit or school of their own county; anyone else is refused. */
export function requireCountyKeeper(principal: Principal, code: string | null, what: string): string {
  requireRole(principal, orgKeepers, what);
  if (orgLevel(principal.orgUnit) !== "county") throw new ForbiddenError(`只有县级管理员可以${what}`);
  if (code !== null && !contains(principal.orgUnit, code)) throw new ForbiddenError(`无权${what}：${code} 不在本县`);
  return principal.orgUnit;
}
