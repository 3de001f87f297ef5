export { createIssuerApp, type IssuerApp, type IssuerOptions } from "./app.js";
export { KeySet } from "./keys.js";
export { loadRealm, effectiveRoles, mappedClaims, type RealmExport, type RealmUser, type RealmClient } from "./realm.js";
export { issueAccessToken, type IssueOptions } from "./tokens.js";
