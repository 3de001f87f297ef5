import type { Role } from "@shouhu/contracts";
import { ForbiddenError } from "@shouhu/kit";
import type { Principal } from "@shouhu/auth";
import { contains } from "@shouhu/contracts";

/** Who may create or change child records: the people who keep the register. */
export const registrars: Role[] = ["county-admin", "federation-officer", "township-supervisor", "village-director"];
/** Who may bulk-import or export registers. */
export const registerKeepers: Role[] = ["county-admin", "federation-officer", "township-supervisor"];

/** Writes are only allowed inside the writer's own org unit. */
export function requireWithin(principal: Principal, villageCode: string): void {
  if (!contains(principal.orgUnit, villageCode)) throw new ForbiddenError(`无权在该地区建档或修改：${villageCode}`);
}
