import { createHash, timingSafeEqual } from "node:crypto";
import { compactVerify, createLocalJWKSet } from "jose";
import type { KeySet } from "./keys.js";
import type { RealmClient, RealmExport, RealmUser } from "./realm.js";
import type { SessionStore, UserSession } from "./sessions.js";

export type GrantResult =
  { ok: true; user: RealmUser; session: UserSession; scope?: string; nonce?: string } | { ok: false; error: string; description: string };

interface GrantContext {
  realm: RealmExport;
  sessions: SessionStore;
}

const refuse = (description: string, error = "invalid_grant"): GrantResult => ({ ok: false, error, description });

function s256(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The session's user if the session is alive and the user may still sign in; Keycloak's words otherwise. */
function sessionUser(ctx: GrantContext, session: UserSession | undefined): { user: RealmUser } | { problem: string } {
  if (!session) return { problem: "Session not active" };
  const user = ctx.realm.users?.find((u) => u.id === session.userId);
  if (!user) return { problem: "User not found" };
  if (user.enabled === false) return { problem: "User disabled" };
  return { user };
}

/** grant_type=authorization_code: single use, short-lived, bound to client and redirect_uri, PKCE checked (Keycloak's wording). */
export function redeemCode(ctx: GrantContext, client: RealmClient, form: Record<string, string>): GrantResult {
  if (!form.code) return refuse("Missing parameter: code", "invalid_request");
  const taken = ctx.sessions.takeCode(form.code);
  if (taken && "reused" in taken) {
    // A replayed code may be a stolen one: what the first use got stops refreshing (RFC 6749 §4.1.2).
    ctx.sessions.detachClient(taken.reused.sessionId, taken.reused.clientId);
    return refuse("Code not valid");
  }
  if (!taken) return refuse("Code not valid");
  if ("expired" in taken) return refuse("Code is expired");
  const grant = taken.grant;
  if (grant.clientId !== client.clientId) return refuse("Code not valid");
  const session = ctx.sessions.get(grant.sessionId);
  const found = sessionUser(ctx, session);
  if ("problem" in found) return refuse(found.problem);
  if (grant.redirectUri !== form.redirect_uri) return refuse("Incorrect redirect_uri");
  if (grant.codeChallenge !== undefined) {
    const verifier = form.code_verifier;
    if (!verifier) return refuse("PKCE code verifier not specified");
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier)) return refuse("PKCE invalid code verifier");
    if (!sameString(s256(verifier), grant.codeChallenge)) return refuse("PKCE verification failed: Invalid code verifier");
  }
  ctx.sessions.touch(session!);
  return { ok: true, user: found.user, session: session!, ...(grant.scope ? { scope: grant.scope } : {}), ...(grant.nonce ? { nonce: grant.nonce } : {}) };
}

/** grant_type=refresh_token: this issuer's token, same client, live session holding the client, enabled user. */
export async function redeemRefresh(
  ctx: GrantContext & { keys: KeySet; issuer: string },
  client: RealmClient,
  form: Record<string, string>,
): Promise<GrantResult> {
  if (!form.refresh_token) return refuse("Missing parameter: refresh_token", "invalid_request");
  let claims: Record<string, unknown>;
  try {
    const { payload } = await compactVerify(form.refresh_token, createLocalJWKSet(ctx.keys.jwks()));
    claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
  } catch {
    return refuse("Invalid refresh token");
  }
  if (claims.typ !== "Refresh" || claims.iss !== ctx.issuer) return refuse("Invalid refresh token");
  if (typeof claims.exp !== "number" || claims.exp * 1000 < Date.now()) return refuse("Token is not active");
  if (claims.azp !== client.clientId) return refuse("Invalid refresh token. Token client and authorized client don't match");
  const session = ctx.sessions.get(typeof claims.sid === "string" ? claims.sid : undefined);
  const found = sessionUser(ctx, session);
  if ("problem" in found) return refuse(found.problem);
  if (found.user.id !== claims.sub) return refuse("Invalid refresh token");
  if (!session!.clients.has(client.clientId)) return refuse("Session doesn't have required client");
  ctx.sessions.touch(session!);
  return {
    ok: true,
    user: found.user,
    session: session!,
    ...(typeof claims.scope === "string" ? { scope: claims.scope } : {}),
    ...(typeof claims.nonce === "string" ? { nonce: claims.nonce } : {}),
  };
}
