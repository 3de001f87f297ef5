export { createIssuerApp, type IssuerApp, type IssuerOptions } from "./app.js";
export { KeySet, rotateSigningKey, type SigningKey } from "./keys.js";
export {
  loadRealm,
  effectiveRoles,
  clientScopes,
  mappedClaims,
  findUser,
  findClient,
  type RealmExport,
  type RealmUser,
  type RealmClient,
  type RealmGroup,
  type ProtocolMapper,
} from "./realm.js";
export { issueAccessToken, issueIdToken, issueRefreshToken, issueToken, type IssueOptions, type MintOptions, type Grant } from "./tokens.js";
