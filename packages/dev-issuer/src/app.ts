import { timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { KeySet } from "./keys.js";
import { findClient, loadRealm, type RealmClient, type RealmExport, type RealmUser } from "./realm.js";
import { issueAccessToken, issueToken, type IssueOptions } from "./tokens.js";
import { BruteForceDetector } from "./brute-force.js";

export interface IssuerOptions {
  realmFile: string;
  /**
   * Base URL tokens name as issuer: `iss` = `${publicBaseUrl}/realms/${realm}` exactly.
   * Without it, the request's Host is used (as Keycloak does without a configured
   * hostname), which suits tests listening on port 0.
   */
  publicBaseUrl?: string;
  /** Signing keys; default: loaded from / persisted to `keyFile`, else a fresh RSA 2048 key. */
  keys?: KeySet;
  keyFile?: string;
}

export interface IssuerApp extends FastifyInstance {
  keys: KeySet;
  realm: RealmExport;
  /** The realm URL (`iss`) for a base URL; default: publicBaseUrl, else the listening address. */
  issuerUrl(): string;
  /** Mints a token directly (tests): the token endpoint's shape, bad only through explicit options. */
  issueToken(username: string, clientId?: string, options?: IssueOptions & { issuer?: string }): Promise<string>;
}

function oauthError(reply: FastifyReply, status: number, error: string, description: string) {
  return reply.status(status).header("cache-control", "no-store").send({ error, error_description: description });
}

function sameSecret(expected: string | undefined, given: string | undefined): boolean {
  if (expected === undefined || given === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** client_id/secret from HTTP Basic (client_secret_basic) or the form (client_secret_post). */
function clientCredentials(request: FastifyRequest, form: Record<string, string>): { clientId?: string; secret?: string } {
  const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
  if (basic) {
    const decoded = Buffer.from(basic, "base64").toString("utf8");
    const at = decoded.indexOf(":");
    // RFC 6749 §2.3.1: both parts are form-urlencoded inside Basic.
    if (at > 0) return { clientId: decodeURIComponent(decoded.slice(0, at)), secret: decodeURIComponent(decoded.slice(at + 1)) };
  }
  return { clientId: form.client_id, secret: form.client_secret };
}

/**
 * A development stand-in for Keycloak: the same URL layout, discovery document,
 * JWKS and token endpoint (password and client_credentials grants), reading
 * users, roles, groups, clients and mappers from the realm export a real
 * Keycloak imports. Moving to Keycloak changes only the issuer URL.
 * Not implemented: browser login, refresh tokens, id tokens, introspection.
 */
export async function createIssuerApp(options: IssuerOptions): Promise<IssuerApp> {
  const realm = loadRealm(options.realmFile);
  const bruteForce = new BruteForceDetector(realm);
  const keys = options.keys ?? (await KeySet.create(options.keyFile));
  const app = Fastify({ logger: false }) as unknown as IssuerApp;
  const base = `/realms/${realm.realm}`;
  const configured = options.publicBaseUrl?.replace(/\/+$/, "");
  const issuerFor = (request?: FastifyRequest): string => {
    if (configured) return `${configured}${base}`;
    if (request?.headers.host) return `${request.protocol}://${request.headers.host}${base}`;
    const address = app.server.address();
    const port = address && typeof address === "object" ? address.port : 8081;
    return `http://127.0.0.1:${port}${base}`;
  };

  app.decorate("keys", keys);
  app.decorate("realm", realm);
  app.decorate("issuerUrl", () => issuerFor());
  app.decorate("issueToken", (username: string, clientId?: string, opts: IssueOptions & { issuer?: string } = {}) =>
    issueToken({ realm, keys, issuer: opts.issuer ?? issuerFor(), username, ...(clientId ? { clientId } : {}), ...opts }),
  );

  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get(`${base}/.well-known/openid-configuration`, async (request) => {
    const issuer = issuerFor(request);
    const oidc = `${issuer}/protocol/openid-connect`;
    return {
      issuer,
      authorization_endpoint: `${oidc}/auth`,
      token_endpoint: `${oidc}/token`,
      introspection_endpoint: `${oidc}/token/introspect`,
      userinfo_endpoint: `${oidc}/userinfo`,
      end_session_endpoint: `${oidc}/logout`,
      jwks_uri: `${oidc}/certs`,
      grant_types_supported: ["password", "client_credentials"],
      response_types_supported: ["code"],
      subject_types_supported: ["public", "pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      scopes_supported: ["openid", "profile", "email"],
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "name", "given_name", "family_name", "preferred_username", "email", "org_unit", "school_code"],
    };
  });

  app.get(`${base}/protocol/openid-connect/certs`, async () => keys.jwks());

  // Error codes and descriptions as Keycloak 26's token endpoint answers them.
  app.post(`${base}/protocol/openid-connect/token`, async (request, reply) => {
    const form = (request.body && typeof request.body === "object" ? request.body : {}) as Record<string, string>;
    if (!form.grant_type) return oauthError(reply, 400, "invalid_request", "Missing form parameter: grant_type");
    const { clientId, secret } = clientCredentials(request, form);
    if (!clientId) return oauthError(reply, 400, "invalid_client", "Missing client_id parameter");
    const client: RealmClient | undefined = findClient(realm, clientId);
    if (!client) return oauthError(reply, 401, "invalid_client", "Invalid client or Invalid client credentials");
    if (client.enabled === false) return oauthError(reply, 401, "invalid_client", "Invalid client or Invalid client credentials");
    if (!client.publicClient && !client.bearerOnly && !sameSecret(client.secret, secret)) {
      return oauthError(reply, 401, "unauthorized_client", "Invalid client or Invalid client credentials");
    }
    if (client.bearerOnly) return oauthError(reply, 400, "invalid_client", "Bearer-only not allowed");

    let user: RealmUser | undefined;
    if (form.grant_type === "password") {
      if (!client.directAccessGrantsEnabled) return oauthError(reply, 400, "unauthorized_client", "Client not allowed for direct access grants");
      user = realm.users?.find((u) => u.username === form.username?.toLowerCase() && !u.serviceAccountClientId);
      const stored = user?.credentials?.find((c) => c.type === "password")?.value;
      // A temporarily locked user gets the answer of a wrong password, even with the right one.
      if (user && bruteForce.isLocked(user.username)) return oauthError(reply, 401, "invalid_grant", "Invalid user credentials");
      if (!user || !sameSecret(stored, form.password)) {
        if (user) bruteForce.failure(user.username);
        return oauthError(reply, 401, "invalid_grant", "Invalid user credentials");
      }
      bruteForce.success(user.username);
      if (user.enabled === false) return oauthError(reply, 400, "invalid_grant", "Account disabled");
    } else if (form.grant_type === "client_credentials") {
      if (client.publicClient) return oauthError(reply, 400, "unauthorized_client", "Public client not allowed to retrieve service account");
      if (!client.serviceAccountsEnabled) return oauthError(reply, 400, "unauthorized_client", "Client not enabled to retrieve service account");
      user = realm.users?.find((u) => u.serviceAccountClientId === client.clientId);
      if (!user) return oauthError(reply, 400, "invalid_request", "Service account user not found in the realm export");
    } else {
      return oauthError(reply, 400, "unsupported_grant_type", "Unsupported grant_type");
    }

    const issued = await issueAccessToken(realm, keys, issuerFor(request), client, user, {
      grant: form.grant_type,
      ...(form.scope ? { scope: form.scope } : {}),
    });
    reply.header("cache-control", "no-store").header("pragma", "no-cache");
    // No refresh token is issued, so refresh_expires_in is 0 (as Keycloak answers client_credentials).
    return {
      access_token: issued.token,
      expires_in: issued.expiresIn,
      refresh_expires_in: 0,
      token_type: "Bearer",
      "not-before-policy": 0,
      ...(form.grant_type === "password" ? { session_state: issued.sid } : {}),
      scope: issued.scope,
    };
  });

  app.get("/healthz", async () => ({ status: "ok", service: "dev-issuer" }));
  return app;
}
