import { randomBytes, randomUUID } from "node:crypto";

/** A user's SSO session (Keycloak's user session): the `sid` of its tokens and the KEYCLOAK_SESSION cookie. */
export interface UserSession {
  id: string;
  userId: string;
  username: string;
  started: number;
  lastRefresh: number;
  /** Clients holding a client session in it; a refresh token of any other client is refused. */
  clients: Set<string>;
}

/** The validated /auth request, kept server-side while the login form is shown (Keycloak's auth session). */
export interface AuthRequest {
  clientId: string;
  redirectUri: string;
  responseMode: "query" | "fragment";
  state?: string;
  nonce?: string;
  scope?: string;
  /** Absent only for a client that does not enforce PKCE and sent no challenge. */
  codeChallenge?: string;
}

export interface CodeGrant extends AuthRequest {
  sessionId: string;
  expires: number;
}

/** Where a confirmed logout goes afterwards. */
export interface PendingLogout {
  redirect?: string;
  state?: string;
}

/** A login form being filled in: the /auth request and the browser (AUTH_SESSION_ID) that asked for it. */
export interface PendingLogin {
  request: AuthRequest;
  browser: string;
}

export type TakenCode = { grant: CodeGrant } | { expired: true } | { reused: CodeGrant } | undefined;

const token = () => randomBytes(32).toString("base64url");

export interface SessionLimits {
  /** Realm ssoSessionIdleTimeout (s). */
  idleSeconds: number;
  /** Realm ssoSessionMaxLifespan (s): Keycloak's default is 10 h. */
  maxSeconds?: number;
  /** Keycloak's accessCodeLifespanLogin: 30 min to fill in the form. */
  loginSeconds?: number;
  /** Keycloak's accessCodeLifespan: a code is exchanged within 60 s. */
  codeSeconds?: number;
}

/**
 * In-memory sessions, auth sessions and authorization codes. A restart ends every
 * session, as restarting a Keycloak without a persistent session store does.
 */
export class SessionStore {
  private readonly sessions = new Map<string, UserSession>();
  private readonly authSessions = new Map<string, PendingLogin & { expires: number }>();
  private readonly codes = new Map<string, CodeGrant>();
  /** Redeemed codes until they would have expired: a replay revokes what the first use got. */
  private readonly used = new Map<string, CodeGrant>();
  private readonly logouts = new Map<string, PendingLogout & { expires: number }>();
  readonly idleSeconds: number;
  readonly maxSeconds: number;
  private readonly loginSeconds: number;
  private readonly codeSeconds: number;

  constructor(
    limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.idleSeconds = limits.idleSeconds;
    this.maxSeconds = limits.maxSeconds ?? 36_000;
    this.loginSeconds = limits.loginSeconds ?? 1800;
    this.codeSeconds = limits.codeSeconds ?? 60;
  }

  start(userId: string, username: string, clientId: string): UserSession {
    const now = this.now();
    const session = { id: randomUUID(), userId, username, started: now, lastRefresh: now, clients: new Set([clientId]) };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session, or undefined when unknown, ended, idle too long or past its maximum life. */
  get(id: string | undefined): UserSession | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    const now = this.now();
    if (now - session.lastRefresh > this.idleSeconds * 1000 || now - session.started > this.maxSeconds * 1000) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  touch(session: UserSession): void {
    session.lastRefresh = this.now();
  }

  /** Seconds a refresh token issued now may live: the idle timeout, cut at the session's maximum life. */
  refreshSeconds(session: UserSession): number {
    const left = Math.floor((session.started + this.maxSeconds * 1000 - this.now()) / 1000);
    return Math.max(0, Math.min(this.idleSeconds, left));
  }

  end(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  beginLogin(request: AuthRequest, browser: string): string {
    this.sweep();
    const id = token();
    this.authSessions.set(id, { request, browser, expires: this.now() + this.loginSeconds * 1000 });
    return id;
  }

  loginRequest(id: string | undefined): PendingLogin | undefined {
    const entry = id ? this.authSessions.get(id) : undefined;
    if (!entry || entry.expires < this.now()) return undefined;
    return entry;
  }

  finishLogin(id: string): void {
    this.authSessions.delete(id);
  }

  issueCode(request: AuthRequest, session: UserSession): string {
    const code = token();
    session.clients.add(request.clientId);
    this.codes.set(code, { ...request, sessionId: session.id, expires: this.now() + this.codeSeconds * 1000 });
    return code;
  }

  /** Single use: the code is gone after the first attempt, right or wrong; a second attempt is told apart. */
  takeCode(code: string | undefined): TakenCode {
    if (!code) return undefined;
    const grant = this.codes.get(code);
    if (!grant) {
      const reused = this.used.get(code);
      return reused && reused.expires >= this.now() ? { reused } : undefined;
    }
    this.codes.delete(code);
    if (grant.expires < this.now()) return { expired: true };
    this.used.set(code, grant);
    return { grant };
  }

  /** Keycloak detaches the client from the session when its code is replayed: its refresh tokens stop working. */
  detachClient(sessionId: string, clientId: string): void {
    this.sessions.get(sessionId)?.clients.delete(clientId);
  }

  beginLogout(pending: PendingLogout): string {
    this.sweep();
    const id = token();
    this.logouts.set(id, { ...pending, expires: this.now() + this.loginSeconds * 1000 });
    return id;
  }

  takeLogout(id: string | undefined): PendingLogout | undefined {
    const entry = id ? this.logouts.get(id) : undefined;
    if (id) this.logouts.delete(id);
    return entry && entry.expires >= this.now() ? entry : undefined;
  }

  /** Drops what has expired, so a long-running dev issuer does not grow without bound. */
  private sweep(): void {
    const now = this.now();
    for (const [k, v] of this.authSessions) if (v.expires < now) this.authSessions.delete(k);
    for (const [k, v] of this.codes) if (v.expires < now) this.codes.delete(k);
    for (const [k, v] of this.used) if (v.expires < now) this.used.delete(k);
    for (const [k, v] of this.logouts) if (v.expires < now) this.logouts.delete(k);
    for (const id of [...this.sessions.keys()]) this.get(id);
  }
}
