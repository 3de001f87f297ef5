import type { Role } from "@shouhu/contracts";
import { actorOf, type Principal } from "@shouhu/auth";
import type { Visitor } from "../data/records.js";

/** Who writes visit records: the people who visit. Inspectors and health workers read only. */
export const recorders: Role[] = ["county-admin", "federation-officer", "township-supervisor", "village-director", "teacher"];
/** Who works concern cases. */
export const caseWorkers: Role[] = ["county-admin", "federation-officer", "township-supervisor", "village-director"];
/** Who hands a case to a named case worker (the township's supervisor and the county above it). */
export const assigners: Role[] = ["county-admin", "federation-officer", "township-supervisor"];

export function visitorOf(principal: Principal): Visitor {
  return { userId: principal.userId, name: principal.name || principal.username, actor: actorOf(principal) };
}
