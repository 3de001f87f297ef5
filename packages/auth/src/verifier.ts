/// <reference path="./keycloak-connect.d.ts" />
import Config from "keycloak-connect/middleware/auth-utils/config.js";
import GrantManager from "keycloak-connect/middleware/auth-utils/grant-manager.js";
import Token from "keycloak-connect/middleware/auth-utils/token.js";
import { UnauthorizedError } from "@shouhu/kit";
import { rolesFromClaims, type Principal } from "./principal.js";

export interface VerifierOptions {
  /** The realm URL, exactly as tokens carry it in `iss`, e.g. http://127.0.0.1:8081/realms/shouhu. */
  issuerUrl: string;
  /** Required in `aud` (Keycloak's audience mapper adds it). */
  audience: string;
  /** When set, `azp` must be one of these clients. */
  allowedClients?: string[];
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/**
 * Validates Keycloak access tokens offline with keycloak-connect's GrantManager:
 * expiry, `typ: Bearer`, not-before, exact `iss`, audience, and the RS256
 * signature against the realm's JWKS (cached by `kid`, refetched at most every
 * 10 s for an unknown `kid`, so key rotation works). keycloak-connect is
 * deprecated upstream; only this file knows it, so replacing it with `jose`
 * touches nothing else.
 */
export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  const match = /^(.*)\/realms\/([^/]+)\/?$/.exec(options.issuerUrl);
  if (!match) throw new Error(`OIDC issuer URL must end in /realms/<realm>: ${options.issuerUrl}`);
  const config = new Config({
    realm: match[2],
    "auth-server-url": match[1],
    resource: options.audience,
    "bearer-only": true,
    "verify-token-audience": true,
    "min-time-between-jwks-requests": 10,
  });
  const grantManager = new GrantManager(config);

  return {
    async verify(raw: string): Promise<Principal> {
      if (!raw || raw.split(".").length !== 3) throw new UnauthorizedError("登录凭证格式不正确", "malformed token");
      const token = new Token(raw, options.audience);
      // keycloak-connect always verifies as RSA-SHA256 but never looks at the header;
      // pinning alg here rejects `none` and HS256-with-the-public-key confusion outright.
      if (token.header?.alg !== "RS256") throw new UnauthorizedError("登录凭证无效", `alg ${String(token.header?.alg)} not allowed`);
      try {
        await grantManager.validateToken(token, "Bearer");
      } catch (err) {
        const reason = (err as Error).message;
        throw new UnauthorizedError(/expired/.test(reason) ? "登录已过期，请重新登录" : "登录凭证无效", reason);
      }
      const claims = token.content;
      const clientId = String(claims.azp ?? "");
      if (options.allowedClients && !options.allowedClients.includes(clientId)) {
        throw new UnauthorizedError("登录凭证无效", `client ${clientId} not allowed`);
      }
      const orgUnit = typeof claims.org_unit === "string" ? claims.org_unit : "";
      if (!/^(\d{6}|\d{9}|\d{12})$/.test(orgUnit)) {
        throw new UnauthorizedError("账号未配置所属单位（org_unit），请联系管理员", "missing org_unit claim");
      }
      return {
        userId: String(claims.sub ?? ""),
        username: String(claims.preferred_username ?? ""),
        name: String(claims.name ?? claims.preferred_username ?? ""),
        roles: rolesFromClaims(claims),
        orgUnit,
        schoolCode: typeof claims.school_code === "string" ? claims.school_code : null,
        clientId,
        token: raw,
      };
    },
  };
}
