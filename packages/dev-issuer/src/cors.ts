import type { FastifyInstance } from "fastify";
import type { RealmExport } from "./realm.js";
import { clientOrigins } from "./browser-http.js";

/**
 * CORS as Keycloak answers browsers: only origins some enabled client's webOrigins allow
 * ("+" = the origins of its redirect URIs), only on the endpoints a browser app calls.
 * Errors carry the headers too, so the console can read an invalid_grant.
 */
export function registerCors(app: FastifyInstance, realm: RealmExport, base: string): void {
  const allowed = new Set((realm.clients ?? []).filter((c) => c.enabled !== false).flatMap(clientOrigins));
  const oidc = `${base}/protocol/openid-connect`;
  const paths = new Set([`${oidc}/token`, `${oidc}/userinfo`, `${oidc}/logout`, `${oidc}/certs`, `${base}/.well-known/openid-configuration`]);
  app.addHook("onRequest", (request, reply, done) => {
    const origin = request.headers.origin;
    if (origin && allowed.has(origin) && paths.has(request.url.split("?")[0]!)) {
      reply
        .header("access-control-allow-origin", origin)
        .header("access-control-allow-credentials", "true")
        .header("access-control-expose-headers", "Access-Control-Allow-Methods")
        .header("vary", "Origin");
    }
    done();
  });
  for (const path of paths) {
    app.options(path, async (request, reply) => {
      const origin = request.headers.origin;
      // Keycloak answers a foreign origin's preflight without CORS headers; the browser then refuses.
      if (!origin || !allowed.has(origin)) return reply.status(200).send();
      return reply
        .status(200)
        .header("access-control-allow-methods", "GET, POST, OPTIONS")
        .header(
          "access-control-allow-headers",
          "Origin, Accept, X-Requested-With, Content-Type, Access-Control-Request-Method, Access-Control-Request-Headers, DPoP, Authorization",
        )
        .header("access-control-max-age", "3600")
        .send();
    });
  }
}
