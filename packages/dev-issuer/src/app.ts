import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import { KeySet } from "./keys.js";
import { loadRealm, type RealmExport } from "./realm.js";
import { issueAccessToken, type IssueOptions } from "./tokens.js";

export interface IssuerOptions {
  realmFile: string;
  /** Base URL tokens name as issuer (`${base}/realms/${realm}`); default: the request's own host. */
  publicBaseUrl?: string;
  keys?: KeySet;
  keyFile?: string;
}

export interface IssuerApp extends FastifyInstance {
  keys: KeySet;
  realm: RealmExport;
  /** Mints a token directly (tests): the same shape as the token endpoint's. */
  issueToken(username: string, clientId?: string, options?: IssueOptions & { issuer?: string }): Promise<string>;
}

function oauthError(reply: FastifyReply, status: number, error: string, description: string) {
  return reply.status(status).send({ error, error_description: description });
}

/**
 * A development stand-in for Keycloak: the same URL layout, discovery document,
 * JWKS and token endpoint (password and client_credentials grants), reading
 * users, roles, groups, clients and mappers from the realm export that a real
 * Keycloak imports. Moving to Keycloak changes only the issuer URL.
 */
export async function createIssuerApp(options: IssuerOptions): Promise<IssuerApp> {
  const realm = loadRealm(options.realmFile);
  const keys = options.keys ?? (await KeySet.create(options.keyFile));
  const app = Fastify({ logger: false }) as unknown as IssuerApp;
  app.decorate("keys", keys);
  app.decorate("realm", realm);
  const base = `/realms/${realm.realm}`;
  const issuerFor = (host: string | undefined, protocol: string) =>
    `${options.publicBaseUrl ?? `${protocol}://${host ?? "127.0.0.1"}`}${base}`;

  app.decorate("issueToken", async (username: string, clientId = "shouhu-web", opts: IssueOptions & { issuer?: string } = {}) => {
    const user = realm.users?.find((u) => u.username === username);
    const client = realm.clients?.find((c) => c.clientId === clientId);
    if (!user || !client) throw new Error(`unknown user ${username} or client ${clientId}`);
    const issuer = opts.issuer ?? issuerFor(`127.0.0.1:${(app.server.address() as { port?: number } | null)?.port ?? 8081}`, "http");
    return (await issueAccessToken(realm, keys, issuer, client, user, opts)).token;
  });

  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  app.get(`${base}/.well-known/openid-configuration`, async (request) => {
    const issuer = issuerFor(request.headers.host, request.protocol);
    return {
      issuer,
      authorization_endpoint: `${issuer}/protocol/openid-connect/auth`,
      token_endpoint: `${issuer}/protocol/openid-connect/token`,
      jwks_uri: `${issuer}/protocol/openid-connect/certs`,
      userinfo_endpoint: `${issuer}/protocol/openid-connect/userinfo`,
      grant_types_supported: ["password", "client_credentials"],
      response_types_supported: ["code", "token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["RS256"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post"],
      claims_supported: ["sub", "iss", "aud", "exp", "iat", "preferred_username", "name", "org_unit", "school_code", "realm_access"],
    };
  });

  app.get(`${base}/protocol/openid-connect/certs`, async () => keys.jwks());

  app.post(`${base}/protocol/openid-connect/token`, async (request, reply) => {
    const form = (request.body ?? {}) as Record<string, string>;
    let clientId = form.client_id;
    let secret = form.client_secret;
    const basic = request.headers.authorization?.match(/^Basic (.+)$/i)?.[1];
    if (basic) [clientId, secret] = Buffer.from(basic, "base64").toString().split(":") as [string, string];
    const client = realm.clients?.find((c) => c.clientId === clientId && c.enabled !== false);
    if (!client || client.bearerOnly) return oauthError(reply, 401, "invalid_client", "Invalid client or Invalid client credentials");
    if (!client.publicClient && client.secret !== secret) return oauthError(reply, 401, "unauthorized_client", "Invalid client or Invalid client credentials");
    const issuer = issuerFor(request.headers.host, request.protocol);

    let user;
    if (form.grant_type === "password") {
      if (!client.directAccessGrantsEnabled) return oauthError(reply, 400, "unauthorized_client", "Client not allowed for direct access grants");
      user = realm.users?.find((u) => u.username === form.username && !u.serviceAccountClientId);
      const password = user?.credentials?.find((c) => c.type === "password")?.value;
      if (!user || user.enabled === false || !form.password || password !== form.password) {
        return oauthError(reply, 401, "invalid_grant", "Invalid user credentials");
      }
    } else if (form.grant_type === "client_credentials") {
      if (client.publicClient || !client.serviceAccountsEnabled) return oauthError(reply, 400, "unauthorized_client", "Client not enabled to retrieve service account");
      user = realm.users?.find((u) => u.serviceAccountClientId === client.clientId);
      if (!user) return oauthError(reply, 400, "unauthorized_client", "Client has no service account");
    } else {
      return oauthError(reply, 400, "unsupported_grant_type", "Unsupported grant_type");
    }
    const { token, expiresIn } = await issueAccessToken(realm, keys, issuer, client, user);
    return {
      access_token: token,
      expires_in: expiresIn,
      refresh_expires_in: 0,
      token_type: "Bearer",
      "not-before-policy": 0,
      scope: "openid profile email",
    };
  });

  app.get("/healthz", async () => ({ status: "ok", service: "dev-issuer" }));
  return app;
}
