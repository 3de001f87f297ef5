import { OperationalRole, Role, type Actor, orgLevel } from "@shouhu/contracts";
import { ForbiddenError } from "@shouhu/kit";

/** Who is calling, as the token says: the basis of every permission and jurisdiction check. */
export interface Principal {
  /** `sub`: the Keycloak user id (for a service account, its user's id). */
  userId: string;
  username: string;
  /** Display name, Chinese order (family name first). */
  name: string;
  /** Only the application roles (contracts `Role`); default-roles-shouhu etc. are dropped. */
  roles: Role[];
  /** Administrative-division code; the user sees records whose code starts with it. */
  orgUnit: string;
  /** Teachers: the school whose children they see. */
  schoolCode: string | null;
  /** The client the token was issued to (`azp`). */
  clientId: string;
  /** The raw bearer token, so a gateway can forward it and services validate it again. */
  token: string;
}

const CJK = /[\u3400-\u9fff]/;

export function rolesFromClaims(claims: Record<string, unknown>): Role[] {
  const realmAccess = claims.realm_access as { roles?: unknown } | undefined;
  const roles: unknown[] = Array.isArray(realmAccess?.roles) ? realmAccess.roles : [];
  return roles.filter((r): r is Role => Role.safeParse(r).success);
}

/** One base64url JSON part of a JWT as an object, or null when it is not one. */
export function decodeJwtPart(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The claims of a principal's token, already verified (for claims `Principal` does not carry: `exp`, operational roles). */
export function tokenClaims(principal: Pick<Principal, "token">): Record<string, unknown> {
  return decodeJwtPart(principal.token.split(".")[1] ?? "") ?? {};
}

/**
 * The operational realm roles (contracts `OperationalRole`, e.g. `ops`) of a principal whose
 * token has been verified: read from the token's own claims, so `Principal.roles` keeps only
 * the application roles every need-to-know rule is written against.
 */
export function operationalRoles(principal: Pick<Principal, "token">): OperationalRole[] {
  const realmAccess = tokenClaims(principal).realm_access as { roles?: unknown } | undefined;
  const roles: unknown[] = Array.isArray(realmAccess?.roles) ? realmAccess.roles : [];
  return roles.filter((r): r is OperationalRole => OperationalRole.safeParse(r).success);
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v.length > 0 ? v : undefined);

/**
 * Keycloak's full-name mapper writes `name` as "given family" ("丽 王");
 * staff expect "王丽", so Chinese names are rebuilt from family_name + given_name.
 */
function displayName(claims: Record<string, unknown>): string {
  const given = str(claims.given_name);
  const family = str(claims.family_name);
  if (given && family && CJK.test(given + family)) return family + given;
  return str(claims.name) ?? str(claims.preferred_username) ?? "";
}

/** The principal of validated claims, or null when the token has no usable `org_unit`. */
export function principalFromClaims(claims: Record<string, unknown>, token: string): Principal | null {
  const orgUnit = str(claims.org_unit);
  if (!orgUnit || orgLevel(orgUnit) === null) return null;
  return {
    userId: str(claims.sub) ?? "",
    username: str(claims.preferred_username) ?? "",
    name: displayName(claims),
    roles: rolesFromClaims(claims),
    orgUnit,
    schoolCode: str(claims.school_code) ?? null,
    clientId: str(claims.azp) ?? "",
    token,
  };
}

export function hasAnyRole(principal: Pick<Principal, "roles">, roles: readonly Role[]): boolean {
  return principal.roles.some((r) => roles.includes(r));
}

/** 403 unless the caller has one of the roles; `what` completes "当前角色无权…" for staff. */
export function requireRole(principal: Principal, roles: readonly Role[], what: string): void {
  if (!hasAnyRole(principal, roles)) throw new ForbiddenError(`当前角色无权${what}`);
}

/** The caller as the actor of an event they cause. */
export function actorOf(principal: Principal): Actor {
  return { kind: "user", id: principal.userId, name: principal.name, role: principal.roles[0] };
}
