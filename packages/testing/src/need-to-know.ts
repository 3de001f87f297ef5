import { createHash } from "node:crypto";
import { Role } from "@shouhu/contracts";

/**
 * The generated need-to-know tests' callers (registry, visits, pairing): one per role
 * inside the demo child's jurisdiction (长岭乡长岭村, 长岭乡中心小学) and one outside it, with
 * tokens shaped as Keycloak gives them. One table, so every service is tried by the same
 * people; a service may adjust a row (pairing: a teacher's boundary is their school).
 */
export interface Place {
  inside: string;
  outside: string;
  /** A teacher's school inside and outside. */
  school?: [string, string];
}

export const places: Record<Role, Place> = {
  "county-admin": { inside: "360999", outside: "360888" },
  "federation-officer": { inside: "360999", outside: "360888" },
  "township-supervisor": { inside: "360999101", outside: "360999102" },
  "village-director": { inside: "360999101201", outside: "360999101202" },
  teacher: { inside: "360999101", outside: "360999102", school: ["S360999101001", "S360999102001"] },
  "health-worker": { inside: "360999101", outside: "360999102" },
  inspector: { inside: "360999", outside: "360888" },
};

export interface RoleCase {
  role: Role;
  where: "inside" | "outside";
  /** A teacher paired with the child (only with `pairedTeacher`). */
  paired: boolean;
  username: string;
}

/** Every role inside and outside; with `pairedTeacher`, also a teacher paired with the child. */
export function roleCases(options: { pairedTeacher?: boolean } = {}): RoleCase[] {
  return Role.options.flatMap((role) => [
    { role, where: "inside" as const, paired: false, username: `ntk.${role}.in` },
    { role, where: "outside" as const, paired: false, username: `ntk.${role}.out` },
    ...(options.pairedTeacher && role === "teacher" ? [{ role, where: "inside" as const, paired: true, username: "ntk.teacher.paired" }] : []),
  ]);
}

/** A stable subject per login, as Keycloak gives (records remember who wrote them by it). */
export function stableSub(username: string): string {
  const h = createHash("sha256").update(username).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

interface TokenIssuer {
  issueToken(username: string, clientId: string, options: { issuer: string; overrides: Record<string, unknown> }): Promise<string>;
}

/** Authorization headers for a case: the role, org unit (and school) of its place, a stable subject. */
export async function roleHeaders(
  issuer: TokenIssuer,
  issuerUrl: string,
  c: RoleCase,
  table: Record<Role, Place> = places,
): Promise<{ authorization: string }> {
  const p = table[c.role];
  const token = await issuer.issueToken("changling.teacher", "shouhu-web", {
    issuer: issuerUrl,
    overrides: {
      realm_access: { roles: [c.role] },
      org_unit: c.where === "inside" ? p.inside : p.outside,
      school_code: p.school ? (c.where === "inside" ? p.school[0] : p.school[1]) : undefined,
      preferred_username: c.username,
      sub: stableSub(c.username),
    },
  });
  return { authorization: `Bearer ${token}` };
}
