export { createIssuerApp, type IssuerApp, type IssuerOptions } from "./app.js";
export { KeySet, rotateSigningKey, type SigningKey } from "./keys.js";
export {
  loadRealm,
  repoDevUsersFile,
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
export { browserSignIn, cookiesOf, formAction, pkcePair, type BrowserSignIn } from "./browser-client.js";
export { redirectUriAllowed, clientOrigins } from "./browser-http.js";
