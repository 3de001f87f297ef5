import { fileURLToPath } from "node:url";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OperationalRole, Role } from "@shouhu/contracts";
import { createIssuerApp, KeySet, loadRealm, repoDevUsersFile, type IssuerApp, type RealmClient, type RealmUser } from "../src/index.js";

const realmFile = fileURLToPath(new URL("../../../infra/keycloak/shouhu-realm.json", import.meta.url));
const realm = loadRealm(realmFile, { usersFile: repoDevUsersFile() });
let issuer: IssuerApp;
let base: string;

type Json = Record<string, unknown>;
const decode = (part: string) => JSON.parse(Buffer.from(part, "base64url").toString()) as Json;

async function post(form: Record<string, string>): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${base}/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded; charset=UTF-8" },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

async function getJson(url: string): Promise<Json> {
  return (await (await fetch(url)).json()) as Json;
}

beforeAll(async () => {
  issuer = await createIssuerApp({ realmFile });
  base = `${await issuer.listen({ port: 0, host: "127.0.0.1" })}/realms/shouhu`;
});
afterAll(async () => issuer.close());

const humans = realm.users!.filter((u) => !u.serviceAccountClientId);
/** Admin REST API callers (accounts API, staff directory): realm-management roles, no org unit, no application role, no API audience. */
const adminCallers = realm.users!.filter((u) => u.clientRoles?.["realm-management"]?.length);
const serviceAccounts = realm.users!.filter((u) => u.serviceAccountClientId && !adminCallers.includes(u));
const client = (id: string) => realm.clients!.find((c) => c.clientId === id)!;

/** What the export says a user's token must carry, computed from the export itself. */
function expectedRoles(user: RealmUser): string[] {
  const roles = new Set<string>(user.realmRoles ?? []);
  for (const p of user.groups ?? []) for (const r of realm.groups!.find((g) => g.path === p)?.realmRoles ?? []) roles.add(r);
  for (const r of [...roles]) for (const c of realm.roles!.realm!.find((x) => x.name === r)?.composites?.realm ?? []) roles.add(c);
  return [...roles].sort();
}

function expectMapped(claims: Json, c: RealmClient, user: RealmUser) {
  const mappers = c.protocolMappers ?? [];
  expect(mappers.length).toBeGreaterThan(0);
  for (const mapper of mappers) {
    if (mapper.config["access.token.claim"] !== "true") continue;
    if (mapper.protocolMapper === "oidc-usermodel-attribute-mapper") {
      const value = user.attributes?.[mapper.config["user.attribute"]!]?.[0];
      const claim = mapper.config["claim.name"]!;
      if (value === undefined) expect(claims).not.toHaveProperty(claim);
      else expect(claims[claim]).toBe(value);
    } else if (mapper.protocolMapper === "oidc-audience-mapper") {
      expect([claims.aud].flat()).toContain(mapper.config["included.client.audience"]);
    } else {
      throw new Error(`mapper type ${mapper.protocolMapper} not understood by the dev issuer`);
    }
  }
}

async function verifyWithJwks(token: string) {
  const jwks = createLocalJWKSet((await getJson(`${base}/protocol/openid-connect/certs`)) as never);
  return jwtVerify(token, jwks, { issuer: base, algorithms: ["RS256"] });
}

describe("the realm export", () => {
  it("defines exactly the application roles the code knows, plus Keycloak's built-ins", () => {
    const realmRoles = realm.roles!.realm!.map((r) => r.name);
    const builtIn = ["default-roles-shouhu", "offline_access", "uma_authorization"];
    expect(realmRoles.filter((r) => !builtIn.includes(r)).sort()).toEqual([...Role.options, ...OperationalRole.options].sort());
  });

  it("gives every application role a group, and every demo user an org unit and one application role", () => {
    for (const role of Role.options) expect(realm.groups!.some((g) => g.realmRoles?.includes(role))).toBe(true);
    for (const user of realm.users!.filter((u) => !adminCallers.includes(u))) {
      expect(user.attributes?.org_unit?.[0]).toMatch(/^(\d{6}|\d{9}|\d{12})$/);
      // One application role; or, for operators, none (they see queues, no child data).
      const appRoles = expectedRoles(user).filter((r) => (Role.options as readonly string[]).includes(r));
      const opsRoles = expectedRoles(user).filter((r) => (OperationalRole.options as readonly string[]).includes(r));
      expect(appRoles.length + opsRoles.length, user.username).toBe(1);
      if (!user.serviceAccountClientId) expect(user.credentials).toEqual([{ type: "password", value: "Shouhu@2026", temporary: false }]);
    }
    // Every role is held by some demo user, so each can be tried out.
    const held = new Set(realm.users!.flatMap(expectedRoles));
    for (const role of Role.options) expect(held.has(role)).toBe(true);
  });

  it("gives the admin API callers only what they need: the accounts API manages users, the directory reads them", () => {
    const roles = (clientId: string) => adminCallers.find((u) => u.serviceAccountClientId === clientId)?.clientRoles?.["realm-management"];
    expect(roles("shouhu-accounts")).toEqual(expect.arrayContaining(["manage-users", "view-users", "query-groups"]));
    expect(roles("shouhu-directory")).not.toContain("manage-users");
    for (const u of adminCallers) expect(u.realmRoles).toEqual(["default-roles-shouhu"]);
  });

  it("has the three clients with the settings the code relies on", () => {
    expect(client("shouhu-web")).toMatchObject({ publicClient: true, directAccessGrantsEnabled: true });
    expect(client("shouhu-api")).toMatchObject({ bearerOnly: true });
    expect(client("shouhu-service")).toMatchObject({ publicClient: false, serviceAccountsEnabled: true, secret: "shouhu-service-secret" });
    // Keycloak (25+) writes sub only through the built-in "basic" scope and realm_access through "roles".
    for (const c of [client("shouhu-web"), client("shouhu-service")])
      expect(c.defaultClientScopes).toEqual(expect.arrayContaining(["basic", "roles", "profile"]));
  });
});

describe("the development issuer serves Keycloak's endpoints", () => {
  it("discovery and JWKS", async () => {
    const discovery = await getJson(`${base}/.well-known/openid-configuration`);
    expect(discovery).toMatchObject({
      issuer: base,
      jwks_uri: `${base}/protocol/openid-connect/certs`,
      token_endpoint: `${base}/protocol/openid-connect/token`,
    });
    const jwks = (await getJson(String(discovery.jwks_uri))) as { keys: Json[] };
    expect(jwks.keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", kid: issuer.keys.signing.kid });
    expect(jwks.keys[0]).not.toHaveProperty("d");
  });

  it("uses publicBaseUrl for iss exactly, whatever host the request came to", async () => {
    const pinned = await createIssuerApp({ realmFile, publicBaseUrl: "http://keycloak:8080/", keys: issuer.keys });
    const res = await pinned.inject({
      method: "POST",
      url: "/realms/shouhu/protocol/openid-connect/token",
      headers: { "content-type": "application/x-www-form-urlencoded", host: "127.0.0.1:9999" },
      payload: "grant_type=password&client_id=shouhu-web&username=county.admin&password=Shouhu%402026",
    });
    expect(decode((res.json() as { access_token: string }).access_token.split(".")[1]!).iss).toBe("http://keycloak:8080/realms/shouhu");
    await pinned.close();
  });

  for (const user of humans) {
    it(`password grant: ${user.username}'s token carries what the export defines`, async () => {
      const { status, body } = await post({ grant_type: "password", client_id: "shouhu-web", username: user.username, password: user.credentials![0]!.value! });
      expect(status).toBe(200);
      expect(body).toMatchObject({
        token_type: "Bearer",
        expires_in: realm.accessTokenLifespan,
        refresh_expires_in: realm.ssoSessionIdleTimeout,
        "not-before-policy": 0,
        scope: "profile email",
      });
      // Keycloak answers a password grant with a refresh token of the session.
      expect(typeof body.refresh_token).toBe("string");
      const token = String(body.access_token);
      const { payload, protectedHeader } = await verifyWithJwks(token);
      expect(protectedHeader).toEqual({ alg: "RS256", typ: "JWT", kid: issuer.keys.signing.kid });
      expect(payload).toMatchObject({
        iss: base,
        sub: user.id,
        typ: "Bearer",
        azp: "shouhu-web",
        preferred_username: user.username,
        given_name: user.firstName,
        family_name: user.lastName,
        name: `${user.firstName} ${user.lastName}`,
        scope: "profile email",
      });
      expect(payload.exp! - payload.iat!).toBe(realm.accessTokenLifespan);
      for (const claim of ["jti", "sid"]) expect(typeof payload[claim]).toBe("string");
      expect([...(payload.realm_access as { roles: string[] }).roles].sort()).toEqual(expectedRoles(user));
      expect((payload.realm_access as { roles: string[] }).roles).toContain("default-roles-shouhu");
      expectMapped(payload, client("shouhu-web"), user);
    });
  }

  for (const user of serviceAccounts) {
    it(`client_credentials: ${user.serviceAccountClientId}'s service account token carries what the export defines`, async () => {
      const c = client(user.serviceAccountClientId!);
      const { status, body } = await post({ grant_type: "client_credentials", client_id: c.clientId, client_secret: c.secret! });
      expect(status).toBe(200);
      const { payload } = await verifyWithJwks(String(body.access_token));
      expect(payload).toMatchObject({ iss: base, sub: user.id, typ: "Bearer", azp: c.clientId, client_id: c.clientId, preferred_username: user.username });
      expect([...(payload.realm_access as { roles: string[] }).roles].sort()).toEqual(expectedRoles(user));
      expectMapped(payload, c, user);
    });
  }

  it("answers refusals in Keycloak's shape", async () => {
    const cases: [Record<string, string>, number, string, string][] = [
      [{ grant_type: "password", client_id: "shouhu-web", username: "county.admin", password: "nope" }, 401, "invalid_grant", "Invalid user credentials"],
      [{ grant_type: "password", client_id: "shouhu-web", username: "nobody", password: "Shouhu@2026" }, 401, "invalid_grant", "Invalid user credentials"],
      [
        { grant_type: "password", client_id: "nope", username: "county.admin", password: "Shouhu@2026" },
        401,
        "invalid_client",
        "Invalid client or Invalid client credentials",
      ],
      [{ grant_type: "password", username: "county.admin", password: "Shouhu@2026" }, 400, "invalid_client", "Missing client_id parameter"],
      [
        { grant_type: "password", client_id: "shouhu-api", username: "county.admin", password: "Shouhu@2026" },
        400,
        "invalid_client",
        "Bearer-only not allowed",
      ],
      [
        { grant_type: "password", client_id: "shouhu-service", client_secret: "shouhu-service-secret", username: "county.admin", password: "Shouhu@2026" },
        400,
        "unauthorized_client",
        "Client not allowed for direct access grants",
      ],
      [
        { grant_type: "client_credentials", client_id: "shouhu-service", client_secret: "wrong" },
        401,
        "unauthorized_client",
        "Invalid client or Invalid client credentials",
      ],
      [{ grant_type: "client_credentials", client_id: "shouhu-web" }, 400, "unauthorized_client", "Public client not allowed to retrieve service account"],
      [{ grant_type: "authorization_code", client_id: "shouhu-web" }, 400, "invalid_request", "Missing parameter: code"],
      [{ grant_type: "implicit", client_id: "shouhu-web" }, 400, "unsupported_grant_type", "Unsupported grant_type"],
      [{ client_id: "shouhu-web" }, 400, "invalid_request", "Missing form parameter: grant_type"],
    ];
    for (const [form, status, error, description] of cases) {
      expect({ form, ...(await post(form)) }).toEqual({ form, status, body: { error, error_description: description } });
    }
  });
});

describe("secrets out of the repository", () => {
  it("the committed realm export holds placeholders for client secrets, resolved from the environment as Keycloak does", async () => {
    const raw = JSON.parse(readFileSync(realmFile, "utf8")) as { clients: { clientId: string; secret?: string }[] };
    const secrets = raw.clients.filter((c) => c.secret !== undefined);
    expect(secrets.length).toBeGreaterThan(0);
    for (const c of secrets) expect(c.secret, c.clientId).toMatch(/^\$\{[A-Z_]+\}$/);
    const { resolvePlaceholders } = await import("../src/realm.js");
    expect(resolvePlaceholders('{"secret":"${SHOUHU_SERVICE_SECRET}"}', { SHOUHU_SERVICE_SECRET: 'pr0d"secret' })).toBe('{"secret":"pr0d\\"secret"}');
    expect(resolvePlaceholders('"${NOT_SET:fallback}"', {})).toBe('"fallback"');
    expect(resolvePlaceholders('"${role_uma_authorization}"', {})).toBe('"${role_uma_authorization}"'); // a message key, left as is
  });
});

describe("brute-force detection (the realm's bruteForceProtected)", () => {
  it("locks a user out after failureFactor wrong passwords, answering exactly as for a wrong password, and lifts it after the wait", async () => {
    const { BruteForceDetector } = await import("../src/brute-force.js");
    let now = 1_000_000;
    const settings = { bruteForceProtected: true, failureFactor: 5, waitIncrementSeconds: 60, maxFailureWaitSeconds: 900, maxDeltaTimeSeconds: 43_200 };
    const bf = new BruteForceDetector(settings, () => now);
    for (let i = 0; i < 4; i++) bf.failure("a");
    expect(bf.isLocked("a")).toBe(false);
    bf.failure("a");
    expect(bf.isLocked("a")).toBe(true);
    now += 61_000;
    expect(bf.isLocked("a")).toBe(false);
    bf.success("a");
    expect(new BruteForceDetector({ ...settings, bruteForceProtected: false }, () => now).isLocked("a")).toBe(false);
  });

  it("the token endpoint refuses the right password while the user is locked, and other users are unaffected", async () => {
    expect(realm.bruteForceProtected).toBe(true);
    const form = (username: string, password: string) => ({ grant_type: "password", client_id: "shouhu-web", username, password });
    for (let i = 0; i < realm.failureFactor!; i++) expect((await post(form("shimen.supervisor", `guess-${i}`))).status).toBe(401);
    const locked = await post(form("shimen.supervisor", "Shouhu@2026"));
    expect(locked).toEqual({ status: 401, body: { error: "invalid_grant", error_description: "Invalid user credentials" } });
    expect((await post(form("changling.supervisor", "Shouhu@2026"))).status).toBe(200);
  });
});

describe("signing keys", () => {
  it("rotation adds a kid and keeps the old one published", async () => {
    const keys = await KeySet.create();
    const app = await createIssuerApp({ realmFile, keys, publicBaseUrl: "http://127.0.0.1:8081" });
    const oldKid = keys.signing.kid;
    const newKid = await keys.rotate();
    const kids = ((await app.inject({ url: "/realms/shouhu/protocol/openid-connect/certs" })).json() as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(kids).toEqual([newKid, oldKid]);
    expect(decode((await app.issueToken("county.admin")).split(".")[0]!).kid).toBe(newKid);
    await app.close();
  });

  it("ISSUER_KEY_FILE: keys are written on first start and reused after a restart, rotations included", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "dev-issuer-"));
    try {
      const file = path.join(dir, "keys", "issuer-keys.json");
      const first = await KeySet.create(file);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const second = await KeySet.create(file);
      expect(second.jwks()).toEqual(first.jwks());
      await second.rotate();
      expect((await KeySet.create(file)).jwks()).toEqual(second.jwks());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("issueToken makes bad tokens only when asked", async () => {
    const normal = decode((await issuer.issueToken("county.admin")).split(".")[1]!);
    expect(normal.iss).toBe(base);
    expect(Number(normal.exp)).toBeGreaterThan(Date.now() / 1000);
    const expired = decode((await issuer.issueToken("county.admin", "shouhu-web", { expiresIn: -60 })).split(".")[1]!);
    expect(Number(expired.exp)).toBeLessThan(Date.now() / 1000);
    const foreign = decode((await issuer.issueToken("county.admin", "shouhu-web", { issuer: "http://evil/realms/shouhu" })).split(".")[1]!);
    expect(foreign.iss).toBe("http://evil/realms/shouhu");
    await expect(issuer.issueToken("nobody")).rejects.toThrow(/no user/);
  });
});

describe("the production realm export and the dev users file", () => {
  const raw = JSON.parse(readFileSync(realmFile, "utf8")) as { users?: RealmUser[] };
  const devUsersFile = fileURLToPath(new URL("../../../infra/keycloak/dev/shouhu-users-0.json", import.meta.url));

  it("the realm Keycloak imports in production holds service accounts only, no human logins", () => {
    expect(raw.users?.length).toBeGreaterThan(0);
    expect(raw.users!.filter((u) => !u.serviceAccountClientId)).toEqual([]);
    expect(loadRealm(realmFile, { usersFile: false }).users!.every((u) => u.serviceAccountClientId)).toBe(true);
    // Nothing that signs in is spelled out: no credentials at all, client secrets only as placeholders.
    const text = readFileSync(realmFile, "utf8");
    expect(text).not.toContain('"credentials"');
    expect(text).not.toContain("Shouhu@2026");
    expect(text).not.toMatch(/"(secret|value|password)"\s*:\s*"(?!\$\{)[^"]+"/);
  });

  it("loadRealm adds users only when asked (option or DEV_USERS_FILE), and refuses another realm's users or a clash", () => {
    const saved = process.env.DEV_USERS_FILE;
    try {
      delete process.env.DEV_USERS_FILE;
      expect(loadRealm(realmFile).users!.some((u) => !u.serviceAccountClientId)).toBe(false);
      process.env.DEV_USERS_FILE = devUsersFile;
      expect(loadRealm(realmFile).users!.some((u) => u.username === "county.admin")).toBe(true);
      expect(loadRealm(realmFile, { usersFile: false }).users!.some((u) => !u.serviceAccountClientId)).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.DEV_USERS_FILE;
      else process.env.DEV_USERS_FILE = saved;
    }
    const dir = mkdtempSync(path.join(tmpdir(), "users-"));
    try {
      const other = path.join(dir, "other-users-0.json");
      writeFileSync(other, JSON.stringify({ realm: "other", users: [] }));
      expect(() => loadRealm(realmFile, { usersFile: other })).toThrow(/realm other/);
      const clash = path.join(dir, "shouhu-users-1.json");
      writeFileSync(clash, JSON.stringify({ realm: "shouhu", users: [{ id: "x", username: "service-account-shouhu-service" }] }));
      expect(() => loadRealm(realmFile, { usersFile: clash })).toThrow(/already/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the demo users sit in a Keycloak directory-export users file that the issuer loads by default", () => {
    const dev = JSON.parse(readFileSync(devUsersFile, "utf8")) as { realm: string; users: RealmUser[] };
    expect(dev.realm).toBe("shouhu");
    expect(dev.users.length).toBeGreaterThan(0);
    expect(dev.users.every((u) => !u.serviceAccountClientId)).toBe(true);
    expect(repoDevUsersFile()).toBe(devUsersFile);
    expect(dev.users.every((u) => u.credentials?.every((c) => c.type === "password" && c.value === "Shouhu@2026"))).toBe(true);
    expect(humans.map((u) => u.username).sort()).toEqual(dev.users.map((u) => u.username).sort());
  });

  it("an issuer without the users file signs in no human", async () => {
    const bare = await createIssuerApp({ realmFile, usersFile: false, keys: issuer.keys });
    const res = await bare.inject({
      method: "POST",
      url: "/realms/shouhu/protocol/openid-connect/token",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "grant_type=password&client_id=shouhu-web&username=county.admin&password=Shouhu%402026",
    });
    expect(res.statusCode).toBe(401);
    await bare.close();
  });
});
