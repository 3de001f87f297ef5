import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { compactVerify, createLocalJWKSet } from "jose";
import { findClient, type RealmClient } from "./realm.js";
import { errorPage, loggedOutPage, logoutConfirmPage } from "./login-page.js";
import { redeemRefresh } from "./grants.js";
import {
  allParams,
  cookie,
  html,
  postLogoutUris,
  readCookie,
  redirectUriAllowed,
  SESSION_COOKIE,
  withParams,
  type BrowserFlowContext,
} from "./browser-http.js";

/**
 * RP-initiated logout as Keycloak 26 serves it: `id_token_hint` (expired ones too),
 * `client_id`, `post_logout_redirect_uri` checked against the client's
 * `post.logout.redirect.uris`, `state`. Without a hint (or with one of another session)
 * Keycloak asks first, so a cross-site link cannot end a session. A POST carrying a
 * `refresh_token` is the back-channel logout of adapters: 204.
 */
export function registerLogout(
  app: FastifyInstance,
  ctx: BrowserFlowContext,
  authenticateClient: (request: FastifyRequest, form: Record<string, string>) => RealmClient | string,
): void {
  const { realm, base, sessions } = ctx;
  const path = `${base}/protocol/openid-connect/logout`;

  const done = (request: FastifyRequest, reply: FastifyReply, redirect: string | undefined, state: string | undefined) => {
    sessions.end(readCookie(request, SESSION_COOKIE));
    reply.header("set-cookie", cookie(request, base, SESSION_COOKIE, "", 0));
    if (redirect) return reply.header("cache-control", "no-store").redirect(withParams(redirect, { state }), 302);
    return html(reply, 200, loggedOutPage());
  };

  const logout = async (request: FastifyRequest, reply: FastifyReply) => {
    const params = allParams(request);
    if (request.method === "POST" && params.refresh_token && !params.id_token_hint) return tokenLogout(request, reply, params);

    let hint: Record<string, unknown> | undefined;
    if (params.id_token_hint) {
      try {
        // Signature only: an expired id_token_hint still names the session, as in Keycloak.
        const { payload } = await compactVerify(params.id_token_hint, createLocalJWKSet(ctx.keys.jwks()));
        hint = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
      } catch {
        return html(reply, 400, errorPage("无效的参数：id_token_hint"));
      }
      if (hint.iss !== ctx.issuerFor(request)) return html(reply, 400, errorPage("无效的参数：id_token_hint"));
    }
    const hintClient = typeof hint?.azp === "string" ? hint.azp : undefined;
    if (hint && params.client_id && hintClient !== params.client_id) return html(reply, 400, errorPage("参数 client_id 与 id_token_hint 中的客户端不一致。"));
    const clientId = params.client_id ?? hintClient;
    const client = clientId ? findClient(realm, clientId) : undefined;
    if (clientId && !client) return html(reply, 400, errorPage("未找到客户端。"));

    let redirect: string | undefined;
    if (params.post_logout_redirect_uri) {
      if (!client) return html(reply, 400, errorPage("使用 post_logout_redirect_uri 时需要参数 client_id 或 id_token_hint。"));
      if (!redirectUriAllowed(postLogoutUris(client), params.post_logout_redirect_uri)) return html(reply, 400, errorPage("无效的重定向 URI"));
      redirect = params.post_logout_redirect_uri;
    }

    const current = sessions.get(readCookie(request, SESSION_COOKIE));
    const hintSid = typeof hint?.sid === "string" ? hint.sid : undefined;
    if (!hint || (current && hintSid !== current.id)) {
      const code = sessions.beginLogout({ ...(redirect ? { redirect } : {}), ...(params.state !== undefined ? { state: params.state } : {}) });
      return html(reply, 200, logoutConfirmPage(`${ctx.issuerFor(request)}/protocol/openid-connect/logout/logout-confirm`, code));
    }
    // No cookie (e.g. the browser drops it): the hint's session is the one to end.
    sessions.end(hintSid);
    return done(request, reply, redirect, params.state);
  };

  const tokenLogout = async (request: FastifyRequest, reply: FastifyReply, form: Record<string, string>) => {
    const client = authenticateClient(request, form);
    if (typeof client === "string") return reply.status(401).send({ error: "unauthorized_client", error_description: client });
    const result = await redeemRefresh({ ...ctx, issuer: ctx.issuerFor(request) }, client, form);
    if (!result.ok) return reply.status(400).send({ error: result.error, error_description: result.description });
    sessions.end(result.session.id);
    return reply.status(204).send();
  };

  app.get(path, logout);
  app.post(path, logout);
  app.post(`${path}/logout-confirm`, async (request, reply) => {
    const pending = sessions.takeLogout(allParams(request).session_code);
    if (!pending) return html(reply, 400, errorPage("登出请求已过期，请重试。"));
    return done(request, reply, pending.redirect, pending.state);
  });
}
