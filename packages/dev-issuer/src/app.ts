import { timingSafeEqual } from "node:crypto";
import { existsSync } from "node:fs";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { KeySet } from "./keys.js";
import { findClient, loadRealm, repoDevUsersFile, type RealmClient, type RealmExport, type RealmUser } from "./realm.js";
import { issueAccessToken, issueIdToken, issueRefreshToken, issueToken, type Grant, type IssueOptions } from "./tokens.js";
import { BruteForceDetector } from "./brute-force.js";
import { SessionStore, type UserSession } from "./sessions.js";
import { registerAuthorize } from "./authorize.js";
import { registerLogout } from "./logout.js";
import { registerUserinfo } from "./userinfo.js";
import { registerCors } from "./cors.js";
import { redeemCode, redeemRefresh, type GrantResult } from "./grants.js";
import { registerAdmin } from "./admin.js";
import { UserStore, hashedPassword, passwordMatches } from "./user-store.js";
import type { BrowserFlowContext } from "./browser-http.js";

export interface IssuerOptions {
  realmFile: string;
  /**
   * Human users (Keycloak directory-export users file). Default: DEV_USERS_FILE, else the
   * repository's infra/keycloak/dev/<realm>-users-0.json when it exists — this issuer is for
   * development only, so it signs the demo users in unless told otherwise. `false`: none.
   */
  usersFile?: string | false;
  /**
   * Base URL tokens name as issuer: `iss` = `${publicBaseUrl}/realms/${realm}` exactly.
   * Without it, the request's Host is used (as Keycloak does without a configured
   * hostname), which suits tests listening on port 0.
   */
  publicBaseUrl?: string;
  /** Signing keys; default: loaded from / persisted to `keyFile`, else a fresh RSA 2048 key. */
  keys?: KeySet;
  keyFile?: string;
  /**
   * Where the human users are kept across restarts once the admin REST API has changed them
   * (a JSON file, as Keycloak keeps them in its database). Unset: in memory only (tests).
   */
  usersStoreFile?: string;
}

export interface IssuerApp extends FastifyInstance {
  keys: KeySet;
  realm: RealmExport;
  /** The users as the admin REST API changes them. */
  store: UserStore;
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
    try {
      if (at > 0) return { clientId: decodeURIComponent(decoded.slice(0, at)), secret: decodeURIComponent(decoded.slice(at + 1)) };
    } catch {
      return {};
    }
  }
  return { clientId: form.client_id, secret: form.client_secret };
}

type ClientAuth = { client: RealmClient } | { status: number; error: string; description: string };

/** Keycloak's client authentication at the token endpoint: public clients name themselves, confidential ones prove it. */
function authenticateClient(realm: RealmExport, request: FastifyRequest, form: Record<string, string>): ClientAuth {
  const { clientId, secret } = clientCredentials(request, form);
  if (!clientId) return { status: 400, error: "invalid_client", description: "Missing client_id parameter" };
  const client = findClient(realm, clientId);
  if (!client || client.enabled === false) return { status: 401, error: "invalid_client", description: "Invalid client or Invalid client credentials" };
  if (client.bearerOnly) return { status: 400, error: "invalid_client", description: "Bearer-only not allowed" };
  if (!client.publicClient && !sameSecret(client.secret, secret))
    return { status: 401, error: "unauthorized_client", description: "Invalid client or Invalid client credentials" };
  return { client };
}

/**
 * A development stand-in for Keycloak: the same URL layout, discovery document,
 * JWKS and token endpoint (password and client_credentials grants), reading
 * users, roles, groups, clients and mappers from the realm export a real
 * Keycloak imports. Moving to Keycloak changes only the issuer URL.
 * Browser login (authorization code + PKCE), refresh tokens, id tokens and
 * RP-initiated logout are served too (authorize.ts, logout.ts, userinfo.ts).
 */
export async function createIssuerApp(options: IssuerOptions): Promise<IssuerApp> {
  const realm = loadRealm(options.realmFile, { usersFile: options.usersFile ?? defaultDevUsers(options.realmFile) });
  const store = new UserStore(realm, options.usersStoreFile);
  const bruteForce = new BruteForceDetector(realm);
  const sessions = new SessionStore({ idleSeconds: realm.ssoSessionIdleTimeout ?? 1800, maxSeconds: realm.ssoSessionMaxLifespan ?? 36_000 });
  const keys = options.keys ?? (await KeySet.create(options.keyFile));
  // Keycloak (RESTEasy) takes a trailing slash as the same path; the admin client sends /users/?max=…
  const app = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: true } }) as unknown as IssuerApp;
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
  app.decorate("store", store);
  app.decorate("issuerUrl", () => issuerFor());
  app.decorate("issueToken", (username: string, clientId?: string, opts: IssueOptions & { issuer?: string } = {}) =>
    issueToken({ realm, keys, issuer: opts.issuer ?? issuerFor(), username, ...(clientId ? { clientId } : {}), ...opts }),
  );

  app.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string" }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  /** A human user by username and password, through brute-force detection (form and password grant alike). */
  const checkPassword = (username: string, password: string | undefined): RealmUser | "disabled" | undefined => {
    const user = realm.users?.find((u) => u.username === username.toLowerCase() && !u.serviceAccountClientId);
    // A temporarily locked user gets the answer of a wrong password, even with the right one.
    if (user && bruteForce.isLocked(user.username)) return undefined;
    if (!user || !passwordMatches(user, password)) {
      if (user) bruteForce.failure(user.username);
      return undefined;
    }
    bruteForce.success(user.username);
    return user.enabled === false ? "disabled" : user;
  };

  const browser: BrowserFlowContext = {
    realm,
    keys,
    base,
    sessions,
    issuerFor,
    checkPassword: (username, password) => {
      const user = checkPassword(username, password);
      // A disabled account is refused on the form like a wrong password.
      return user === "disabled" ? undefined : user;
    },
    passwordMatches,
    setPassword: (user, password) => {
      user.credentials = [hashedPassword(password, false)];
      user.requiredActions = (user.requiredActions ?? []).filter((a) => a !== "UPDATE_PASSWORD");
      store.save();
    },
  };
  registerCors(app, realm, base);
  registerAdmin(app, { realm, keys, store, issuerFor });
  registerAuthorize(app, browser);
  registerUserinfo(app, browser);
  registerLogout(app, browser, (request, form) => {
    const auth = authenticateClient(realm, request, form);
    return "client" in auth ? auth.client : auth.description;
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
      frontchannel_logout_session_supported: false,
      frontchannel_logout_supported: false,
      jwks_uri: `${oidc}/certs`,
      grant_types_supported: ["authorization_code", "refresh_token", "password", "client_credentials"],
      response_types_supported: ["code"],
      response_modes_supported: ["query", "fragment"],
      subject_types_supported: ["public", "pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
      code_challenge_methods_supported: ["S256"],
      scopes_supported: ["openid", "profile", "email", "roles", "web-origins", "acr", "basic"],
      claims_supported: [
        "aud",
        "sub",
        "iss",
        "auth_time",
        "name",
        "given_name",
        "family_name",
        "preferred_username",
        "email",
        "email_verified",
        "acr",
        "org_unit",
        "school_code",
      ],
      claims_parameter_supported: false,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      require_request_uri_registration: false,
      authorization_response_iss_parameter_supported: true,
      backchannel_logout_supported: false,
    };
  });

  app.get(`${base}/protocol/openid-connect/certs`, async () => keys.jwks());

  // Error codes and descriptions as Keycloak 26's token endpoint answers them.
  app.post(`${base}/protocol/openid-connect/token`, async (request, reply) => {
    const form = (request.body && typeof request.body === "object" ? request.body : {}) as Record<string, string>;
    if (!form.grant_type) return oauthError(reply, 400, "invalid_request", "Missing form parameter: grant_type");
    const auth = authenticateClient(realm, request, form);
    if (!("client" in auth)) return oauthError(reply, auth.status, auth.error, auth.description);
    const client = auth.client;

    let user: RealmUser | undefined;
    let session: UserSession | undefined;
    let scope = form.scope;
    let nonce: string | undefined;
    const grant = form.grant_type;
    if (grant === "password") {
      if (!client.directAccessGrantsEnabled) return oauthError(reply, 400, "unauthorized_client", "Client not allowed for direct access grants");
      const found = checkPassword(form.username ?? "", form.password);
      if (!found) return oauthError(reply, 401, "invalid_grant", "Invalid user credentials");
      if (found === "disabled") return oauthError(reply, 400, "invalid_grant", "Account disabled");
      // A temporary password (required action UPDATE_PASSWORD) is changed on the login page only.
      if (found.requiredActions?.length) return oauthError(reply, 400, "invalid_grant", "Account is not fully set up");
      user = found;
      // Keycloak opens a user session for a password grant too, so its refresh token works.
      session = sessions.start(user.id, user.username, client.clientId);
    } else if (grant === "authorization_code" || grant === "refresh_token") {
      let result: GrantResult;
      if (grant === "authorization_code") {
        if (client.standardFlowEnabled === false) return oauthError(reply, 400, "unauthorized_client", "Client not allowed to exchange code");
        result = redeemCode({ realm, sessions }, client, form);
      } else {
        result = await redeemRefresh({ realm, sessions, keys, issuer: issuerFor(request) }, client, form);
      }
      if (!result.ok) return oauthError(reply, 400, result.error, result.description);
      ({ user, session } = result);
      scope = result.scope;
      nonce = result.nonce;
    } else if (grant === "client_credentials") {
      if (client.publicClient) return oauthError(reply, 400, "unauthorized_client", "Public client not allowed to retrieve service account");
      if (!client.serviceAccountsEnabled) return oauthError(reply, 400, "unauthorized_client", "Client not enabled to retrieve service account");
      user = store.users.find((u) => u.serviceAccountClientId === client.clientId);
      if (!user) return oauthError(reply, 400, "invalid_request", "Service account user not found in the realm export");
    } else {
      return oauthError(reply, 400, "unsupported_grant_type", "Unsupported grant_type");
    }

    const issuer = issuerFor(request);
    const issued = await issueAccessToken(realm, keys, issuer, client, user, {
      grant: grant as Grant,
      ...(scope ? { scope } : {}),
      ...(session ? { sid: session.id } : {}),
    });
    reply.header("cache-control", "no-store").header("pragma", "no-cache");
    if (!session) {
      // client_credentials: no session, no refresh token (refresh_expires_in 0, as Keycloak answers).
      return {
        access_token: issued.token,
        expires_in: issued.expiresIn,
        refresh_expires_in: 0,
        token_type: "Bearer",
        "not-before-policy": 0,
        scope: issued.scope,
      };
    }
    const sid = session.id;
    const openid = scope?.split(" ").includes("openid") ?? false;
    const refresh = await issueRefreshToken(realm, keys, issuer, client, user, {
      sid,
      scope: scope ?? "",
      expiresIn: sessions.refreshSeconds(session),
      ...(nonce ? { nonce } : {}),
    });
    const authTime = Math.floor(session.started / 1000);
    return {
      access_token: issued.token,
      expires_in: issued.expiresIn,
      refresh_expires_in: refresh.expiresIn,
      refresh_token: refresh.token,
      token_type: "Bearer",
      ...(openid ? { id_token: await issueIdToken(realm, keys, issuer, client, user, { sid, authTime, ...(nonce ? { nonce } : {}) }) } : {}),
      "not-before-policy": 0,
      session_state: sid,
      scope: issued.scope,
    };
  });

  app.get("/healthz", async () => ({ status: "ok", service: "dev-issuer" }));
  return app;
}

/** DEV_USERS_FILE, else the repository's dev users file for this realm when it exists (see IssuerOptions.usersFile). */
function defaultDevUsers(realmFile: string): string | false {
  if (process.env.DEV_USERS_FILE) return process.env.DEV_USERS_FILE;
  const realmName = loadRealm(realmFile, { usersFile: false }).realm;
  const file = repoDevUsersFile(realmName);
  return existsSync(file) ? file : false;
}
