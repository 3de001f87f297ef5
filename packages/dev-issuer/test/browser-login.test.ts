import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createIssuerApp, formAction, pkcePair, type IssuerApp } from "../src/index.js";

const realmFile = fileURLToPath(new URL("../../../infra/keycloak/shouhu-realm.json", import.meta.url));
const REDIRECT = "http://127.0.0.1:5173/callback";
let issuer: IssuerApp;
let base: string;
type Json = Record<string, unknown>;
const decode = (jwt: string) => JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as Json;

beforeAll(async () => {
  issuer = await createIssuerApp({ realmFile });
  base = `${await issuer.listen({ port: 0, host: "127.0.0.1" })}/realms/shouhu`;
});
afterAll(async () => issuer.close());

function authUrl(params: Record<string, string | undefined>): string {
  const url = new URL(`${base}/protocol/openid-connect/auth`);
  const all = { client_id: "shouhu-console", redirect_uri: REDIRECT, response_type: "code", scope: "openid profile email", state: "st<1>", nonce: "nn", ...params };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

const form = (body: Record<string, string>) => ({ method: "POST", redirect: "manual" as const, headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams(body) });
const token = async (body: Record<string, string>, headers: Record<string, string> = {}) => {
  const res = await fetch(`${base}/protocol/openid-connect/token`, { ...form(body), headers: { "content-type": "application/x-www-form-urlencoded", ...headers } });
  return { status: res.status, body: (await res.json()) as Json, headers: res.headers };
};

/** GET /auth → form → POST credentials: the redirect (or the page again). */
async function login(challenge: string, password = "Shouhu@2026", extra: Record<string, string> = {}) {
  const page = await fetch(authUrl({ code_challenge: challenge, code_challenge_method: "S256", ...extra }), { redirect: "manual" });
  expect(page.status).toBe(200);
  return fetch(formAction(await page.text()), form({ username: "county.admin", password }));
}

describe("browser sign-in of shouhu-console (authorization code + PKCE)", () => {
  it("runs the whole flow: form, cookie, code, refresh, logout, refresh refused", async () => {
    const { verifier, challenge } = pkcePair();
    const page = await fetch(authUrl({ code_challenge: challenge, code_challenge_method: "S256" }), { redirect: "manual" });
    const html = await page.text();
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(html).toContain('lang="zh-CN"');
    expect(html).toContain("<title>登录 · 守护</title>");
    for (const part of ['id="username" name="username"', 'id="password" name="password"', '<label for="username">', '<label for="password">', 'id="kc-login"', 'value="登录"']) expect(html).toContain(part);
    expect(html).not.toMatch(/<script|<link/);

    const res = await fetch(formAction(html), form({ username: "county.admin", password: "Shouhu@2026" }));
    expect(res.status).toBe(302);
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^KEYCLOAK_SESSION=[^;]+; Path=\/realms\/shouhu\/;.*HttpOnly; SameSite=Lax/);
    const location = new URL(res.headers.get("location")!);
    expect(location.origin + location.pathname).toBe(REDIRECT);
    expect(location.searchParams.get("state")).toBe("st<1>");
    expect(location.searchParams.get("iss")).toBe(base);
    const sessionState = location.searchParams.get("session_state");
    const code = location.searchParams.get("code")!;

    const exchanged = await token({ grant_type: "authorization_code", client_id: "shouhu-console", code, redirect_uri: REDIRECT, code_verifier: verifier });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body).toMatchObject({ token_type: "Bearer", expires_in: 300, refresh_expires_in: 1800, session_state: sessionState, scope: "openid profile email" });
    const access = decode(String(exchanged.body.access_token));
    expect(access).toMatchObject({ azp: "shouhu-console", aud: "shouhu-api", preferred_username: "county.admin", sid: sessionState, typ: "Bearer" });
    expect(Number(access.exp) - Number(access.iat)).toBe(300);
    expect(decode(String(exchanged.body.id_token))).toMatchObject({ aud: "shouhu-console", nonce: "nn", sid: sessionState, typ: "ID", iss: base });
    expect(decode(String(exchanged.body.refresh_token))).toMatchObject({ typ: "Refresh", azp: "shouhu-console", sid: sessionState });

    // The code is single use.
    const again = await token({ grant_type: "authorization_code", client_id: "shouhu-console", code, redirect_uri: REDIRECT, code_verifier: verifier });
    expect(again).toMatchObject({ status: 400, body: { error: "invalid_grant", error_description: "Code not valid" } });

    const info = await fetch(`${base}/protocol/openid-connect/userinfo`, { headers: { authorization: `Bearer ${String(exchanged.body.access_token)}`, origin: "http://127.0.0.1:5173" } });
    expect(info.status).toBe(200);
    expect(info.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:5173");
    expect(await info.json()).toMatchObject({ sub: access.sub, preferred_username: "county.admin" });

    const refreshed = await token({ grant_type: "refresh_token", client_id: "shouhu-console", refresh_token: String(exchanged.body.refresh_token) });
    expect(refreshed.status).toBe(200);
    expect(decode(String(refreshed.body.access_token))).toMatchObject({ azp: "shouhu-console", sid: sessionState });
    // A refresh token is bound to its client.
    expect(await token({ grant_type: "refresh_token", client_id: "shouhu-web", refresh_token: String(refreshed.body.refresh_token) })).toMatchObject({ status: 400, body: { error: "invalid_grant" } });

    // With a live session /auth skips the form.
    const sso = await fetch(authUrl({ code_challenge: pkcePair().challenge, code_challenge_method: "S256", prompt: "none" }), { redirect: "manual", headers: { cookie: cookie.split(";")[0]! } });
    expect(sso.status).toBe(302);
    expect(new URL(sso.headers.get("location")!).searchParams.get("code")).toBeTruthy();

    const logout = new URL(`${base}/protocol/openid-connect/logout`);
    logout.searchParams.set("id_token_hint", String(exchanged.body.id_token));
    logout.searchParams.set("post_logout_redirect_uri", "http://127.0.0.1:5173/");
    logout.searchParams.set("state", "bye");
    const out = await fetch(logout, { redirect: "manual", headers: { cookie: cookie.split(";")[0]! } });
    expect(out.status).toBe(302);
    expect(out.headers.get("location")).toBe("http://127.0.0.1:5173/?state=bye");
    expect(out.headers.get("set-cookie")).toMatch(/^KEYCLOAK_SESSION=; .*Max-Age=0/);

    const refused = await token({ grant_type: "refresh_token", client_id: "shouhu-console", refresh_token: String(refreshed.body.refresh_token) });
    expect(refused).toMatchObject({ status: 400, body: { error: "invalid_grant", error_description: "Session not active" } });
    const infoAfter = await fetch(`${base}/protocol/openid-connect/userinfo`, { headers: { authorization: `Bearer ${String(exchanged.body.access_token)}` } });
    expect(infoAfter.status).toBe(401);
    // The ended session no longer signs in silently.
    const after = await fetch(authUrl({ code_challenge: pkcePair().challenge, code_challenge_method: "S256", prompt: "none" }), { redirect: "manual", headers: { cookie: cookie.split(";")[0]! } });
    expect(new URL(after.headers.get("location")!).searchParams.get("error")).toBe("login_required");
  });

  it("shows the form again with #input-error for a wrong password, escaping what it echoes", async () => {
    const page = await fetch(authUrl({ code_challenge: pkcePair().challenge, code_challenge_method: "S256" }), { redirect: "manual" });
    const res = await fetch(formAction(await page.text()), form({ username: '"><script>x</script>', password: "nope" }));
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<span id="input-error" aria-live="polite">用户名或密码无效。</span>');
    expect(html).not.toContain("<script>x");
    expect(html).toContain("&quot;&gt;&lt;script&gt;");
    expect((await login(pkcePair().challenge, "wrong")).status).toBe(200);
  });

  it("locks the form like the password grant after the realm's failureFactor, even for the right password", async () => {
    const attempt = async (password: string) => {
      const page = await fetch(authUrl({ code_challenge: pkcePair().challenge, code_challenge_method: "S256" }), { redirect: "manual" });
      return fetch(formAction(await page.text()), form({ username: "changling.teacher", password }));
    };
    for (let i = 0; i < (issuer.realm.failureFactor ?? 30); i++) expect((await attempt("wrong")).status).toBe(200);
    const locked = await attempt("Shouhu@2026");
    expect(locked.status).toBe(200);
    expect(await locked.text()).toContain('id="input-error"');
  });

  it("refuses a wrong verifier, a foreign redirect_uri at the token endpoint and a code of another client", async () => {
    const { verifier, challenge } = pkcePair();
    let code = new URL((await login(challenge)).headers.get("location")!).searchParams.get("code")!;
    expect(await token({ grant_type: "authorization_code", client_id: "shouhu-console", code, redirect_uri: REDIRECT, code_verifier: pkcePair().verifier })).toMatchObject({
      status: 400,
      body: { error: "invalid_grant", error_description: "PKCE verification failed: Invalid code verifier" },
    });
    code = new URL((await login(challenge)).headers.get("location")!).searchParams.get("code")!;
    expect(await token({ grant_type: "authorization_code", client_id: "shouhu-console", code, redirect_uri: "http://127.0.0.1:5173/other", code_verifier: verifier })).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    code = new URL((await login(challenge)).headers.get("location")!).searchParams.get("code")!;
    expect(await token({ grant_type: "authorization_code", client_id: "shouhu-web", code, redirect_uri: REDIRECT, code_verifier: verifier })).toMatchObject({ status: 400, body: { error: "invalid_grant", error_description: "Code not valid" } });
  });

  it("never redirects to a redirect_uri the client does not list; requires PKCE S256", async () => {
    for (const uri of ["http://127.0.0.1:3000@evil.example/cb", "https://evil.example/cb", "http://127.0.0.1:3001/cb", "http://127.0.0.1:3000.evil.example/"]) {
      const res = await fetch(authUrl({ redirect_uri: uri, code_challenge: pkcePair().challenge, code_challenge_method: "S256" }), { redirect: "manual" });
      expect(res.status).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).toContain("无效的参数：redirect_uri");
    }
    // shouhu-web's "http://localhost:*" pattern must not admit a userinfo trick either.
    const trick = await fetch(authUrl({ client_id: "shouhu-web", redirect_uri: "http://localhost:@evil.example/", code_challenge: pkcePair().challenge, code_challenge_method: "S256" }), { redirect: "manual" });
    expect(trick.status).toBe(400);
    const unknown = await fetch(authUrl({ client_id: "<nope>" }), { redirect: "manual" });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).not.toContain("<nope>");
    for (const pkce of [{}, { code_challenge: pkcePair().challenge, code_challenge_method: "plain" }]) {
      const res = await fetch(authUrl(pkce), { redirect: "manual" });
      expect(res.status).toBe(302);
      expect(new URL(res.headers.get("location")!).searchParams.get("error")).toBe("invalid_request");
    }
    const implicit = await fetch(authUrl({ response_type: "token", code_challenge: pkcePair().challenge, code_challenge_method: "S256" }), { redirect: "manual" });
    expect(new URL(implicit.headers.get("location")!).searchParams.get("error")).toBe("unsupported_response_type");
  });

  it("prompt=none without a session redirects with login_required", async () => {
    const res = await fetch(authUrl({ prompt: "none", code_challenge: pkcePair().challenge, code_challenge_method: "S256" }), { redirect: "manual" });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!);
    expect(location.searchParams.get("error")).toBe("login_required");
    expect(location.searchParams.get("state")).toBe("st<1>");
  });

  it("logout without a redirect shows the zh-CN page; a foreign post_logout_redirect_uri is refused", async () => {
    const plain = await fetch(`${base}/protocol/openid-connect/logout`, { redirect: "manual" });
    expect(plain.status).toBe(200);
    expect(await plain.text()).toContain("您已退出登录");
    const foreign = await fetch(`${base}/protocol/openid-connect/logout?client_id=shouhu-console&post_logout_redirect_uri=${encodeURIComponent("https://evil.example/")}`, { redirect: "manual" });
    expect(foreign.status).toBe(400);
    expect(foreign.headers.get("location")).toBeNull();
  });

  it("answers CORS preflight and requests from the console's origins only", async () => {
    const preflight = await fetch(`${base}/protocol/openid-connect/token`, {
      method: "OPTIONS",
      headers: { origin: "http://localhost:5173", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("POST");
    const discovery = await fetch(`${base}/.well-known/openid-configuration`, { headers: { origin: "http://127.0.0.1:3000" } });
    expect(discovery.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:3000");
    const body = (await discovery.json()) as Json;
    expect(body.grant_types_supported).toEqual(expect.arrayContaining(["authorization_code", "refresh_token"]));
    expect(body.code_challenge_methods_supported).toEqual(["S256"]);
    const certs = await fetch(`${base}/protocol/openid-connect/certs`, { headers: { origin: "https://evil.example" } });
    expect(certs.headers.get("access-control-allow-origin")).toBeNull();
    const evil = await fetch(`${base}/protocol/openid-connect/token`, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } });
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("gives the password grant a refresh token that refreshes", async () => {
    const pw = await token({ grant_type: "password", client_id: "shouhu-web", username: "county.admin", password: "Shouhu@2026" });
    expect(pw.status).toBe(200);
    const refreshed = await token({ grant_type: "refresh_token", client_id: "shouhu-web", refresh_token: String(pw.body.refresh_token) });
    expect(refreshed.status).toBe(200);
    expect(decode(String(refreshed.body.access_token)).sid).toBe(pw.body.session_state);
    expect(await token({ grant_type: "refresh_token", client_id: "shouhu-web", refresh_token: "garbage" })).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
  });
});
