import { fileURLToPath } from "node:url";
import { createHmac, createPublicKey } from "node:crypto";
import { createServer } from "node:net";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppError, ForbiddenError, UnauthorizedError } from "@shouhu/kit";
import { createIssuerApp, KeySet, rotateSigningKey, type IssuerApp } from "@shouhu/dev-issuer";
import { AuthUnavailableError, createTokenVerifier, type TokenVerifier } from "../src/index.js";

const realmFile = fileURLToPath(new URL("../../../infra/keycloak/shouhu-realm.json", import.meta.url));
const PASSWORD = "Shouhu@2026";
let issuer: IssuerApp;
let issuerUrl: string;
let verifier: TokenVerifier;

interface TokenResponse {
  access_token: string;
  expires_in: number;
  token_type: string;
  error?: string;
  error_description?: string;
}

async function tokenRequest(form: Record<string, string>, headers: Record<string, string> = {}) {
  const res = await fetch(`${issuerUrl}/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form),
  });
  return { status: res.status, body: (await res.json()) as TokenResponse };
}

async function passwordToken(username: string): Promise<string> {
  const { status, body } = await tokenRequest({ grant_type: "password", client_id: "shouhu-web", username, password: PASSWORD });
  expect(status).toBe(200);
  return body.access_token;
}

const b64url = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
const headerOf = (token: string) => JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString()) as { kid: string; alg: string };

/** The 401 reason a token is refused with ("accepted" if it is not refused). */
async function refusal(token: string, v: TokenVerifier = verifier): Promise<string> {
  try {
    await v.verify(token);
    return "accepted";
  } catch (err) {
    expect(err).toBeInstanceOf(UnauthorizedError);
    return String(((err as UnauthorizedError).details as { reason?: string } | undefined)?.reason);
  }
}

beforeAll(async () => {
  issuer = await createIssuerApp({ realmFile });
  const address = await issuer.listen({ port: 0, host: "127.0.0.1" });
  issuerUrl = `${address}/realms/shouhu`;
  verifier = createTokenVerifier({ issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] });
});
afterAll(async () => issuer.close());

describe("valid tokens (keycloak-connect GrantManager, offline JWKS)", () => {
  it("password grant → principal with roles, org unit and Chinese display name", async () => {
    const principal = await verifier.verify(await passwordToken("changling.supervisor"));
    expect(principal).toMatchObject({
      username: "changling.supervisor",
      name: "王丽",
      roles: ["township-supervisor"],
      orgUnit: "360999101",
      schoolCode: null,
      clientId: "shouhu-web",
    });
    expect(principal.userId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("carries the teacher's school code", async () => {
    const principal = await verifier.verify(await passwordToken("changling.teacher"));
    expect(principal).toMatchObject({ roles: ["teacher"], orgUnit: "360999101", schoolCode: "S360999101001" });
  });

  it("client_credentials (HTTP Basic and form secret) → the service account as county-admin", async () => {
    const basic = await tokenRequest(
      { grant_type: "client_credentials" },
      { authorization: `Basic ${Buffer.from("shouhu-service:shouhu-service-secret").toString("base64")}` },
    );
    const post = await tokenRequest({ grant_type: "client_credentials", client_id: "shouhu-service", client_secret: "shouhu-service-secret" });
    for (const { status, body } of [basic, post]) {
      expect(status).toBe(200);
      const principal = await verifier.verify(body.access_token);
      expect(principal).toMatchObject({ username: "service-account-shouhu-service", roles: ["county-admin"], orgUnit: "360999", clientId: "shouhu-service" });
    }
  });

  it("answers bad credentials in Keycloak's shape", async () => {
    expect(await tokenRequest({ grant_type: "password", client_id: "shouhu-web", username: "county.admin", password: "wrong" })).toEqual({
      status: 401,
      body: { error: "invalid_grant", error_description: "Invalid user credentials" },
    });
    expect(await tokenRequest({ grant_type: "client_credentials", client_id: "shouhu-service", client_secret: "wrong" })).toEqual({
      status: 401,
      body: { error: "unauthorized_client", error_description: "Invalid client or Invalid client credentials" },
    });
  });
});

describe("refused tokens → 401", () => {
  it("missing and malformed", async () => {
    expect(await refusal("")).toBe("missing token");
    expect(await refusal("abc.def")).toBe("malformed token");
    expect(await refusal("a.b.c")).toBe("malformed token");
  });

  it("expired", async () => {
    expect(await refusal(await issuer.issueToken("county.admin", "shouhu-web", { expiresIn: -5 }))).toMatch(/expired/);
  });

  it("without exp (keycloak-connect alone would take it as never expiring)", async () => {
    expect(await refusal(await issuer.issueToken("county.admin", "shouhu-web", { overrides: { exp: undefined } }))).toMatch(/no exp/);
  });

  it("from another issuer", async () => {
    const token = await issuer.issueToken("county.admin", "shouhu-web", { issuer: "http://evil.example/realms/shouhu" });
    expect(await refusal(token)).toMatch(/wrong ISS/);
  });

  it("from the same server under another hostname (the KC_HOSTNAME trap): iss must match exactly", async () => {
    const viaLocalhost = createTokenVerifier({ issuerUrl: issuerUrl.replace("127.0.0.1", "localhost"), audience: "shouhu-api" });
    expect(await refusal(await passwordToken("county.admin"), viaLocalhost)).toMatch(/wrong ISS/);
  });

  it("not an access token (typ ID)", async () => {
    expect(await refusal(await issuer.issueToken("county.admin", "shouhu-web", { overrides: { typ: "ID" } }))).toMatch(/wrong type/);
  });

  it("signed by another key under the realm's kid", async () => {
    const stranger = await KeySet.create();
    const kid = issuer.keys.signing.kid;
    const claims = JSON.parse(Buffer.from((await issuer.issueToken("county.admin")).split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
    const forged = await new SignJWT(claims).setProtectedHeader({ alg: "RS256", typ: "JWT", kid }).sign(stranger.signing.privateKey);
    expect(await refusal(forged)).toMatch(/signature/);
  });

  it("signed by a key the realm does not publish (unknown kid)", async () => {
    const stranger = await createIssuerApp({ realmFile, keys: await KeySet.create() });
    const fresh = createTokenVerifier({ issuerUrl, audience: "shouhu-api" });
    expect(await refusal(await stranger.issueToken("county.admin", "shouhu-web", { issuer: issuerUrl }), fresh)).toMatch(/unknown signing key/);
  });

  it("a tampered payload", async () => {
    const [h, p, s] = (await issuer.issueToken("changling.director")).split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, "base64url").toString()) as Record<string, unknown>;
    expect(await refusal(`${h}.${b64url({ ...claims, org_unit: "360999" })}.${s}`)).toMatch(/signature/);
  });

  it("alg none", async () => {
    const payload = (await issuer.issueToken("county.admin")).split(".")[1]!;
    expect(await refusal(`${b64url({ alg: "none", typ: "JWT" })}.${payload}.`)).toBe("alg none not allowed");
  });

  it("HS256 signed with the realm's public key as the secret (key confusion)", async () => {
    const jwk = issuer.keys.jwks().keys[0]!;
    const pem = createPublicKey({ key: jwk as never, format: "jwk" }).export({ type: "spki", format: "pem" });
    const payload = (await issuer.issueToken("county.admin")).split(".")[1]!;
    const header = b64url({ alg: "HS256", typ: "JWT", kid: jwk.kid });
    const sig = createHmac("sha256", pem).update(`${header}.${payload}`).digest("base64url");
    expect(await refusal(`${header}.${payload}.${sig}`)).toBe("alg HS256 not allowed");
  });

  it("without our audience", async () => {
    expect(await refusal(await issuer.issueToken("county.admin", "shouhu-web", { overrides: { aud: "account" } }))).toMatch(/wrong audience/);
    const otherApi = createTokenVerifier({ issuerUrl, audience: "some-other-api" });
    expect(await refusal(await passwordToken("county.admin"), otherApi)).toMatch(/wrong audience/);
  });

  it("issued to a client not in the allow-list", async () => {
    const onlyService = createTokenVerifier({ issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-service"] });
    expect(await refusal(await passwordToken("county.admin"), onlyService)).toBe("client shouhu-web not allowed");
  });
});

describe("other outcomes", () => {
  it("a valid token without org_unit → 403 naming the missing attribute", async () => {
    const token = await issuer.issueToken("county.admin", "shouhu-web", { overrides: { org_unit: undefined } });
    const err = await verifier.verify(token).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForbiddenError);
    expect((err as ForbiddenError).message).toMatch(/org_unit/);
  });

  it("JWKS unreachable → 503, not 401", async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const deadIssuer = `http://127.0.0.1:${port}/realms/shouhu`;
    const v = createTokenVerifier({ issuerUrl: deadIssuer, audience: "shouhu-api" });
    const err = await v.verify(await issuer.issueToken("county.admin", "shouhu-web", { issuer: deadIssuer })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthUnavailableError);
    expect((err as AppError).statusCode).toBe(503);
  });
});

describe("key rotation", () => {
  it("a cached verifier picks up a new kid once the refetch window has passed; old tokens stay valid", async () => {
    const keys = await KeySet.create();
    const rotating = await createIssuerApp({ realmFile, keys });
    const url = `${await rotating.listen({ port: 0, host: "127.0.0.1" })}/realms/shouhu`;
    try {
      // The window must outlast an RSA key generation (rotate) on a loaded machine.
      const windowMs = 2000;
      const v = createTokenVerifier({ issuerUrl: url, audience: "shouhu-api", jwksMinIntervalSeconds: windowMs / 1000 });
      const before = await rotating.issueToken("county.admin");
      await expect(v.verify(before)).resolves.toMatchObject({ username: "county.admin" }); // fetches and caches the JWKS
      const fetchedAt = Date.now();

      const newKid = await rotateSigningKey(keys);
      const after = await rotating.issueToken("county.admin");
      expect(headerOf(after).kid).toBe(newKid);
      expect(headerOf(after).kid).not.toBe(headerOf(before).kid);
      // Inside keycloak-connect's refetch window an unknown kid is refused outright.
      expect(await refusal(after, v)).toMatch(/refetched less than/);

      await new Promise((r) => setTimeout(r, fetchedAt + windowMs + 100 - Date.now()));
      await expect(v.verify(after)).resolves.toMatchObject({ username: "county.admin" }); // refetched for the new kid
      await expect(v.verify(before)).resolves.toMatchObject({ username: "county.admin" }); // old key still published

      keys.retire(1);
      const v2 = createTokenVerifier({ issuerUrl: url, audience: "shouhu-api" });
      expect(await refusal(before, v2)).toMatch(/unknown signing key/); // a retired key's tokens stop validating
    } finally {
      await rotating.close();
    }
  });
});
