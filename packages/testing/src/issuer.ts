import { fileURLToPath } from "node:url";
import { createIssuerApp, type IssuerApp } from "@shouhu/dev-issuer";

/** The realm export every test signs in against: the file a real Keycloak imports (service accounts only). */
export const realmFile = fileURLToPath(new URL("../../../infra/keycloak/shouhu-realm.json", import.meta.url));
/** The demo users (Keycloak directory-export users file), kept out of the production realm export. */
export const devUsersFile = fileURLToPath(new URL("../../../infra/keycloak/dev/shouhu-users-0.json", import.meta.url));
/** Every demo user's password in the dev users file. */
export const DEMO_PASSWORD = "Shouhu@2026";

export interface TestIssuer {
  /** Realm URL, e.g. http://127.0.0.1:40123/realms/shouhu — what OIDC_ISSUER_URL holds. */
  issuerUrl: string;
  /** The issuer itself (e.g. `issueToken` for tokens of unusual shape). */
  server: IssuerApp;
  token(username: string): Promise<string>;
  /** `{ authorization: "Bearer …" }` for `app.inject`. */
  as(username: string): Promise<{ authorization: string }>;
  close(): Promise<void>;
}

/** The development issuer on a free port, with a per-user token cache (password grant, as the web client signs in). */
export async function startTestIssuer(): Promise<TestIssuer> {
  const app = await createIssuerApp({ realmFile, usersFile: devUsersFile });
  // Without a fixed public URL the issuer names itself after the Host it is called on.
  const issuerUrl = `${await app.listen({ port: 0, host: "127.0.0.1" })}/realms/shouhu`;
  const tokens = new Map<string, string>();
  async function token(username: string): Promise<string> {
    const cached = tokens.get(username);
    if (cached) return cached;
    const res = await fetch(`${issuerUrl}/protocol/openid-connect/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "password", client_id: "shouhu-web", username, password: DEMO_PASSWORD }),
    });
    if (!res.ok) throw new Error(`token for ${username}: ${res.status} ${await res.text()}`);
    const { access_token } = (await res.json()) as { access_token: string };
    tokens.set(username, access_token);
    return access_token;
  }
  return {
    issuerUrl,
    server: app,
    token,
    as: async (username) => ({ authorization: `Bearer ${await token(username)}` }),
    close: () => app.close(),
  };
}
