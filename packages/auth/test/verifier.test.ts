import { fileURLToPath } from "node:url";
import { createHmac, createPublicKey } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnauthorizedError } from "@shouhu/kit";
import { createIssuerApp, KeySet, type IssuerApp } from "@shouhu/dev-issuer";
import { createTokenVerifier, fieldAccess, maskIdNumber, maskPhone, withinJurisdiction, type TokenVerifier } from "../src/index.js";

const realmFile = fileURLToPath(new URL("../../../infra/keycloak/shouhu-realm.json", import.meta.url));
let issuer: IssuerApp;
let issuerUrl: string;
let verifier: TokenVerifier;

async function password(username: string, pw = "Shouhu@2026", clientId = "shouhu-web") {
  return fetch(`${issuerUrl}/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "password", client_id: clientId, username, password: pw }),
  });
}

const b64url = (v: object | string) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

async function reason(token: string): Promise<string> {
  try {
    await verifier.verify(token);
    return "accepted";
  } catch (err) {
    expect(err).toBeInstanceOf(UnauthorizedError);
    return JSON.stringify((err as UnauthorizedError).details);
  }
}

beforeAll(async () => {
  issuer = await createIssuerApp({ realmFile });
  const address = await issuer.listen({ port: 0, host: "127.0.0.1" });
  issuerUrl = `${address}/realms/shouhu`;
  verifier = createTokenVerifier({ issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] });
});
afterAll(async () => issuer.close());

describe("token verification (keycloak-connect, offline JWKS)", () => {
  it("accepts a password-grant token and yields the principal", async () => {
    const res = await password("changling.supervisor");
    expect(res.status).toBe(200);
    const principal = await verifier.verify((await res.json()).access_token);
    expect(principal).toMatchObject({ username: "changling.supervisor", roles: ["township-supervisor"], orgUnit: "360999101", clientId: "shouhu-web", name: "王丽" });
  });

  it("accepts a client_credentials token for the service account", async () => {
    const res = await fetch(`${issuerUrl}/protocol/openid-connect/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: `Basic ${Buffer.from("shouhu-service:shouhu-service-secret").toString("base64")}` },
      body: new URLSearchParams({ grant_type: "client_credentials" }),
    });
    expect(res.status).toBe(200);
    const principal = await verifier.verify((await res.json()).access_token);
    expect(principal).toMatchObject({ roles: ["county-admin"], orgUnit: "360999", clientId: "shouhu-service" });
  });

  it("answers bad credentials like Keycloak", async () => {
    const res = await password("changling.supervisor", "wrong");
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: "invalid_grant", error_description: "Invalid user credentials" });
  });

  it("rejects missing and malformed tokens", async () => {
    expect(await reason("")).toMatch(/malformed/);
    expect(await reason("abc.def")).toMatch(/malformed/);
  });

  it("rejects an expired token", async () => {
    const token = await issuer.issueToken("county.admin", "shouhu-web", { issuer: issuerUrl, now: Math.floor(Date.now() / 1000) - 3600 });
    expect(await reason(token)).toMatch(/expired/);
  });

  it("rejects a token from another issuer", async () => {
    const token = await issuer.issueToken("county.admin", "shouhu-web", { issuer: "http://evil.example/realms/shouhu" });
    expect(await reason(token)).toMatch(/ISS/);
  });

  it("rejects a token signed by a key the realm does not publish", async () => {
    const stranger = await createIssuerApp({ realmFile, keys: await KeySet.create() });
    const token = await stranger.issueToken("county.admin", "shouhu-web", { issuer: issuerUrl });
    // Unknown kid: keycloak-connect refetches the JWKS (or, within 10 s of the last fetch,
    // refuses outright) and finds no key for it.
    expect(await reason(token)).not.toBe("accepted");
  });

  it("rejects a tampered payload", async () => {
    const token = await issuer.issueToken("changling.director", "shouhu-web", { issuer: issuerUrl });
    const [h, p, s] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, "base64url").toString());
    claims.org_unit = "360999";
    expect(await reason(`${h}.${b64url(claims)}.${s}`)).toMatch(/signature/);
  });

  it("rejects alg none", async () => {
    const token = await issuer.issueToken("county.admin", "shouhu-web", { issuer: issuerUrl });
    const payload = token.split(".")[1]!;
    expect(await reason(`${b64url({ alg: "none", typ: "JWT" })}.${payload}.`)).toMatch(/alg none/);
  });

  it("rejects HS256 signed with the public key as secret (key confusion)", async () => {
    const jwk = issuer.keys.jwks().keys[0]!;
    const pem = createPublicKey({ key: jwk as never, format: "jwk" }).export({ type: "spki", format: "pem" });
    const token = await issuer.issueToken("county.admin", "shouhu-web", { issuer: issuerUrl });
    const payload = token.split(".")[1]!;
    const header = b64url({ alg: "HS256", typ: "JWT", kid: jwk.kid });
    const sig = createHmac("sha256", pem).update(`${header}.${payload}`).digest("base64url");
    expect(await reason(`${header}.${payload}.${sig}`)).toMatch(/alg HS256/);
  });

  it("rejects a token without our audience, and one from a client not allowed", async () => {
    const noAud = await issuer.issueToken("county.admin", "shouhu-web", { issuer: issuerUrl, overrides: { aud: "account" } });
    expect(await reason(noAud)).toMatch(/audience/);
    const strict = createTokenVerifier({ issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-service"] });
    const token = await issuer.issueToken("county.admin", "shouhu-web", { issuer: issuerUrl });
    await expect(strict.verify(token)).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it("rejects a token without an org_unit", async () => {
    const token = await issuer.issueToken("county.admin", "shouhu-web", { issuer: issuerUrl, overrides: { org_unit: undefined } });
    expect(await reason(token)).toMatch(/org_unit/);
  });

  it("follows a key rotation by kid", async () => {
    const before = await issuer.issueToken("county.admin", "shouhu-web", { issuer: issuerUrl });
    await verifier.verify(before);
    // A fresh verifier has no cached keys, so it fetches the JWKS for the new kid at once
    // (keycloak-connect refetches at most every 10 s).
    const kid = await issuer.keys.rotate();
    const after = await issuer.issueToken("county.admin", "shouhu-web", { issuer: issuerUrl });
    expect(JSON.parse(Buffer.from(after.split(".")[0]!, "base64url").toString()).kid).toBe(kid);
    const fresh = createTokenVerifier({ issuerUrl, audience: "shouhu-api" });
    await expect(fresh.verify(after)).resolves.toMatchObject({ username: "county.admin" });
    await expect(fresh.verify(before)).resolves.toMatchObject({ username: "county.admin" });
  });
});

describe("jurisdiction and masking", () => {
  it("is a prefix test on org-unit codes", () => {
    expect(withinJurisdiction({ orgUnit: "360999" }, "360999101201")).toBe(true);
    expect(withinJurisdiction({ orgUnit: "360999101" }, "360999101202")).toBe(true);
    expect(withinJurisdiction({ orgUnit: "360999101" }, "360999102201")).toBe(false);
    expect(withinJurisdiction({ orgUnit: "360999101201" }, "360999101202")).toBe(false);
    expect(withinJurisdiction({ orgUnit: "" }, "360999101202")).toBe(false);
  });

  it("masks by role", () => {
    expect(fieldAccess({ roles: ["inspector"] })).toEqual({ idNumbers: false, phones: false, sensitiveNotes: false });
    expect(fieldAccess({ roles: ["teacher"] })).toEqual({ idNumbers: false, phones: true, sensitiveNotes: true });
    expect(fieldAccess({ roles: ["township-supervisor"] }).idNumbers).toBe(true);
    expect(maskIdNumber("430102201205030017")).toBe("4301**********0017");
    expect(maskPhone("13812345678")).toBe("138****5678");
  });
});
