import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cookiesOf, createIssuerApp, formAction, pkcePair, type IssuerApp } from "../src/index.js";

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
  const all = {
    client_id: "shouhu-console",
    redirect_uri: REDIRECT,
    response_type: "code",
    scope: "openid profile email",
    state: "st<1>",
    nonce: "nn",
    ...params,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

const form = (body: Record<string, string>, cookie = "") => ({
  method: "POST",
  redirect: "manual" as const,
  headers: { "content-type": "application/x-www-form-urlencoded", ...(cookie ? { cookie } : {}) },
  body: new URLSearchParams(body),
});
/** POSTs the login form of an /auth page as the browser does: to its action, with the cookie the page set. */
const submit = async (page: Response, body: Record<string, string>) => fetch(formAction(await page.text()), form(body, cookiesOf(page)));
const token = async (body: Record<string, string>, headers: Record<string, string> = {}) => {
  const res = await fetch(`${base}/protocol/openid-connect/token`, {
    ...form(body),
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
  });
  return { status: res.status, body: (await res.json()) as Json, headers: res.headers };
};

/** GET /auth → form → POST credentials: the redirect (or the page again). */
async function login(challenge: string, password = "Shouhu@2026", extra: Record<string, string> = {}) {
  const page = await fetch(authUrl({ code_challenge: challenge, code_challenge_method: "S256", ...extra }), { redirect: "manual" });
  expect(page.status).toBe(200);
  return submit(page, { username: "county.admin", password });
}

describe("browser sign-in of shouhu-console (authorization code + PKCE)", () => {
  it("runs the whole flow: form, cookie, code, refresh, logout, refresh refused", async () => {
    const { verifier, challenge } = pkcePair();
    const page = await fetch(authUrl({ code_challenge: challenge, code_challenge_method: "S256" }), { redirect: "manual" });
    const html = await page.text();
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(page.headers.getSetCookie()[0]).toMatch(/^AUTH_SESSION_ID=[\w-]{43}; Path=\/realms\/shouhu\/; HttpOnly; SameSite=Lax$/);
    expect(html).toContain('lang="zh-CN"');
    expect(html).toContain("<title>登录 守护</title>");
    expect(html).toMatch(/<form id="kc-form-login" action="[^"]+\/login-actions\/authenticate\?session_code=/);
    for (const part of [
      'id="username" name="username"',
      'id="password" name="password"',
      '<label for="username">',
      '<label for="password">',
      'id="kc-login"',
      'value="登录"',
    ])
      expect(html).toContain(part);
    expect(html).not.toMatch(/<script|<link/);

    const res = await fetch(formAction(html), form({ username: "county.admin", password: "Shouhu@2026" }, cookiesOf(page)));
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
    expect(exchanged.body).toMatchObject({
      token_type: "Bearer",
      expires_in: 300,
      refresh_expires_in: 1800,
      session_state: sessionState,
      scope: "openid profile email",
    });
    const access = decode(String(exchanged.body.access_token));
    expect(access).toMatchObject({ azp: "shouhu-console", aud: "shouhu-api", preferred_username: "county.admin", sid: sessionState, typ: "Bearer" });
    expect(Number(access.exp) - Number(access.iat)).toBe(300);
    const id = decode(String(exchanged.body.id_token));
    expect(id).toMatchObject({
      aud: "shouhu-console",
      nonce: "nn",
      sid: sessionState,
      typ: "ID",
      iss: base,
      sub: access.sub,
      preferred_username: "county.admin",
      org_unit: "360999",
    });
    expect(Math.abs(Number(id.auth_time) - Date.now() / 1000)).toBeLessThan(10);
    // The claims the services read, as the password grant gives them.
    expect(access).toMatchObject({ org_unit: "360999", realm_access: { roles: expect.arrayContaining(["county-admin"]) } });
    expect(decode(String(exchanged.body.refresh_token))).toMatchObject({ typ: "Refresh", azp: "shouhu-console", sid: sessionState });

    const info = await fetch(`${base}/protocol/openid-connect/userinfo`, {
      headers: { authorization: `Bearer ${String(exchanged.body.access_token)}`, origin: "http://127.0.0.1:5173" },
    });
    expect(info.status).toBe(200);
    expect(info.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:5173");
    expect(await info.json()).toMatchObject({ sub: access.sub, preferred_username: "county.admin" });

    const refreshed = await token({ grant_type: "refresh_token", client_id: "shouhu-console", refresh_token: String(exchanged.body.refresh_token) });
    expect(refreshed.status).toBe(200);
    expect(decode(String(refreshed.body.access_token))).toMatchObject({ azp: "shouhu-console", sid: sessionState });
    // A refresh token is bound to its client.
    expect(await token({ grant_type: "refresh_token", client_id: "shouhu-web", refresh_token: String(refreshed.body.refresh_token) })).toMatchObject({
      status: 400,
      body: { error: "invalid_grant" },
    });

    // With a live session /auth skips the form.
    const sso = await fetch(authUrl({ code_challenge: pkcePair().challenge, code_challenge_method: "S256", prompt: "none" }), {
      redirect: "manual",
      headers: { cookie: cookie.split(";")[0]! },
    });
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
    // The code is single use.
    const again = await token({ grant_type: "authorization_code", client_id: "shouhu-console", code, redirect_uri: REDIRECT, code_verifier: verifier });
    expect(again).toMatchObject({ status: 400, body: { error: "invalid_grant", error_description: "Code not valid" } });
    // The ended session no longer signs in silently.
    const after = await fetch(authUrl({ code_challenge: pkcePair().challenge, code_challenge_method: "S256", prompt: "none" }), {
      redirect: "manual",
      headers: { cookie: cookie.split(";")[0]! },
    });
    expect(new URL(after.headers.get("location")!).searchParams.get("error")).toBe("login_required");
  });

  it("shows the form again with #input-error for a wrong password, escaping what it echoes", async () => {
    const page = await fetch(authUrl({ code_challenge: pkcePair().challenge, code_challenge_method: "S256" }), { redirect: "manual" });
    const res = await submit(page, { username: '"><script>x</script>', password: "nope" });
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
      return submit(page, { username: "changling.teacher", password });
    };
    for (let i = 0; i < (issuer.realm.failureFactor ?? 30); i++) expect((await attempt("wrong")).status).toBe(200);
    const locked = await attempt("Shouhu@2026");
    expect(locked.status).toBe(200);
    expect(await locked.text()).toContain('id="input-error"');
  });

  it("refuses a wrong verifier, a foreign redirect_uri at the token endpoint and a code of another client", async () => {
    const { verifier, challenge } = pkcePair();
    let code = new URL((await login(challenge)).headers.get("location")!).searchParams.get("code")!;
    expect(
      await token({ grant_type: "authorization_code", client_id: "shouhu-console", code, redirect_uri: REDIRECT, code_verifier: pkcePair().verifier }),
    ).toMatchObject({
      status: 400,
      body: { error: "invalid_grant", error_description: "PKCE verification failed: Invalid code verifier" },
    });
    code = new URL((await login(challenge)).headers.get("location")!).searchParams.get("code")!;
    expect(
      await token({
        grant_type: "authorization_code",
        client_id: "shouhu-console",
        code,
        redirect_uri: "http://127.0.0.1:5173/other",
        code_verifier: verifier,
      }),
    ).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
    code = new URL((await login(challenge)).headers.get("location")!).searchParams.get("code")!;
    expect(await token({ grant_type: "authorization_code", client_id: "shouhu-web", code, redirect_uri: REDIRECT, code_verifier: verifier })).toMatchObject({
      status: 400,
      body: { error: "invalid_grant", error_description: "Code not valid" },
    });
  });

  it("never redirects to a redirect_uri the client does not list; requires PKCE S256", async () => {
    for (const uri of ["http://127.0.0.1:3000@evil.example/cb", "https://evil.example/cb", "http://127.0.0.1:3001/cb", "http://127.0.0.1:3000.evil.example/"]) {
      const res = await fetch(authUrl({ redirect_uri: uri, code_challenge: pkcePair().challenge, code_challenge_method: "S256" }), { redirect: "manual" });
      expect(res.status).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      expect(await res.text()).toContain("无效的参数：redirect_uri");
    }
    // shouhu-web's "http://localhost:*" pattern must not admit a userinfo trick either.
    const trick = await fetch(
      authUrl({
        client_id: "shouhu-web",
        redirect_uri: "http://localhost:@evil.example/",
        code_challenge: pkcePair().challenge,
        code_challenge_method: "S256",
      }),
      { redirect: "manual" },
    );
    expect(trick.status).toBe(400);
    const unknown = await fetch(authUrl({ client_id: "<nope>" }), { redirect: "manual" });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).not.toContain("<nope>");
    for (const pkce of [{}, { code_challenge: pkcePair().challenge, code_challenge_method: "plain" }]) {
      const res = await fetch(authUrl(pkce), { redirect: "manual" });
      expect(res.status).toBe(302);
      expect(new URL(res.headers.get("location")!).searchParams.get("error")).toBe("invalid_request");
    }
    const implicit = await fetch(authUrl({ response_type: "token", code_challenge: pkcePair().challenge, code_challenge_method: "S256" }), {
      redirect: "manual",
    });
    expect(new URL(implicit.headers.get("location")!).searchParams.get("error")).toBe("unsupported_response_type");
  });

  it("prompt=none without a session redirects with login_required", async () => {
    const res = await fetch(authUrl({ prompt: "none", code_challenge: pkcePair().challenge, code_challenge_method: "S256" }), { redirect: "manual" });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!);
    expect(location.searchParams.get("error")).toBe("login_required");
    expect(location.searchParams.get("state")).toBe("st<1>");
  });

  it("logout without id_token_hint asks first, then ends the session and shows 您已登出; a foreign post_logout_redirect_uri is refused", async () => {
    const signedIn = await login(pkcePair().challenge);
    const sso = signedIn.headers
      .getSetCookie()
      .find((c) => c.startsWith("KEYCLOAK_SESSION="))!
      .split(";")[0]!;
    const ask = await fetch(
      `${base}/protocol/openid-connect/logout?client_id=shouhu-console&post_logout_redirect_uri=${encodeURIComponent("http://localhost:5173/")}`,
      { redirect: "manual", headers: { cookie: sso } },
    );
    expect(ask.status).toBe(200);
    const page = await ask.text();
    expect(page).toContain("您是否要登出？");
    expect(page).toContain('id="kc-logout"');
    // The GET alone ended nothing.
    const still = await fetch(authUrl({ code_challenge: pkcePair().challenge, code_challenge_method: "S256", prompt: "none" }), {
      redirect: "manual",
      headers: { cookie: sso },
    });
    expect(new URL(still.headers.get("location")!).searchParams.get("code")).toBeTruthy();
    const action = /<form id="kc-logout-confirm" action="([^"]+)"/.exec(page)![1]!;
    const sessionCode = /name="session_code" value="([^"]+)"/.exec(page)![1]!;
    const confirmed = await fetch(action, form({ session_code: sessionCode, confirmLogout: "登出" }, sso));
    expect(confirmed.status).toBe(302);
    expect(confirmed.headers.get("location")).toBe("http://localhost:5173/");
    const gone = await fetch(authUrl({ code_challenge: pkcePair().challenge, code_challenge_method: "S256", prompt: "none" }), {
      redirect: "manual",
      headers: { cookie: sso },
    });
    expect(new URL(gone.headers.get("location")!).searchParams.get("error")).toBe("login_required");
    // The confirmation is single use.
    expect((await fetch(action, form({ session_code: sessionCode }, sso))).status).toBe(400);

    const plainAsk = await fetch(`${base}/protocol/openid-connect/logout`, { redirect: "manual" });
    const plainPage = await plainAsk.text();
    const plain = await fetch(
      /<form id="kc-logout-confirm" action="([^"]+)"/.exec(plainPage)![1]!,
      form({ session_code: /name="session_code" value="([^"]+)"/.exec(plainPage)![1]! }),
    );
    expect(plain.status).toBe(200);
    const bye = await plain.text();
    expect(bye).toContain("您已登出");
    expect(bye).toContain('lang="zh-CN"');
    const foreign = await fetch(
      `${base}/protocol/openid-connect/logout?client_id=shouhu-console&post_logout_redirect_uri=${encodeURIComponent("https://evil.example/")}`,
      { redirect: "manual" },
    );
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
    const evil = await fetch(`${base}/protocol/openid-connect/token`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("gives the password grant a refresh token that refreshes", async () => {
    const pw = await token({ grant_type: "password", client_id: "shouhu-web", username: "county.admin", password: "Shouhu@2026" });
    expect(pw.status).toBe(200);
    const refreshed = await token({ grant_type: "refresh_token", client_id: "shouhu-web", refresh_token: String(pw.body.refresh_token) });
    expect(refreshed.status).toBe(200);
    expect(decode(String(refreshed.body.access_token)).sid).toBe(pw.body.session_state);
    expect(await token({ grant_type: "refresh_token", client_id: "shouhu-web", refresh_token: "garbage" })).toMatchObject({
      status: 400,
      body: { error: "invalid_grant" },
    });
  });
});

describe("what Keycloak refuses or revokes in the browser flow", () => {
  const exchange = (code: string, verifier: string) =>
    token({ grant_type: "authorization_code", client_id: "shouhu-console", code, redirect_uri: REDIRECT, code_verifier: verifier });
  const codeOf = (res: Response) => new URL(res.headers.get("location")!).searchParams.get("code")!;

  it("a replayed code is refused and what its first use got stops refreshing", async () => {
    const { verifier, challenge } = pkcePair();
    const code = codeOf(await login(challenge));
    const first = await exchange(code, verifier);
    expect(first.status).toBe(200);
    expect(await exchange(code, verifier)).toMatchObject({ status: 400, body: { error: "invalid_grant", error_description: "Code not valid" } });
    const refresh = await token({ grant_type: "refresh_token", client_id: "shouhu-console", refresh_token: String(first.body.refresh_token) });
    expect(refresh).toMatchObject({ status: 400, body: { error: "invalid_grant", error_description: "Session doesn't have required client" } });
  });

  it("a missing or malformed verifier, and a code without its verifier, in Keycloak's words", async () => {
    const { challenge } = pkcePair();
    expect(await exchange(codeOf(await login(challenge)), "")).toMatchObject({ status: 400, body: { error_description: "PKCE code verifier not specified" } });
    expect(await exchange(codeOf(await login(challenge)), "short")).toMatchObject({ status: 400, body: { error_description: "PKCE invalid code verifier" } });
    expect(await token({ grant_type: "authorization_code", client_id: "shouhu-console", redirect_uri: REDIRECT })).toMatchObject({
      status: 400,
      body: { error: "invalid_request", error_description: "Missing parameter: code" },
    });
    expect(await exchange("made-up", pkcePair().verifier)).toMatchObject({
      status: 400,
      body: { error: "invalid_grant", error_description: "Code not valid" },
    });
  });

  it("/auth names the missing PKCE part as Keycloak does for a client that enforces S256", async () => {
    const error = async (params: Record<string, string>) =>
      new URL((await fetch(authUrl(params), { redirect: "manual" })).headers.get("location")!).searchParams.get("error_description");
    expect(await error({})).toBe("Missing parameter: code_challenge_method");
    expect(await error({ code_challenge_method: "plain", code_challenge: pkcePair().challenge })).toBe(
      "Invalid parameter: code challenge method is not configured one",
    );
    expect(await error({ code_challenge_method: "S256" })).toBe("Missing parameter: code_challenge");
    expect(await error({ code_challenge_method: "S256", code_challenge: "bad challenge" })).toBe("Invalid parameter: code_challenge");
  });

  it("a login form posted without the browser's AUTH_SESSION_ID cookie (login CSRF) signs nobody in", async () => {
    const page = await fetch(authUrl({ code_challenge: pkcePair().challenge, code_challenge_method: "S256" }), { redirect: "manual" });
    const action = formAction(await page.text());
    for (const cookie of ["", "AUTH_SESSION_ID=someone-elses-browser-id-aaaaaaaaaaaaaaaaaaaaa"]) {
      const res = await fetch(action, form({ username: "county.admin", password: "Shouhu@2026" }, cookie));
      expect(res.status).toBe(400);
      expect(res.headers.get("location")).toBeNull();
      expect(res.headers.getSetCookie().some((c) => c.startsWith("KEYCLOAK_SESSION="))).toBe(false);
    }
    // Unknown or finished login sessions too.
    expect(
      (await fetch(`${base}/login-actions/authenticate?session_code=nope`, form({ username: "county.admin", password: "Shouhu@2026" }, cookiesOf(page))))
        .status,
    ).toBe(400);
  });

  it("response_mode=fragment puts the answer in the fragment; login_hint fills in the user name", async () => {
    const { verifier, challenge } = pkcePair();
    const page = await fetch(authUrl({ code_challenge: challenge, code_challenge_method: "S256", response_mode: "fragment", login_hint: "county.admin" }), {
      redirect: "manual",
    });
    const html = await page.clone().text();
    expect(html).toContain('value="county.admin"');
    const res = await submit(page, { username: "county.admin", password: "Shouhu@2026" });
    const location = new URL(res.headers.get("location")!);
    expect(location.search).toBe("");
    const params = new URLSearchParams(location.hash.slice(1));
    expect(params.get("state")).toBe("st<1>");
    expect((await exchange(params.get("code")!, verifier)).status).toBe(200);
  });

  it("a user disabled after signing in can no longer refresh", async () => {
    const { verifier, challenge } = pkcePair();
    const tokens = await exchange(codeOf(await login(challenge)), verifier);
    const user = issuer.realm.users!.find((u) => u.username === "county.admin")!;
    user.enabled = false;
    try {
      const res = await token({ grant_type: "refresh_token", client_id: "shouhu-console", refresh_token: String(tokens.body.refresh_token) });
      expect(res).toMatchObject({ status: 400, body: { error: "invalid_grant", error_description: "User disabled" } });
    } finally {
      user.enabled = true;
    }
  });

  it("logout with id_token_hint but no cookie ends the hinted session; POST with a refresh token is the adapters' back-channel logout", async () => {
    const { verifier, challenge } = pkcePair();
    const a = await exchange(codeOf(await login(challenge)), verifier);
    const out = await fetch(`${base}/protocol/openid-connect/logout?id_token_hint=${String(a.body.id_token)}`, { redirect: "manual" });
    expect(out.status).toBe(200);
    expect(await out.text()).toContain("您已登出");
    expect(await token({ grant_type: "refresh_token", client_id: "shouhu-console", refresh_token: String(a.body.refresh_token) })).toMatchObject({
      status: 400,
      body: { error_description: "Session not active" },
    });

    const b = await exchange(codeOf(await login(challenge)), verifier);
    const back = await fetch(`${base}/protocol/openid-connect/logout`, form({ client_id: "shouhu-console", refresh_token: String(b.body.refresh_token) }));
    expect(back.status).toBe(204);
    expect(await token({ grant_type: "refresh_token", client_id: "shouhu-console", refresh_token: String(b.body.refresh_token) })).toMatchObject({
      status: 400,
      body: { error_description: "Session not active" },
    });
    // A forged hint is refused with a page, never followed.
    const forged = await fetch(
      `${base}/protocol/openid-connect/logout?id_token_hint=e30.e30.sig&post_logout_redirect_uri=${encodeURIComponent("http://localhost:5173/")}`,
      { redirect: "manual" },
    );
    expect(forged.status).toBe(400);
    expect(forged.headers.get("location")).toBeNull();
  });
});

describe("SessionStore clocks (idle timeout, maximum life, code life)", () => {
  it("expires codes after 60 s, sessions when idle or past their maximum life, and cuts refresh tokens at the maximum", async () => {
    const { SessionStore } = await import("../src/sessions.js");
    let now = 1_000_000_000;
    const store = new SessionStore({ idleSeconds: 1800, maxSeconds: 3000 }, () => now);
    const session = store.start("u1", "someone", "shouhu-console");
    const request = { clientId: "shouhu-console", redirectUri: REDIRECT, responseMode: "query" as const, codeChallenge: pkcePair().challenge };
    const code = store.issueCode(request, session);
    now += 61_000;
    expect(store.takeCode(code)).toEqual({ expired: true });
    expect(store.refreshSeconds(session)).toBe(1800);
    now += 1700_000;
    expect(store.get(session.id)).toBe(session);
    store.touch(session);
    expect(store.refreshSeconds(session)).toBe(3000 - 1761);
    now += 1300_000;
    expect(store.get(session.id)).toBeUndefined(); // past its maximum life, though not idle
    const idle = store.start("u2", "other", "shouhu-console");
    now += 1801_000;
    expect(store.get(idle.id)).toBeUndefined();
  });
});
