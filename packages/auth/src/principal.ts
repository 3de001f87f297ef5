import { Role } from "@shouhu/contracts";

/** Who is calling, as the token says: the basis of every permission and jurisdiction check. */
export interface Principal {
  userId: string;
  username: string;
  name: string;
  roles: Role[];
  /** Administrative-division code; the user sees records whose code starts with it. */
  orgUnit: string;
  /** Teachers: the school whose children they see. */
  schoolCode: string | null;
  /** The client the token was issued to (azp). */
  clientId: string;
  token: string;
}

export function rolesFromClaims(claims: Record<string, unknown>): Role[] {
  const realmAccess = claims.realm_access as { roles?: unknown } | undefined;
  const roles = Array.isArray(realmAccess?.roles) ? realmAccess.roles : [];
  return roles.filter((r): r is Role => Role.safeParse(r).success);
}

export function hasAnyRole(principal: Principal, roles: readonly Role[]): boolean {
  return principal.roles.some((r) => roles.includes(r));
}
