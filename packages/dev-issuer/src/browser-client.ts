import { createHash, randomBytes } from "node:crypto";

/**
 * What a browser with oidc-client-ts does against the issuer, over real HTTP, for
 * tests of services that must accept the console's tokens: GET /auth, POST the
 * login form, follow the redirect's code, exchange it with the PKCE verifier.
 */
export interface BrowserSignIn {
  status: number;
  tokens: Record<string, unknown>;
  cookie: string;
  redirect: URL;
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** `name=value` pairs of a response's Set-Cookie headers, as a Cookie header sends them back. */
export function cookiesOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .join("; ");
}

export function formAction(html: string): string {
  const action = /<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error("no kc-form-login form on the page");
  return action.replace(/&amp;/g, "&");
}

export async function browserSignIn(options: {
  /** The realm URL, e.g. http://127.0.0.1:8081/realms/shouhu. */
  issuerUrl: string;
  username: string;
  password: string;
  clientId?: string;
  redirectUri?: string;
}): Promise<BrowserSignIn> {
  const clientId = options.clientId ?? "shouhu-console";
  const redirectUri = options.redirectUri ?? "http://127.0.0.1:3000/callback";
  const { verifier, challenge } = pkcePair();
  const auth = new URL(`${options.issuerUrl}/protocol/openid-connect/auth`);
  const query = {
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: "code",
    scope: "openid profile email",
    state: "s1",
    nonce: "n1",
    code_challenge: challenge,
    code_challenge_method: "S256",
  };
  for (const [k, v] of Object.entries(query)) auth.searchParams.set(k, v);
  const page = await fetch(auth, { redirect: "manual" });
  const login = await fetch(formAction(await page.text()), {
    method: "POST",
    redirect: "manual",
    // The browser sends back the AUTH_SESSION_ID cookie the form came with.
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookiesOf(page) },
    body: new URLSearchParams({ username: options.username, password: options.password }),
  });
  if (login.status !== 302) throw new Error(`sign-in refused (${login.status})`);
  const redirect = new URL(login.headers.get("location")!);
  const cookie =
    login.headers
      .getSetCookie()
      .find((c) => c.startsWith("KEYCLOAK_SESSION="))
      ?.split(";")[0] ?? "";
  const res = await fetch(`${options.issuerUrl}/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: clientId,
      code: redirect.searchParams.get("code")!,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    }),
  });
  return { status: res.status, tokens: (await res.json()) as Record<string, unknown>, cookie, redirect };
}
