// keycloak-connect ships no types; these cover the parts verifier.ts uses
// (read from node_modules/keycloak-connect 26.1.1, middleware/auth-utils/*.js).
declare module "keycloak-connect/middleware/auth-utils/config.js" {
  export default class Config {
    constructor(config: Record<string, unknown>);
    realmUrl: string;
    clientId: string;
    minTimeBetweenJwksRequests: number;
    verifyTokenAudience: boolean;
  }
}
declare module "keycloak-connect/middleware/auth-utils/grant-manager.js" {
  import type Config from "keycloak-connect/middleware/auth-utils/config.js";
  import type Token from "keycloak-connect/middleware/auth-utils/token.js";
  export default class GrantManager {
    constructor(config: Config);
    /** JWKS cache: `jwks` is the last fetched key list, `lastTimeRequesTime` (sic) in epoch seconds. */
    rotation: { jwks: { kid?: string }[]; lastTimeRequesTime: number; minTimeBetweenJwksRequests: number };
    validateToken(token: Token, expectedType: string): Promise<Token>;
  }
}
declare module "keycloak-connect/middleware/auth-utils/token.js" {
  export default class Token {
    constructor(token: string, clientId?: string);
    header?: { alg?: string; kid?: string; typ?: string };
    content: Record<string, unknown>;
    signed?: string;
  }
}
