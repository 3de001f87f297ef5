import { orgLevel, type OrgLevel, type Role } from "@shouhu/contracts";
import type { Principal } from "./principal.js";

/**
 * Role ranking for staff accounts: who may create and edit whom. An administrator assigns only
 * roles ranked strictly below their own, and only county admins manage accounts at all.
 */
export const ROLE_RANK: Record<Role, number> = {
  "county-admin": 4,
  "federation-officer": 3,
  inspector: 3,
  "township-supervisor": 2,
  "village-director": 1,
  teacher: 1,
  "health-worker": 1,
};

/** The org-unit levels an account of each role belongs to (DESIGN.md: whose records it sees). */
export const ROLE_LEVELS: Record<Role, OrgLevel[]> = {
  "county-admin": ["county"],
  "federation-officer": ["county", "township"],
  inspector: ["county", "township"],
  "township-supervisor": ["township"],
  "village-director": ["village"],
  teacher: ["township"],
  "health-worker": ["township"],
};

/** Roles allowed to manage staff accounts. */
export const ACCOUNT_MANAGERS: readonly Role[] = ["county-admin"];

/** The caller's highest rank (0 without an application role). */
export function rankOf(principal: Pick<Principal, "roles">): number {
  return Math.max(0, ...principal.roles.map((r) => ROLE_RANK[r]));
}

/** The roles the caller may give an account: strictly below their own. */
export function assignableRoles(principal: Pick<Principal, "roles">): Role[] {
  const own = rankOf(principal);
  return (Object.keys(ROLE_RANK) as Role[]).filter((r) => ROLE_RANK[r] < own);
}

/** Whether a role fits an org unit's level (a village director belongs to a village). */
export function roleFitsOrgUnit(role: Role, orgUnit: string): boolean {
  const level = orgLevel(orgUnit);
  return level !== null && ROLE_LEVELS[role].includes(level);
}
