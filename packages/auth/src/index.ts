export { createTokenVerifier, AuthUnavailableError, type TokenVerifier, type VerifierOptions } from "./verifier.js";
export { actorOf, hasAnyRole, operationalRoles, requireRole, tokenClaims, rolesFromClaims, principalFromClaims, type Principal } from "./principal.js";
export { withinJurisdiction, assertWithinJurisdiction, scopeOf } from "./jurisdiction.js";
export {
  ATTACHMENT_ACCESS,
  CHILD_ATTACHMENT_KINDS,
  attachmentKindsSeen,
  type ChildAttachmentKind,
  CHILD_FIELDS,
  NEED_TO_KNOW,
  RECORD_ACCESS,
  applyLevel,
  childView,
  maskPhone,
  needsPairing,
  recordAccess,
  regionOnly,
  resolveLevel,
  seesContacts,
  type ChildField,
  type ChildView,
  type Level,
  type RecordKind,
  type RecordLevel,
  type Resolved,
} from "./need-to-know.js";
export { FailedAuthLimiter, OPEN_ROUTES, PUBLIC_PREFIX, addressKey, authenticate, bearerToken, protectApiRoutes, requirePrincipal } from "./fastify.js";
export { ACCOUNT_MANAGERS, ROLE_LEVELS, ROLE_RANK, assignableRoles, rankOf, roleFitsOrgUnit } from "./accounts.js";
export { TASK_LINK_MAX_LENGTH, mintTaskLink, verifyTaskLink, type TaskLinkCheck, type TaskLinkClaims } from "./task-link.js";
