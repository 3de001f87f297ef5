export { createTokenVerifier, AuthUnavailableError, type TokenVerifier, type VerifierOptions } from "./verifier.js";
export { actorOf, hasAnyRole, requireRole, rolesFromClaims, principalFromClaims, type Principal } from "./principal.js";
export { withinJurisdiction, assertWithinJurisdiction, scopeOf } from "./jurisdiction.js";
export { fieldAccess, maskIdNumber, maskPhone, type FieldAccess } from "./masking.js";
export { OPEN_ROUTES, authenticate, bearerToken, protectApiRoutes, requirePrincipal } from "./fastify.js";
