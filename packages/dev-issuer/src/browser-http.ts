import type { FastifyReply, FastifyRequest } from "fastify";
import type { KeySet } from "./keys.js";
import type { RealmClient, RealmExport, RealmUser } from "./realm.js";
import type { SessionStore } from "./sessions.js";
import { PAGE_CSP } from "./login-page.js";

/** What the browser-facing routes (authorize, logout, userinfo) share. */
export interface BrowserFlowContext {
  realm: RealmExport;
  keys: KeySet;
  /** `/realms/<realm>` */
  base: string;
  sessions: SessionStore;
  issuerFor(request: FastifyRequest): string;
  /** The user a login form's credentials name (brute-force detection included), or undefined. */
  checkPassword(username: string, password: string): RealmUser | undefined;
  passwordMatches(user: RealmUser, password: string): boolean;
  /** Sets a user's own (non-temporary) password and clears the required action UPDATE_PASSWORD. */
  setPassword(user: RealmUser, password: string): void;
}

/** Keycloak's SSO cookie, naming the user session. */
export const SESSION_COOKIE = "KEYCLOAK_SESSION";
/** Keycloak's auth-session cookie: ties a login form to the browser that asked for it (no login CSRF). */
export const AUTH_SESSION_COOKIE = "AUTH_SESSION_ID";

/** Keycloak's redirect URI match: exact, or a trailing `*` matches any suffix. */
export function redirectUriAllowed(allowed: readonly string[] | undefined, uri: string | undefined): boolean {
  if (!uri) return false;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  // "http://localhost:*" must not let "http://localhost:@evil.example/" through (userinfo trick).
  if (url.username || url.password || !/^https?:$/.test(url.protocol)) return false;
  // Keycloak compares without the fragment (a redirect URI may not carry one anyway).
  const bare = uri.split("#")[0]!;
  return (allowed ?? []).some((pattern) => (pattern.endsWith("*") ? bare.startsWith(pattern.slice(0, -1)) : pattern === bare));
}

/** Origins a client's web origins allow: "+" stands for the origins of its redirect URIs. */
export function clientOrigins(client: RealmClient): string[] {
  const out = new Set<string>();
  for (const origin of client.webOrigins ?? []) {
    if (origin === "+") {
      for (const uri of client.redirectUris ?? []) {
        const m = /^(https?:\/\/[^/]+)/.exec(uri);
        // A wildcard inside the authority ("http://localhost:*") names no single origin.
        if (m && !m[1]!.includes("*")) out.add(m[1]!);
      }
    } else out.add(origin);
  }
  return [...out];
}

/** Post-logout redirect URIs: the client attribute ("##"-separated), "+" meaning its redirect URIs (Keycloak 26). */
export function postLogoutUris(client: RealmClient): string[] {
  const attr = client.attributes?.["post.logout.redirect.uris"];
  if (!attr) return [];
  return attr.split("##").flatMap((u) => (u === "+" ? (client.redirectUris ?? []) : [u]));
}

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) {
      try {
        return decodeURIComponent(part.slice(at + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** A cookie for the realm's path; `maxAge` undefined = a browser-session cookie, 0 = delete. */
export function cookie(request: FastifyRequest, base: string, name: string, value: string, maxAge?: number): string {
  const secure = request.protocol === "https" ? "; Secure" : "";
  const age = maxAge === undefined ? "" : `; Max-Age=${maxAge}`;
  return `${name}=${value}; Path=${base}/${age}; HttpOnly; SameSite=Lax${secure}`;
}

/** The redirect URI with parameters in its query, or in its fragment for response_mode=fragment. */
export function withParams(uri: string, params: Record<string, string | undefined>, mode: "query" | "fragment" = "query"): string {
  const url = new URL(uri);
  const target = mode === "fragment" ? new URLSearchParams(url.hash.slice(1)) : url.searchParams;
  for (const [k, v] of Object.entries(params)) if (v !== undefined) target.set(k, v);
  if (mode === "fragment") url.hash = target.toString();
  return url.toString();
}

/** Query and form parameters together (logout takes either, as Keycloak does). */
export function allParams(request: FastifyRequest): Record<string, string> {
  const query = (request.query ?? {}) as Record<string, string>;
  const body = (request.body && typeof request.body === "object" ? request.body : {}) as Record<string, string>;
  return { ...query, ...body };
}

/** An HTML page with the headers Keycloak's theme pages carry, and a CSP that allows nothing external. */
export const html = (reply: FastifyReply, status: number, body: string) =>
  reply
    .status(status)
    .header("content-type", "text/html; charset=utf-8")
    .header("content-security-policy", PAGE_CSP)
    .header("x-frame-options", "DENY")
    .header("x-content-type-options", "nosniff")
    .header("referrer-policy", "no-referrer")
    .header("cache-control", "no-store, must-revalidate, max-age=0")
    .send(body);
