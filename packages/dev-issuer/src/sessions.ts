import { randomBytes, randomUUID } from "node:crypto";

/** A user's SSO session (Keycloak's user session): the `sid` of its tokens and the KEYCLOAK_SESSION cookie. */
export interface UserSession {
  id: string;
  userId: string;
  username: string;
  started: number;
  lastRefresh: number;
}

/** The validated /auth request, kept server-side while the login form is shown (Keycloak's auth session). */
export interface AuthRequest {
  clientId: string;
  redirectUri: string;
  state?: string;
  nonce?: string;
  scope?: string;
  codeChallenge: string;
  codeChallengeMethod: string;
}

export interface CodeGrant extends AuthRequest {
  sessionId: string;
  expires: number;
}

const token = () => randomBytes(32).toString("base64url");

/**
 * In-memory sessions, auth sessions and authorization codes. A restart ends every
 * session, as restarting a Keycloak without a persistent session store does.
 */
export class SessionStore {
  private readonly sessions = new Map<string, UserSession>();
  private readonly authSessions = new Map<string, { request: AuthRequest; expires: number }>();
  private readonly codes = new Map<string, CodeGrant>();

  constructor(
    /** Idle timeout in seconds (realm ssoSessionIdleTimeout). */
    readonly idleSeconds: number,
    private readonly now: () => number = Date.now,
    /** Keycloak's default login timeout (accessCodeLifespanLogin): 30 min to fill in the form. */
    private readonly loginSeconds = 1800,
    /** Keycloak's accessCodeLifespan: a code is exchanged within 60 s. */
    private readonly codeSeconds = 60,
  ) {}

  start(userId: string, username: string): UserSession {
    const now = this.now();
    const session = { id: randomUUID(), userId, username, started: now, lastRefresh: now };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session, or undefined when unknown, ended or idle too long. */
  get(id: string | undefined): UserSession | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (session && this.now() - session.lastRefresh > this.idleSeconds * 1000) {
      this.sessions.delete(id);
      return undefined;
    }
    return session;
  }

  touch(session: UserSession): void {
    session.lastRefresh = this.now();
  }

  end(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  beginLogin(request: AuthRequest): string {
    const id = token();
    this.authSessions.set(id, { request, expires: this.now() + this.loginSeconds * 1000 });
    return id;
  }

  loginRequest(id: string | undefined): AuthRequest | undefined {
    const entry = id ? this.authSessions.get(id) : undefined;
    if (!entry || entry.expires < this.now()) return undefined;
    return entry.request;
  }

  finishLogin(id: string): void {
    this.authSessions.delete(id);
  }

  issueCode(request: AuthRequest, sessionId: string): string {
    const code = token();
    this.codes.set(code, { ...request, sessionId, expires: this.now() + this.codeSeconds * 1000 });
    return code;
  }

  /** Single use: the code is gone after the first attempt, right or wrong. */
  takeCode(code: string | undefined): CodeGrant | undefined {
    if (!code) return undefined;
    const grant = this.codes.get(code);
    this.codes.delete(code);
    if (!grant || grant.expires < this.now()) return undefined;
    return grant;
  }
}
