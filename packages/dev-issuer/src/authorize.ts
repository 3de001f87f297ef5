import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { findClient, type RealmClient } from "./realm.js";
import type { AuthRequest, UserSession } from "./sessions.js";
import { errorPage, loginPage, updatePasswordPage } from "./login-page.js";
import { AUTH_SESSION_COOKIE, cookie, html, readCookie, redirectUriAllowed, SESSION_COOKIE, withParams, type BrowserFlowContext } from "./browser-http.js";

type Query = Record<string, string | undefined>;

/** RFC 7636 §4.2 characters and length, as Keycloak checks a challenge. */
const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/;

/**
 * Keycloak's PKCE checks at /auth (AuthorizationEndpointChecker), in its order and words.
 * Only S256 is offered: "plain" protects nothing against a stolen code.
 */
function pkceProblem(client: RealmClient, q: Query): string | undefined {
  const enforced = client.attributes?.["pkce.code.challenge.method"];
  if (enforced) {
    if (!q.code_challenge_method) return "Missing parameter: code_challenge_method";
    if (q.code_challenge_method !== enforced) return "Invalid parameter: code challenge method is not configured one";
    if (!q.code_challenge) return "Missing parameter: code_challenge";
  } else if (!q.code_challenge) {
    return q.code_challenge_method ? "Missing parameter: code_challenge" : undefined;
  } else if ((q.code_challenge_method ?? "plain") !== "S256") {
    return "Invalid parameter: code_challenge_method";
  }
  if (!PKCE_VALUE.test(q.code_challenge!)) return "Invalid parameter: code_challenge";
  return undefined;
}

/** GET /auth and the login form's POST, as Keycloak 26 serves the browser flow. */
export function registerAuthorize(app: FastifyInstance, ctx: BrowserFlowContext): void {
  const { realm, base, sessions } = ctx;

  /** The code goes back with state, session_state and iss (RFC 9207), as Keycloak 26 sends them. */
  const finish = (request: FastifyRequest, reply: FastifyReply, auth: AuthRequest, session: UserSession, cookies: string[] = []) => {
    const code = sessions.issueCode(auth, session);
    const params = { code, state: auth.state, session_state: session.id, iss: ctx.issuerFor(request) };
    if (cookies.length) reply.header("set-cookie", cookies);
    return reply.header("cache-control", "no-store").redirect(withParams(auth.redirectUri, params, auth.responseMode), 302);
  };

  const showLogin = (
    request: FastifyRequest,
    reply: FastifyReply,
    sessionCode: string,
    clientId: string,
    opts: { username?: string; error?: boolean } = {},
  ) => {
    const action = `${ctx.issuerFor(request)}/login-actions/authenticate?${new URLSearchParams({ session_code: sessionCode, client_id: clientId })}`;
    return html(reply, 200, loginPage({ action, ...opts }));
  };

  const liveUser = (session: UserSession | undefined) => {
    const user = session && realm.users?.find((u) => u.id === session.userId);
    return user && user.enabled !== false ? user : undefined;
  };

  app.get(`${base}/protocol/openid-connect/auth`, async (request, reply) => {
    const q = request.query as Query;
    const client = q.client_id ? findClient(realm, q.client_id) : undefined;
    // Until the redirect URI is known good, errors go to a page, never to the given URI.
    if (!q.client_id) return html(reply, 400, errorPage("缺少参数：client_id"));
    if (!client || client.enabled === false || client.bearerOnly) return html(reply, 400, errorPage("未找到客户端。"));
    if (!redirectUriAllowed(client.redirectUris, q.redirect_uri)) return html(reply, 400, errorPage("无效的参数：redirect_uri"));
    const redirectUri = q.redirect_uri!;
    const mode = q.response_mode === "fragment" ? "fragment" : "query";
    const fail = (error: string, description?: string) =>
      reply.redirect(withParams(redirectUri, { error, error_description: description, state: q.state, iss: ctx.issuerFor(request) }, mode), 302);
    if (q.response_mode && q.response_mode !== "query" && q.response_mode !== "fragment") return fail("invalid_request", "Invalid parameter: response_mode");
    if (!q.response_type) return fail("invalid_request", "Missing parameter: response_type");
    if (q.response_type !== "code")
      return fail(
        "unsupported_response_type",
        "Client is not allowed to initiate browser login with given response_type. Implicit flow is disabled for the client.",
      );
    if (client.standardFlowEnabled === false)
      return fail("unauthorized_client", "Client is not allowed to initiate browser login with given response_type. Standard flow is disabled for the client.");
    const pkce = pkceProblem(client, q);
    if (pkce) return fail("invalid_request", pkce);

    const auth: AuthRequest = {
      clientId: client.clientId,
      redirectUri,
      responseMode: mode,
      ...(q.code_challenge ? { codeChallenge: q.code_challenge } : {}),
      ...(q.state !== undefined ? { state: q.state } : {}),
      ...(q.nonce !== undefined ? { nonce: q.nonce } : {}),
      ...(q.scope !== undefined ? { scope: q.scope } : {}),
    };
    const prompts = (q.prompt ?? "").split(" ");
    const session = sessions.get(readCookie(request, SESSION_COOKIE));
    if (session && liveUser(session) && !prompts.includes("login")) {
      sessions.touch(session);
      return finish(request, reply, auth, session);
    }
    if (prompts.includes("none")) return fail("login_required");
    // One browser id for all of this browser's tabs (Keycloak's root auth session), so parallel logins work.
    const existing = readCookie(request, AUTH_SESSION_COOKIE);
    const browser = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : randomBytes(32).toString("base64url");
    reply.header("set-cookie", cookie(request, base, AUTH_SESSION_COOKIE, browser));
    return showLogin(request, reply, sessions.beginLogin(auth, browser), client.clientId, q.login_hint ? { username: q.login_hint } : {});
  });

  app.post(`${base}/login-actions/authenticate`, async (request, reply) => {
    const q = request.query as Query;
    const form = (request.body && typeof request.body === "object" ? request.body : {}) as Record<string, string>;
    const pending = sessions.loginRequest(q.session_code);
    if (!pending) return html(reply, 400, errorPage("登录超时，请重新登录。"));
    // A form posted from another browser (login CSRF) lacks the cookie set with it.
    if (readCookie(request, AUTH_SESSION_COOKIE) !== pending.browser) return html(reply, 400, errorPage("未找到 Cookie。请确认浏览器已启用 Cookie。"));
    const auth = pending.request;
    const user = ctx.checkPassword((form.username ?? "").trim().toLowerCase(), form.password ?? "");
    if (!user) return showLogin(request, reply, q.session_code!, auth.clientId, { username: form.username ?? "", error: true });
    if (user.requiredActions?.includes("UPDATE_PASSWORD")) {
      // Keycloak's required action: a temporary password signs in only to set a new one.
      passwordUpdates.set(q.session_code!, user.id);
      return showUpdatePassword(request, reply, q.session_code!, auth.clientId);
    }
    return signedIn(request, reply, q.session_code!, user.id, user.username);
  });

  const passwordUpdates = new Map<string, string>();
  const showUpdatePassword = (request: FastifyRequest, reply: FastifyReply, sessionCode: string, clientId: string, error?: string) => {
    const action = `${ctx.issuerFor(request)}/login-actions/required-action?${new URLSearchParams({ session_code: sessionCode, client_id: clientId, execution: "UPDATE_PASSWORD" })}`;
    return html(reply, 200, updatePasswordPage({ action, ...(error ? { error } : {}) }));
  };

  app.post(`${base}/login-actions/required-action`, async (request, reply) => {
    const q = request.query as Query;
    const form = (request.body && typeof request.body === "object" ? request.body : {}) as Record<string, string>;
    const pending = sessions.loginRequest(q.session_code);
    const userId = q.session_code ? passwordUpdates.get(q.session_code) : undefined;
    if (!pending || !userId) return html(reply, 400, errorPage("登录超时，请重新登录。"));
    if (readCookie(request, AUTH_SESSION_COOKIE) !== pending.browser) return html(reply, 400, errorPage("未找到 Cookie。请确认浏览器已启用 Cookie。"));
    const user = realm.users?.find((u) => u.id === userId && u.enabled !== false);
    if (!user) return html(reply, 400, errorPage("账号已停用。"));
    const next = form["password-new"] ?? "";
    if (next.length < 8) return showUpdatePassword(request, reply, q.session_code!, pending.request.clientId, "密码至少 8 个字符。");
    if (next !== form["password-confirm"]) return showUpdatePassword(request, reply, q.session_code!, pending.request.clientId, "两次输入的密码不一致。");
    if (ctx.passwordMatches(user, next)) return showUpdatePassword(request, reply, q.session_code!, pending.request.clientId, "新密码不能与临时密码相同。");
    ctx.setPassword(user, next);
    passwordUpdates.delete(q.session_code!);
    return signedIn(request, reply, q.session_code!, user.id, user.username);
  });

  const signedIn = (request: FastifyRequest, reply: FastifyReply, sessionCode: string, userId: string, username: string) => {
    const auth = sessions.loginRequest(sessionCode)!.request;
    const user = { id: userId, username };
    sessions.finishLogin(sessionCode);
    // The same user signing in again keeps the session; another user replaces it (Keycloak's "different user" logout).
    const previous = sessions.get(readCookie(request, SESSION_COOKIE));
    if (previous && previous.userId !== user.id) sessions.end(previous.id);
    const session = previous?.userId === user.id ? previous : sessions.start(user.id, user.username, auth.clientId);
    sessions.touch(session);
    return finish(request, reply, auth, session, [cookie(request, base, SESSION_COOKIE, session.id, sessions.maxSeconds)]);
  };
}
