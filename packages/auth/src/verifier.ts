// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- ambient types for keycloak-connect must travel with this file into every program that compiles it from source
/// <reference path="./keycloak-connect.d.ts" />
// keycloak-connect is deprecated upstream: this is the only file that imports it,
// so switching to `jose` (createRemoteJWKSet + jwtVerify) touches nothing else.
import Config from "keycloak-connect/middleware/auth-utils/config.js";
import GrantManager from "keycloak-connect/middleware/auth-utils/grant-manager.js";
import Token from "keycloak-connect/middleware/auth-utils/token.js";
import { AppError, ForbiddenError, UnauthorizedError } from "@shouhu/kit";
import { decodeJwtPart, principalFromClaims, type Principal } from "./principal.js";

export interface VerifierOptions {
  /** The realm URL, exactly as tokens carry it in `iss`, e.g. http://127.0.0.1:8081/realms/shouhu. */
  issuerUrl: string;
  /** Required in `aud` (the realm's audience mapper adds `shouhu-api`). */
  audience: string;
  /** When set, `azp` (the client the token was issued to) must be one of these. */
  allowedClients?: readonly string[];
  /** Least seconds between JWKS refetches for an unknown `kid` (keycloak-connect's limiter). Default 10. */
  jwksMinIntervalSeconds?: number;
  /** How many verified tokens to remember until they expire (default 10,000). */
  cacheSize?: number;
  /** How long to wait for the JWKS endpoint before answering 503. Default 5000 ms. */
  jwksTimeoutMs?: number;
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
  /** The principal of a token verified before and not yet expired, without waiting; else undefined. */
  verified?(token: string): Principal | undefined;
}

/** The realm's JWKS could not be fetched: an outage, not the caller's fault, so not 401. */
export class AuthUnavailableError extends AppError {
  constructor(reason: string) {
    super(503, "AUTH_UNAVAILABLE", "认证服务暂不可用，请稍后再试", { reason });
  }
}

const invalid = (reason: string) => new UnauthorizedError("登录凭证无效", reason);

/**
 * Validates Keycloak access tokens offline with keycloak-connect 26's
 * `GrantManager.validateToken(token, "Bearer")`, which checks (in its source):
 * `exp`, `typ === "Bearer"`, `iat` vs not-before, `iss === realmUrl` exactly,
 * `aud` contains `resource` (with verify-token-audience), then an RSA-SHA256
 * signature with the JWKS key for `kid` (cached; an unknown kid refetches the
 * JWKS at most once per `min-time-between-jwks-requests` seconds).
 *
 * What it does not check, done here: the header `alg` (it never reads it —
 * pinned to RS256 so `none`/HS256 are refused before any crypto), a missing
 * `exp` (its `isExpired()` is false for `exp: undefined`), `azp`, and a timeout
 * on the JWKS request (it has none). Create one verifier per process: the
 * GrantManager holds the key cache.
 */
export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  const match = /^(.*)\/realms\/([^/]+)\/?$/.exec(options.issuerUrl);
  if (!match) throw new Error(`OIDC issuer URL must end in /realms/<realm>: ${options.issuerUrl}`);
  const minInterval = options.jwksMinIntervalSeconds ?? 10;
  const config = new Config({
    realm: match[2],
    "auth-server-url": match[1],
    resource: options.audience,
    "bearer-only": true,
    "verify-token-audience": true,
    // Config does `value || 10`, so 0 would silently become 10.
    "min-time-between-jwks-requests": minInterval > 0 ? minInterval : 0.001,
  });
  const grantManager = new GrantManager(config);
  const rotation = grantManager.rotation;
  const timeoutMs = options.jwksTimeoutMs ?? 5000;

  const knownKid = (kid: string) => rotation.jwks.some((k) => k.kid === kid);

  async function validate(token: Token, kid: string): Promise<void> {
    // keycloak-connect's getJWK returns undefined (and logs to stderr) when an unknown
    // kid arrives inside the refetch window; answer that case ourselves, clearly.
    if (!knownKid(kid) && Date.now() / 1000 <= rotation.lastTimeRequesTime + rotation.minTimeBetweenJwksRequests) {
      throw invalid(`unknown signing key kid ${kid} (JWKS refetched less than ${minInterval} s ago)`);
    }
    const fetchedBefore = rotation.lastTimeRequesTime;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new AuthUnavailableError(`JWKS not answered within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([grantManager.validateToken(token, "Bearer"), timeout]);
    } catch (err) {
      if (err instanceof AppError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      if (reason.startsWith("failed to load public key")) {
        // The JWKS was fetched during this call yet has no such kid: the token is at fault.
        if (rotation.lastTimeRequesTime !== fetchedBefore) throw invalid(`unknown signing key kid ${kid}`);
        throw new AuthUnavailableError(reason);
      }
      throw new UnauthorizedError(/expired/.test(reason) ? "登录已过期，请重新登录" : "登录凭证无效", reason);
    } finally {
      clearTimeout(timer);
    }
  }

  // keycloak-connect converts the JWK to PEM (asn1) on every validation, ~1.5 ms of
  // CPU per request. A token that validated stays valid until its exp (its bytes are
  // signed), so remember it until then; bounded, oldest evicted first.
  const verified = new Map<string, { principal: Principal; exp: number }>();
  const maxCached = options.cacheSize ?? 10_000;

  const cachedPrincipal = (raw: string): Principal | undefined => {
    const hit = verified.get(raw);
    if (!hit) return undefined;
    if (hit.exp * 1000 > Date.now()) return hit.principal;
    verified.delete(raw);
    return undefined;
  };

  return {
    verified: cachedPrincipal,
    async verify(raw: string): Promise<Principal> {
      const hit = cachedPrincipal(raw);
      if (hit) return hit;
      const principal = await verifyUncached(raw);
      const exp = decodeJwtPart(raw.split(".")[1]!)?.exp as number;
      if (verified.size >= maxCached) verified.delete(verified.keys().next().value!);
      verified.set(raw, { principal, exp });
      return principal;
    },
  };

  async function verifyUncached(raw: string): Promise<Principal> {
    if (!raw) throw new UnauthorizedError("未登录：缺少登录凭证", "missing token");
    const parts = raw.split(".");
    const header = parts.length === 3 ? decodeJwtPart(parts[0]!) : null;
    const claims = parts.length === 3 ? decodeJwtPart(parts[1]!) : null;
    if (!header || !claims) throw new UnauthorizedError("登录凭证格式不正确", "malformed token");
    if (header.alg !== "RS256") throw invalid(`alg ${String(header.alg)} not allowed`);
    if (typeof header.kid !== "string" || !header.kid) throw invalid("token header has no kid");
    if (typeof claims.exp !== "number") throw invalid("token has no exp");

    const token = new Token(raw, options.audience);
    await validate(token, header.kid);

    const clientId = typeof token.content.azp === "string" ? token.content.azp : "";
    if (options.allowedClients && !options.allowedClients.includes(clientId)) {
      throw invalid(`client ${clientId || "(none)"} not allowed`);
    }
    const principal = principalFromClaims(token.content, raw);
    // A valid login whose account lacks its org unit: an admin must fix the account,
    // re-login will not help, so 403 rather than 401.
    if (!principal) throw new ForbiddenError("账号未配置所属单位（org_unit），请联系管理员");
    return principal;
  }
}
