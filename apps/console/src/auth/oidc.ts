import { UserManager, WebStorageStateStore, type User } from "oidc-client-ts";
import { wipeOfflineData } from "../offline/store";

/** What the gateway hands the console at /config.json (not baked in at build). */
export interface RuntimeConfig {
  issuer: string;
  clientId: string;
}

let manager: UserManager | undefined;

export const CALLBACK_PATH = "/auth/callback";

/**
 * Authorization code + PKCE (S256, oidc-client-ts's only mode) against the realm.
 * Tokens live in sessionStorage: gone with the tab, not shared with other sites.
 * automaticSilentRenew uses the refresh token (no iframe) shortly before expiry.
 */
export function initAuth(config: RuntimeConfig): UserManager {
  manager = new UserManager({
    authority: config.issuer,
    client_id: config.clientId,
    redirect_uri: `${location.origin}${CALLBACK_PATH}`,
    post_logout_redirect_uri: `${location.origin}/`,
    response_type: "code",
    scope: "openid profile",
    automaticSilentRenew: true,
    userStore: new WebStorageStateStore({ store: sessionStorage }),
    loadUserInfo: false,
  });
  return manager;
}

export function userManager(): UserManager {
  if (!manager) throw new Error("initAuth first");
  return manager;
}

/** A valid access token, renewed first if it has expired (e.g. after the laptop slept). */
export async function currentAccessToken(): Promise<string | undefined> {
  const um = userManager();
  let user = await um.getUser();
  if (user?.expired && user.refresh_token) user = await um.signinSilent().catch(() => null);
  return user && !user.expired ? user.access_token : undefined;
}

let redirecting = false;
/** The API said 401: the session is over; sign in again and come back here. */
export function onUnauthorized(): void {
  if (redirecting) return;
  redirecting = true;
  void userManager().signinRedirect({ state: { returnTo: location.pathname + location.search } });
}

export function signIn(returnTo: string): Promise<void> {
  return userManager().signinRedirect({ state: { returnTo } });
}

/** Signs out and first deletes this device's offline data (caseload, queued records: issue 18.2). */
export async function signOut(): Promise<void> {
  await wipeOfflineData();
  return userManager().signoutRedirect();
}

/** Roles and org unit as the API reads them: from the access token, not the ID token. */
export interface Claims {
  username: string;
  name: string;
  roles: string[];
  orgUnit: string;
  schoolId?: string;
}
export function claimsOf(user: User): Claims {
  const payload = JSON.parse(decodeBase64Url(user.access_token.split(".")[1] ?? "")) as Record<string, unknown>;
  const realmRoles = ((payload.realm_access as { roles?: string[] } | undefined)?.roles ?? []).filter((r) => typeof r === "string");
  return {
    username: String(payload.preferred_username ?? user.profile.preferred_username ?? ""),
    // Chinese names are family name first (陈建华); Keycloak's `name` is "given family".
    name:
      payload.family_name && payload.given_name
        ? `${String(payload.family_name)}${String(payload.given_name)}`
        : String(payload.name ?? user.profile.name ?? payload.preferred_username ?? ""),
    roles: realmRoles,
    orgUnit: String(payload.org_unit ?? ""),
    schoolId: typeof payload.school_code === "string" ? payload.school_code : undefined,
  };
}

function decodeBase64Url(part: string): string {
  const b64 = part
    .replace(/-/g, "+")
    .replace(/_/g, "/")
    .padEnd(Math.ceil(part.length / 4) * 4, "=");
  return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
}
