import type { Actor, Role } from "@shouhu/contracts";
import { actorOf, hasAnyRole, scopeOf, type Principal } from "@shouhu/auth";
import type { SiteScope } from "./data/homes.js";

/** 留守儿童之家: who keeps sites and records their sessions (their own village, township or school; the county all). */
export const siteKeepers: Role[] = ["county-admin", "federation-officer", "township-supervisor", "village-director", "teacher"];
/** Who reads sites: the keepers and inspectors (no written summaries for inspectors: need-to-know "visitRecords" summary). */
export const siteReaders: Role[] = [...siteKeepers, "inspector"];
/** Who sets a safety-education campaign: the county and the townships. */
export const campaignSetters: Role[] = ["county-admin", "federation-officer", "township-supervisor"];
/** Who records children reached: the schools and villages (and those above them); they also see the children's names. */
export const reachRecorders: Role[] = [...siteKeepers];
export const campaignReaders: Role[] = [...siteKeepers, "inspector"];

/** Who did something, as history rows and events name them. */
export interface Staff {
  userId: string;
  name: string;
  actor: Actor;
}

export function staffOf(principal: Principal): Staff {
  return { userId: principal.userId, name: principal.name || principal.username, actor: actorOf(principal) };
}

/** A teacher who is not also a case worker or inspector keeps and sees only their own school's site and children. */
export function teacherSchool(principal: Principal): string | null {
  const broader = hasAnyRole(principal, ["county-admin", "federation-officer", "township-supervisor", "village-director", "inspector"]);
  return !broader && hasAnyRole(principal, ["teacher"]) ? (principal.schoolCode ?? "-") : null;
}

/** Where the caller looks for sites: their org unit (or a part of it they asked for), a teacher only their own school's. */
export function scopeFor(principal: Principal, requested?: string): SiteScope {
  return { orgUnit: scopeOf(principal, requested), schoolId: teacherSchool(principal) };
}
