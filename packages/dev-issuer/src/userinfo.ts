import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { compactVerify, createLocalJWKSet } from "jose";
import type { BrowserFlowContext } from "./browser-http.js";

const PROFILE_CLAIMS = ["sub", "email_verified", "name", "preferred_username", "given_name", "family_name", "email", "org_unit", "school_code"];

/** Userinfo as Keycloak answers it: a live access token with the openid scope and a live session; the claims it carries. */
export function registerUserinfo(app: FastifyInstance, ctx: BrowserFlowContext): void {
  const userinfo = async (request: FastifyRequest, reply: FastifyReply) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
    const refuse = (status: number, error: string, description: string) =>
      reply.status(status).header("www-authenticate", `Bearer realm="${ctx.realm.realm}", error="${error}"`).send({ error, error_description: description });
    let claims: Record<string, unknown>;
    try {
      const { payload } = await compactVerify(bearer ?? "", createLocalJWKSet(ctx.keys.jwks()));
      claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    } catch {
      return refuse(401, "invalid_token", "Token verification failed");
    }
    const live = typeof claims.exp === "number" && claims.exp * 1000 > Date.now() && claims.typ === "Bearer" && claims.iss === ctx.issuerFor(request);
    // Service-account tokens belong to no browser session; every other token needs its session.
    const sessionOk = claims.client_id !== undefined || ctx.sessions.get(typeof claims.sid === "string" ? claims.sid : undefined) !== undefined;
    if (!live || !sessionOk) return refuse(401, "invalid_token", "Token verification failed");
    if (
      !String(claims.scope ?? "")
        .split(" ")
        .includes("openid")
    )
      return refuse(403, "insufficient_scope", "Missing openid scope");
    return reply.header("cache-control", "no-store").send(Object.fromEntries(PROFILE_CLAIMS.filter((k) => claims[k] !== undefined).map((k) => [k, claims[k]])));
  };
  app.get(`${ctx.base}/protocol/openid-connect/userinfo`, userinfo);
  app.post(`${ctx.base}/protocol/openid-connect/userinfo`, userinfo);
}
