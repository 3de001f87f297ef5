import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { browserSignIn, createIssuerApp, type IssuerApp } from "@shouhu/dev-issuer";
import { serviceConfigSchema } from "@shouhu/kit";
import { createTokenVerifier } from "../src/index.js";

// The console signs in with the code flow; its tokens must pass the services' verifier with the default allowed clients.
const realmFile = fileURLToPath(new URL("../../../infra/keycloak/shouhu-realm.json", import.meta.url));
let issuer: IssuerApp;
let issuerUrl: string;

beforeAll(async () => {
  issuer = await createIssuerApp({ realmFile });
  issuerUrl = `${await issuer.listen({ port: 0, host: "127.0.0.1" })}/realms/shouhu`;
});
afterAll(async () => issuer.close());

it("accepts an access token the shouhu-console client got through the browser flow", async () => {
  const { status, tokens } = await browserSignIn({ issuerUrl, username: "county.admin", password: "Shouhu@2026" });
  expect(status).toBe(200);
  // The allowed clients every service gets when OIDC_ALLOWED_CLIENTS is not set.
  const config = serviceConfigSchema({ port: 0, database: "x" }).parse({});
  expect(config.OIDC_ALLOWED_CLIENTS).toContain("shouhu-console");
  const verifier = createTokenVerifier({ issuerUrl, audience: config.OIDC_AUDIENCE, allowedClients: config.OIDC_ALLOWED_CLIENTS });
  const principal = await verifier.verify(String(tokens.access_token));
  expect(principal).toMatchObject({ username: "county.admin" });
});
