import type { Role } from "@shouhu/contracts";
import { actorOf, type Principal } from "@shouhu/auth";
import type { Visitor } from "../data/records.js";

/** Who writes visit records: the people who visit. Inspectors and health workers read only. */
export const recorders: Role[] = ["county-admin", "federation-officer", "township-supervisor", "village-director", "teacher"];
/** Who works concern cases. */
export const caseWorkers: Role[] = ["county-admin", "federation-officer", "township-supervisor", "village-director"];

export function visitorOf(principal: Principal): Visitor {
  return { userId: principal.userId, name: principal.name || principal.username, actor: actorOf(principal) };
}
