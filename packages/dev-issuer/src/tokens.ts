import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import type { KeySet } from "./keys.js";
import { clientScopes, effectiveRoles, findClient, findUser, mappedClaims, type RealmClient, type RealmExport, type RealmUser } from "./realm.js";

export type Grant = "password" | "client_credentials" | "authorization_code" | "refresh_token";

/**
 * Knobs for tests. Every default yields a valid token; a bad token (expired,
 * wrong issuer, foreign key, missing claim) only comes from setting one of these.
 */
export interface IssueOptions {
  /** Lifetime in seconds (negative: already expired). Default: the realm's accessTokenLifespan. */
  expiresIn?: number;
  /** `iat` in epoch seconds. Default: now. */
  now?: number;
  /** Claims to set or, with `undefined`, remove (wrong `iss`, `aud`, no `org_unit` …). */
  overrides?: Record<string, unknown>;
  /** Scopes the client asked for; "openid" is added to `scope` only when asked, as Keycloak does. */
  scope?: string;
  /** Default: client_credentials for a service-account user, else password. */
  grant?: Grant;
  /** The user session (`sid`, `session_state`). Default: a fresh id. */
  sid?: string;
}

// Keycloak 26 prefixes jti by session type and grant.
const JTI_PREFIX: Record<Grant, string> = {
  password: "onrtro",
  client_credentials: "trrtcc",
  authorization_code: "onrtac",
  refresh_token: "onrtrt",
};

/** An access token with Keycloak 26's header and claims, built from the realm export. */
export async function issueAccessToken(
  realm: RealmExport,
  keys: KeySet,
  issuer: string,
  client: RealmClient,
  user: RealmUser,
  options: IssueOptions = {},
): Promise<{ token: string; expiresIn: number; scope: string; sid: string }> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const expiresIn = options.expiresIn ?? realm.accessTokenLifespan ?? 300;
  const grant = options.grant ?? (user.serviceAccountClientId ? "client_credentials" : "password");
  const { claims, audiences } = mappedClaims(client, user);
  // Claims come from the client's default scopes, as Keycloak's built-in scopes write them:
  // basic → sub, roles → realm_access, profile → names, email → email, acr → acr.
  const scopes = new Set(clientScopes(client));
  const has = (s: string) => scopes.has(s);
  // Only profile and email are "include.in.token.scope" among the built-ins.
  const scope = [...(options.scope?.split(" ").includes("openid") ? ["openid"] : []), ...["profile", "email"].filter(has)].join(" ");
  const sid = options.sid ?? randomUUID();
  const profile = has("profile");
  const payload: Record<string, unknown> = {
    exp: now + expiresIn,
    iat: now,
    jti: `${JTI_PREFIX[grant]}:${randomUUID()}`,
    iss: issuer,
    aud: audiences.length === 1 ? audiences[0] : audiences,
    ...(has("basic") ? { sub: user.id } : {}),
    typ: "Bearer",
    azp: client.clientId,
    sid,
    ...(has("acr") ? { acr: "1" } : {}),
    ...(has("web-origins") && client.webOrigins?.length ? { "allowed-origins": client.webOrigins } : {}),
    ...(has("roles") ? { realm_access: { roles: effectiveRoles(realm, user) } } : {}),
    scope,
    ...(has("email") ? { email_verified: user.emailVerified ?? false, ...(user.email ? { email: user.email } : {}) } : {}),
    // Keycloak's full-name mapper: "first last", each only when set.
    ...(profile && (user.firstName || user.lastName) ? { name: [user.firstName, user.lastName].filter(Boolean).join(" ") } : {}),
    ...(profile ? { preferred_username: user.username } : {}),
    ...(profile && user.firstName ? { given_name: user.firstName } : {}),
    ...(profile && user.lastName ? { family_name: user.lastName } : {}),
    ...(user.serviceAccountClientId ? { client_id: user.serviceAccountClientId } : {}),
    ...claims,
    ...options.overrides,
  };
  const signing = keys.signing;
  const token = await new SignJWT(payload).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: signing.kid }).sign(signing.privateKey);
  return { token, expiresIn, scope, sid };
}

export interface MintOptions extends IssueOptions {
  realm: RealmExport;
  keys: KeySet;
  /** The realm URL to put in `iss`, e.g. http://127.0.0.1:8081/realms/shouhu. */
  issuer: string;
  /** A username, or a service-account client id (its service-account user is used). */
  username: string;
  /** Default: the service account's own client, else shouhu-web. */
  clientId?: string;
}

/** Mints an access token without the HTTP endpoint (tests, scripts). */
export async function issueToken(options: MintOptions): Promise<string> {
  const { realm, keys, issuer, username, ...rest } = options;
  const user = findUser(realm, username) ?? realm.users?.find((u) => u.serviceAccountClientId === username);
  const clientId = options.clientId ?? user?.serviceAccountClientId ?? "shouhu-web";
  const client = findClient(realm, clientId);
  if (!user) throw new Error(`dev-issuer: no user ${username} in realm ${realm.realm}`);
  if (!client) throw new Error(`dev-issuer: no client ${clientId} in realm ${realm.realm}`);
  return (await issueAccessToken(realm, keys, issuer, client, user, rest)).token;
}

/** Keycloak's ID token: profile and mapper claims for the client, `nonce` and `sid`, audience the client. */
export async function issueIdToken(
  realm: RealmExport,
  keys: KeySet,
  issuer: string,
  client: RealmClient,
  user: RealmUser,
  options: { sid: string; nonce?: string; now?: number; /** When the user typed the password (epoch s); default now. */ authTime?: number },
): Promise<string> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const scopes = new Set(clientScopes(client));
  const profile = scopes.has("profile");
  const claims: Record<string, unknown> = {};
  for (const mapper of client.protocolMappers ?? []) {
    if (mapper.protocolMapper !== "oidc-usermodel-attribute-mapper" || mapper.config["id.token.claim"] !== "true") continue;
    const value = user.attributes?.[mapper.config["user.attribute"] ?? ""]?.[0];
    if (value !== undefined) claims[mapper.config["claim.name"] ?? mapper.name] = value;
  }
  const payload: Record<string, unknown> = {
    exp: now + (realm.accessTokenLifespan ?? 300),
    iat: now,
    auth_time: options.authTime ?? now,
    jti: `${randomUUID()}`,
    iss: issuer,
    aud: client.clientId,
    sub: user.id,
    typ: "ID",
    azp: client.clientId,
    ...(options.nonce ? { nonce: options.nonce } : {}),
    sid: options.sid,
    acr: "1",
    ...(scopes.has("email") ? { email_verified: user.emailVerified ?? false, ...(user.email ? { email: user.email } : {}) } : {}),
    ...(profile && (user.firstName || user.lastName) ? { name: [user.firstName, user.lastName].filter(Boolean).join(" ") } : {}),
    ...(profile ? { preferred_username: user.username } : {}),
    ...(profile && user.firstName ? { given_name: user.firstName } : {}),
    ...(profile && user.lastName ? { family_name: user.lastName } : {}),
    ...claims,
  };
  return new SignJWT(payload).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: keys.signing.kid }).sign(keys.signing.privateKey);
}

/**
 * Keycloak's refresh token (typ "Refresh", audience the realm). Keycloak signs it with
 * HS512; here with the realm's RS256 key, which only this issuer ever reads.
 */
export async function issueRefreshToken(
  realm: RealmExport,
  keys: KeySet,
  issuer: string,
  client: RealmClient,
  user: RealmUser,
  options: { sid: string; scope: string; nonce?: string; now?: number; /** Default: the realm's ssoSessionIdleTimeout. */ expiresIn?: number },
): Promise<{ token: string; expiresIn: number }> {
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const expiresIn = options.expiresIn ?? realm.ssoSessionIdleTimeout ?? 1800;
  const payload = {
    exp: now + expiresIn,
    iat: now,
    jti: randomUUID(),
    iss: issuer,
    aud: issuer,
    sub: user.id,
    typ: "Refresh",
    azp: client.clientId,
    sid: options.sid,
    scope: options.scope,
    ...(options.nonce ? { nonce: options.nonce } : {}),
  };
  const token = await new SignJWT(payload).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: keys.signing.kid }).sign(keys.signing.privateKey);
  return { token, expiresIn };
}
