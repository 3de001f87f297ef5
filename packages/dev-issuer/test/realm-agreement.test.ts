import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "@shouhu/contracts";
import { createIssuerApp, loadRealm, type IssuerApp } from "../src/index.js";

const realmFile = fileURLToPath(new URL("../../../infra/keycloak/shouhu-realm.json", import.meta.url));
const realm = loadRealm(realmFile);
let issuer: IssuerApp;
let base: string;

const decode = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());

beforeAll(async () => {
  issuer = await createIssuerApp({ realmFile });
  base = `${await issuer.listen({ port: 0, host: "127.0.0.1" })}/realms/shouhu`;
});
afterAll(async () => issuer.close());

describe("the realm export and the development issuer agree", () => {
  it("defines every role the code knows, and no unknown application role", () => {
    const realmRoles = (realm.roles?.realm ?? []).map((r) => r.name);
    for (const role of Role.options) expect(realmRoles).toContain(role);
    const builtIn = ["default-roles-shouhu", "offline_access", "uma_authorization"];
    expect(realmRoles.filter((r) => !builtIn.includes(r)).sort()).toEqual([...Role.options].sort());
  });

  it("serves Keycloak's discovery document and JWKS", async () => {
    const discovery = await (await fetch(`${base}/.well-known/openid-configuration`)).json();
    expect(discovery).toMatchObject({ issuer: base, jwks_uri: `${base}/protocol/openid-connect/certs`, token_endpoint: `${base}/protocol/openid-connect/token` });
    const jwks = await (await fetch(discovery.jwks_uri)).json();
    expect(jwks.keys[0]).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig" });
    expect(jwks.keys[0].d).toBeUndefined();
  });

  const webClient = realm.clients!.find((c) => c.clientId === "shouhu-web")!;
  for (const user of realm.users!.filter((u) => !u.serviceAccountClientId)) {
    it(`issues ${user.username} a token carrying the roles, claims and audience the export defines`, async () => {
      const res = await fetch(`${base}/protocol/openid-connect/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "password", client_id: "shouhu-web", username: user.username, password: user.credentials![0]!.value! }),
      });
      expect(res.status).toBe(200);
      const body = await res.json();
      expect(body).toMatchObject({ token_type: "Bearer", expires_in: realm.accessTokenLifespan });
      const claims = decode(body.access_token);
      expect(claims).toMatchObject({ iss: base, typ: "Bearer", azp: "shouhu-web", sub: user.id, preferred_username: user.username });
      const groupRoles = (user.groups ?? []).flatMap((p) => realm.groups!.find((g) => g.path === p)?.realmRoles ?? []);
      for (const role of groupRoles) expect(claims.realm_access.roles).toContain(role);
      for (const mapper of webClient.protocolMappers ?? []) {
        if (mapper.protocolMapper === "oidc-usermodel-attribute-mapper") {
          const value = user.attributes?.[mapper.config["user.attribute"]!]?.[0];
          expect(claims[mapper.config["claim.name"]!]).toBe(value);
        }
        if (mapper.protocolMapper === "oidc-audience-mapper") {
          expect([claims.aud].flat()).toContain(mapper.config["included.client.audience"]);
        }
      }
    });
  }

  it("every demo user has an org_unit and exactly one application role", () => {
    for (const user of realm.users!) {
      expect(user.attributes?.org_unit?.[0]).toMatch(/^(\d{6}|\d{9}|\d{12})$/);
    }
  });

  it("refuses a bearer-only client and an unknown grant", async () => {
    const post = (form: Record<string, string>) =>
      fetch(`${base}/protocol/openid-connect/token`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(form) });
    expect((await post({ grant_type: "password", client_id: "shouhu-api", username: "county.admin", password: "Shouhu@2026" })).status).toBe(401);
    expect((await post({ grant_type: "authorization_code", client_id: "shouhu-web" })).status).toBe(400);
    expect((await post({ grant_type: "client_credentials", client_id: "shouhu-service", client_secret: "wrong" })).status).toBe(401);
  });
});
