/**
 * Keycloak's brute-force detection (realm `bruteForceProtected`), the subset the dev
 * issuer needs so password guessing is slowed here as it is in production: after
 * `failureFactor` failed logins of one user (counted while they come within
 * `maxDeltaTimeSeconds` of each other), the user is temporarily disabled for
 * `waitIncrementSeconds` × (failures ÷ failureFactor), at most `maxFailureWaitSeconds`;
 * a successful login resets the count. While disabled even the right password is
 * refused, with the same answer as a wrong one, so the lockout tells a guesser nothing.
 */
export interface BruteForceSettings {
  bruteForceProtected?: boolean;
  failureFactor?: number;
  waitIncrementSeconds?: number;
  maxFailureWaitSeconds?: number;
  maxDeltaTimeSeconds?: number;
}

interface UserFailures {
  count: number;
  lastFailure: number;
  lockedUntil: number;
}

export class BruteForceDetector {
  private readonly users = new Map<string, UserFailures>();
  private readonly factor: number;
  private readonly waitMs: number;
  private readonly maxWaitMs: number;
  private readonly deltaMs: number;

  constructor(
    private readonly settings: BruteForceSettings,
    private readonly now: () => number = Date.now,
  ) {
    // Keycloak's defaults where the realm names none.
    this.factor = settings.failureFactor ?? 30;
    this.waitMs = (settings.waitIncrementSeconds ?? 60) * 1000;
    this.maxWaitMs = (settings.maxFailureWaitSeconds ?? 900) * 1000;
    this.deltaMs = (settings.maxDeltaTimeSeconds ?? 43_200) * 1000;
  }

  get enabled(): boolean {
    return this.settings.bruteForceProtected === true;
  }

  isLocked(username: string): boolean {
    if (!this.enabled) return false;
    const u = this.users.get(username);
    return !!u && u.lockedUntil > this.now();
  }

  failure(username: string): void {
    if (!this.enabled) return;
    const now = this.now();
    const u = this.users.get(username) ?? { count: 0, lastFailure: 0, lockedUntil: 0 };
    if (now - u.lastFailure > this.deltaMs) u.count = 0;
    u.count++;
    u.lastFailure = now;
    if (u.count % this.factor === 0) u.lockedUntil = now + Math.min(this.waitMs * (u.count / this.factor), this.maxWaitMs);
    this.users.set(username, u);
  }

  success(username: string): void {
    this.users.delete(username);
  }
}
