import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { compactVerify, createLocalJWKSet } from "jose";
import type { KeySet } from "./keys.js";
import { findClient, type RealmClient, type RealmExport, type RealmUser } from "./realm.js";
import type { BruteForceDetector } from "./brute-force.js";
import type { AuthRequest, SessionStore } from "./sessions.js";
import { errorPage, loggedOutPage, loginPage, PAGE_CSP } from "./login-page.js";

export const SESSION_COOKIE = "KEYCLOAK_SESSION";

/** Keycloak's redirect URI match: exact, or a trailing `*` matches any suffix. */
export function redirectUriAllowed(allowed: readonly string[] | undefined, uri: string | undefined): boolean {
  if (!uri) return false;
  try {
    new URL(uri);
  } catch {
    return false;
  }
  // Keycloak compares without the query string and fragment only for wildcard entries.
  const bare = uri.split("#")[0]!;
  return (allowed ?? []).some((pattern) => (pattern.endsWith("*") ? bare.startsWith(pattern.slice(0, -1)) : pattern === bare));
}

/** Origins a client's web origins allow: "+" stands for the origins of its redirect URIs. */
export function clientOrigins(client: RealmClient): string[] {
  const out = new Set<string>();
  for (const origin of client.webOrigins ?? []) {
    if (origin === "+") {
      for (const uri of client.redirectUris ?? []) {
        const m = /^(https?:\/\/[^/]+)/.exec(uri);
        // A wildcard inside the authority ("http://localhost:*") names no single origin.
        if (m && !m[1]!.includes("*")) out.add(m[1]!);
      }
    } else out.add(origin);
  }
  return [...out];
}

/** Post-logout redirect URIs: the client attribute, "+" meaning its redirect URIs (Keycloak 26). */
function postLogoutUris(client: RealmClient): string[] {
  const attr = client.attributes?.["post.logout.redirect.uris"];
  if (!attr) return [];
  return attr.split("##").flatMap((u) => (u === "+" ? (client.redirectUris ?? []) : [u]));
}

function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return decodeURIComponent(part.slice(at + 1).trim());
  }
  return undefined;
}

function withParams(uri: string, params: Record<string, string | undefined>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

export function s256(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface BrowserFlowContext {
  realm: RealmExport;
  keys: KeySet;
  base: string;
  sessions: SessionStore;
  bruteForce: BruteForceDetector;
  issuerFor(request: FastifyRequest): string;
  /** The user a login form's credentials name, or undefined. */
  checkPassword(username: string, password: string): RealmUser | undefined;
}

const html = (reply: FastifyReply, status: number, body: string) =>
  reply
    .status(status)
    .header("content-type", "text/html; charset=utf-8")
    .header("content-security-policy", PAGE_CSP)
    .header("x-frame-options", "DENY")
    .header("referrer-policy", "no-referrer")
    .header("cache-control", "no-store, must-revalidate, max-age=0")
    .send(body);

/** Browser login (authorization code + PKCE), login form and RP-initiated logout, as Keycloak 26 serves them. */
export function registerBrowserFlow(app: FastifyInstance, ctx: BrowserFlowContext): void {
  const { realm, base, sessions } = ctx;
  const cookiePath = `${base}/`;

  const setSessionCookie = (request: FastifyRequest, reply: FastifyReply, value: string, maxAge: number) => {
    const secure = request.protocol === "https" ? "; Secure" : "";
    reply.header("set-cookie", `${SESSION_COOKIE}=${value}; Path=${cookiePath}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure}`);
  };

  const finish = (request: FastifyRequest, reply: FastifyReply, auth: AuthRequest, sessionId: string) => {
    const code = sessions.issueCode(auth, sessionId);
    return reply
      .header("cache-control", "no-store")
      .redirect(withParams(auth.redirectUri, { state: auth.state, session_state: sessionId, iss: ctx.issuerFor(request), code }), 302);
  };

  const showLogin = (request: FastifyRequest, reply: FastifyReply, authSessionId: string, clientId: string, opts: { username?: string; error?: boolean } = {}) => {
    const action = `${ctx.issuerFor(request)}/login-actions/authenticate?${new URLSearchParams({ session_code: authSessionId, client_id: clientId })}`;
    return html(reply, 200, loginPage({ action, ...opts }));
  };

  app.get(`${base}/protocol/openid-connect/auth`, async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const client = q.client_id ? findClient(realm, q.client_id) : undefined;
    // Until the redirect URI is known good, errors go to a page, never to the given URI.
    if (!client || client.enabled === false || client.bearerOnly) return html(reply, 400, errorPage("未找到客户端。"));
    if (!redirectUriAllowed(client.redirectUris, q.redirect_uri)) return html(reply, 400, errorPage("无效的参数：redirect_uri"));
    const redirectUri = q.redirect_uri!;
    const fail = (error: string, description: string) =>
      reply.redirect(withParams(redirectUri, { error, error_description: description, state: q.state, iss: ctx.issuerFor(request) }), 302);
    if (q.response_type !== "code") return fail("unsupported_response_type", "Client is not allowed to initiate browser login with given response_type.");
    if (client.standardFlowEnabled === false) return fail("unauthorized_client", "Client is not allowed to initiate browser login with given response_type. Standard flow is disabled for the client.");
    const required = client.attributes?.["pkce.code.challenge.method"];
    if (!q.code_challenge && required) return fail("invalid_request", "Missing parameter: code_challenge_method");
    // Only S256 is offered: "plain" protects nothing against a stolen code.
    if (q.code_challenge && (q.code_challenge_method ?? "plain") !== "S256") return fail("invalid_request", "Invalid parameter: code_challenge_method");
    if (q.code_challenge && !/^[A-Za-z0-9_-]{43}$/.test(q.code_challenge)) return fail("invalid_request", "Invalid parameter: code_challenge");
    if (!q.code_challenge) return fail("invalid_request", "Missing parameter: code_challenge_method");

    const auth: AuthRequest = {
      clientId: client.clientId,
      redirectUri,
      codeChallenge: q.code_challenge,
      codeChallengeMethod: "S256",
      ...(q.state !== undefined ? { state: q.state } : {}),
      ...(q.nonce !== undefined ? { nonce: q.nonce } : {}),
      ...(q.scope !== undefined ? { scope: q.scope } : {}),
    };
    const prompts = (q.prompt ?? "").split(" ");
    const session = sessions.get(readCookie(request, SESSION_COOKIE));
    const user = session && realm.users?.find((u) => u.id === session.userId);
    if (session && user && user.enabled !== false && !prompts.includes("login")) {
      sessions.touch(session);
      return finish(request, reply, auth, session.id);
    }
    if (prompts.includes("none")) return fail("login_required", "Login required");
    return showLogin(request, reply, sessions.beginLogin(auth), client.clientId);
  });

  app.post(`${base}/login-actions/authenticate`, async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const form = (request.body && typeof request.body === "object" ? request.body : {}) as Record<string, string>;
    const auth = sessions.loginRequest(q.session_code);
    if (!auth) return html(reply, 400, errorPage("登录超时，请重新登录。"));
    const username = (form.username ?? "").trim().toLowerCase();
    const user = ctx.checkPassword(username, form.password ?? "");
    if (!user) return showLogin(request, reply, q.session_code!, auth.clientId, { username: form.username ?? "", error: true });
    sessions.finishLogin(q.session_code!);
    const session = sessions.start(user.id, user.username);
    setSessionCookie(request, reply, session.id, sessions.idleSeconds);
    return finish(request, reply, auth, session.id);
  });

  const jwks = () => createLocalJWKSet(ctx.keys.jwks());

  const logout = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = {
      ...(request.query as Record<string, string>),
      ...((request.body && typeof request.body === "object" ? request.body : {}) as Record<string, string>),
    };
    let hint: Record<string, unknown> | undefined;
    if (params.id_token_hint) {
      // An expired id_token_hint is still good for logout, as in Keycloak: signature only.
      try {
        const { payload } = await compactVerify(params.id_token_hint, jwks());
        hint = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
      } catch {
        return html(reply, 400, errorPage("无效的参数：id_token_hint"));
      }
    }
    const clientId = params.client_id ?? (typeof hint?.azp === "string" ? hint.azp : undefined);
    if (hint && params.client_id && hint.azp !== params.client_id) return html(reply, 400, errorPage("无效的参数：id_token_hint"));
    const client = clientId ? findClient(realm, clientId) : undefined;
    let redirect: string | undefined;
    if (params.post_logout_redirect_uri) {
      if (!client) return html(reply, 400, errorPage("缺少参数：id_token_hint"));
      if (!redirectUriAllowed(postLogoutUris(client), params.post_logout_redirect_uri)) return html(reply, 400, errorPage("无效的重定向 URI"));
      redirect = params.post_logout_redirect_uri;
    }
    sessions.end(typeof hint?.sid === "string" ? hint.sid : undefined);
    sessions.end(readCookie(request, SESSION_COOKIE));
    setSessionCookie(request, reply, "", 0);
    if (redirect) return reply.redirect(withParams(redirect, { state: params.state }), 302);
    return html(reply, 200, loggedOutPage());
  };
  app.get(`${base}/protocol/openid-connect/logout`, logout);
  app.post(`${base}/protocol/openid-connect/logout`, logout);
}

export type GrantResult = { ok: true; user: RealmUser; sid: string; scope?: string; nonce?: string } | { ok: false; error: string; description: string };

/** grant_type=authorization_code: code single use, bound to client and redirect_uri, PKCE checked. */
export function redeemCode(ctx: Pick<BrowserFlowContext, "realm" | "sessions">, client: RealmClient, form: Record<string, string>): GrantResult {
  if (!form.code) return { ok: false, error: "invalid_request", description: "Missing parameter: code" };
  const grant = ctx.sessions.takeCode(form.code);
  if (!grant || grant.clientId !== client.clientId) return { ok: false, error: "invalid_grant", description: "Code not valid" };
  if (grant.redirectUri !== form.redirect_uri) return { ok: false, error: "invalid_grant", description: "Incorrect redirect_uri" };
  if (!form.code_verifier) return { ok: false, error: "invalid_grant", description: "PKCE code verifier not specified" };
  if (!/^[A-Za-z0-9._~-]{43,128}$/.test(form.code_verifier) || !sameString(s256(form.code_verifier), grant.codeChallenge)) {
    return { ok: false, error: "invalid_grant", description: "PKCE verification failed: Invalid code verifier" };
  }
  const session = ctx.sessions.get(grant.sessionId);
  const user = session && ctx.realm.users?.find((u) => u.id === session.userId);
  if (!session || !user || user.enabled === false) return { ok: false, error: "invalid_grant", description: "Session not active" };
  ctx.sessions.touch(session);
  return { ok: true, user, sid: session.id, ...(grant.scope ? { scope: grant.scope } : {}), ...(grant.nonce ? { nonce: grant.nonce } : {}) };
}

/** grant_type=refresh_token: same client, live session, enabled user. */
export async function redeemRefresh(ctx: Pick<BrowserFlowContext, "realm" | "sessions" | "keys">, client: RealmClient, form: Record<string, string>): Promise<GrantResult> {
  let claims: Record<string, unknown>;
  try {
    const { payload } = await compactVerify(form.refresh_token ?? "", createLocalJWKSet(ctx.keys.jwks()));
    claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
  } catch {
    return { ok: false, error: "invalid_grant", description: "Invalid refresh token" };
  }
  if (claims.typ !== "Refresh") return { ok: false, error: "invalid_grant", description: "Invalid refresh token" };
  if (typeof claims.exp !== "number" || claims.exp * 1000 < Date.now()) return { ok: false, error: "invalid_grant", description: "Token is not active" };
  if (claims.azp !== client.clientId) return { ok: false, error: "invalid_grant", description: "Invalid refresh token. Token client and authorized client don't match" };
  const session = ctx.sessions.get(typeof claims.sid === "string" ? claims.sid : undefined);
  const user = session && ctx.realm.users?.find((u) => u.id === session.userId);
  if (!session || !user || user.enabled === false || user.id !== claims.sub) return { ok: false, error: "invalid_grant", description: "Session not active" };
  ctx.sessions.touch(session);
  return {
    ok: true,
    user,
    sid: session.id,
    ...(typeof claims.scope === "string" ? { scope: claims.scope } : {}),
    ...(typeof claims.nonce === "string" ? { nonce: claims.nonce } : {}),
  };
}
