import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import type { KeySet } from "./keys.js";
import { effectiveRoles, mappedClaims, type RealmClient, type RealmExport, type RealmUser } from "./realm.js";

export interface IssueOptions {
  /** Seconds; defaults to the realm's accessTokenLifespan. */
  lifespan?: number;
  /** Explicit claim overrides, for tests that need bad tokens (expired, wrong iss …). */
  overrides?: Record<string, unknown>;
  now?: number;
}

/** An access token with Keycloak's shape (claims as Keycloak 26 puts them). */
export async function issueAccessToken(
  realm: RealmExport,
  keys: KeySet,
  issuer: string,
  client: RealmClient,
  user: RealmUser,
  options: IssueOptions = {},
): Promise<{ token: string; expiresIn: number }> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const expiresIn = options.lifespan ?? realm.accessTokenLifespan ?? 300;
  const { claims, audiences } = mappedClaims(client, user);
  const sid = randomUUID();
  const name = [user.lastName, user.firstName].filter(Boolean).join("");
  const payload: Record<string, unknown> = {
    exp: now + expiresIn,
    iat: now,
    jti: `onrtro:${randomUUID()}`,
    iss: issuer,
    aud: audiences.length === 1 ? audiences[0] : audiences,
    sub: user.id,
    typ: "Bearer",
    azp: client.clientId,
    sid,
    acr: "1",
    "allowed-origins": ["+"],
    realm_access: { roles: effectiveRoles(realm, user) },
    scope: "openid profile email",
    email_verified: user.emailVerified ?? false,
    preferred_username: user.username,
    ...(name ? { name, given_name: user.firstName, family_name: user.lastName } : {}),
    ...(user.email ? { email: user.email } : {}),
    ...(user.serviceAccountClientId ? { client_id: user.serviceAccountClientId } : {}),
    ...claims,
    ...options.overrides,
  };
  const token = await new SignJWT(payload).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: keys.signing.kid }).sign(keys.signing.privateKey);
  return { token, expiresIn };
}
