import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The parts of a Keycloak realm export the issuer reads: the same file a real Keycloak imports. */
export interface RealmUser {
  id: string;
  username: string;
  enabled?: boolean;
  firstName?: string;
  lastName?: string;
  email?: string;
  emailVerified?: boolean;
  attributes?: Record<string, string[]>;
  /** `value` as exports of dev users write it; `secretData`/`credentialData` as Keycloak stores a hash. */
  credentials?: { type: string; value?: string; temporary?: boolean; secretData?: string; credentialData?: string; createdDate?: number }[];
  /** Keycloak's required actions, e.g. UPDATE_PASSWORD after an administrator set a temporary password. */
  requiredActions?: string[];
  createdTimestamp?: number;
  groups?: string[];
  realmRoles?: string[];
  /** Client roles by client id, e.g. `{ "realm-management": ["manage-users"] }` for an admin API caller. */
  clientRoles?: Record<string, string[]>;
  serviceAccountClientId?: string;
}

export interface ProtocolMapper {
  name: string;
  protocolMapper: string;
  config: Record<string, string>;
}

export interface RealmClient {
  clientId: string;
  enabled?: boolean;
  publicClient?: boolean;
  bearerOnly?: boolean;
  secret?: string;
  directAccessGrantsEnabled?: boolean;
  serviceAccountsEnabled?: boolean;
  webOrigins?: string[];
  standardFlowEnabled?: boolean;
  redirectUris?: string[];
  attributes?: Record<string, string>;
  /** Keycloak's built-in scopes (created on import when the export declares no clientScopes). */
  defaultClientScopes?: string[];
  protocolMappers?: ProtocolMapper[];
}

export interface RealmGroup {
  id?: string;
  name: string;
  path?: string;
  realmRoles?: string[];
  subGroups?: RealmGroup[];
}

export interface RealmExport {
  realm: string;
  /** Keycloak's brute-force detection (BruteForceDetector). */
  bruteForceProtected?: boolean;
  failureFactor?: number;
  waitIncrementSeconds?: number;
  maxFailureWaitSeconds?: number;
  maxDeltaTimeSeconds?: number;
  enabled?: boolean;
  accessTokenLifespan?: number;
  ssoSessionIdleTimeout?: number;
  ssoSessionMaxLifespan?: number;
  roles?: { realm?: { name: string; composite?: boolean; composites?: { realm?: string[] } }[] };
  groups?: RealmGroup[];
  clients?: RealmClient[];
  users?: RealmUser[];
}

/**
 * Secrets a development run may fall back to when its environment does not set them.
 * Dev only: the realm export holds placeholders, never values, and a real Keycloak
 * resolves them from its own environment (docker-compose's .env).
 */
const DEV_DEFAULTS: Record<string, string> = {
  SHOUHU_SERVICE_SECRET: "shouhu-service-secret",
  SHOUHU_ACCOUNTS_SECRET: "shouhu-accounts-secret",
  SHOUHU_DIRECTORY_SECRET: "shouhu-directory-secret",
};

/** Keycloak's `${NAME}` / `${NAME:default}` placeholders in a realm export, from the environment. */
export function resolvePlaceholders(text: string, env: NodeJS.ProcessEnv = process.env): string {
  // Unset names stay as written, as Keycloak leaves them (e.g. ${role_uma_authorization}, a message key).
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_.]*)(?::([^}]*))?\}/g, (whole, name: string, fallback: string | undefined) => {
    const key = name.replace(/^env\./, "");
    const value = env[key] ?? fallback ?? DEV_DEFAULTS[key];
    return value === undefined ? whole : JSON.stringify(value).slice(1, -1);
  });
}

/**
 * The repository's dev-only human users for a realm: Keycloak's directory-export users file
 * (`<realm>-users-0.json`) in infra/keycloak/dev/. The realm export itself holds only
 * service accounts, so a production import creates no demo logins.
 */
export function repoDevUsersFile(realmName = "shouhu"): string {
  // src/ and dist/ both sit two levels below the repository's packages/.
  return fileURLToPath(new URL(`../../../infra/keycloak/dev/${realmName}-users-0.json`, import.meta.url));
}

/**
 * The realm export plus, when asked, a users file: option `usersFile` (a path, or `false`
 * for none), else env DEV_USERS_FILE, else none — never implicitly, so a production reader
 * of the realm (notifications' staff directory) gets no demo users by accident.
 */
export function loadRealm(file: string, options: { usersFile?: string | false } = {}): RealmExport {
  const realm = JSON.parse(resolvePlaceholders(readFileSync(file, "utf8"))) as RealmExport;
  if (!realm.realm) throw new Error(`${file} is not a Keycloak realm export (no "realm")`);
  const usersFile = options.usersFile === false ? undefined : options.usersFile || process.env.DEV_USERS_FILE || undefined;
  if (usersFile) {
    const extra = JSON.parse(resolvePlaceholders(readFileSync(usersFile, "utf8"))) as { realm?: string; users?: RealmUser[] };
    if (extra.realm !== realm.realm) throw new Error(`${usersFile} holds users of realm ${extra.realm}, not ${realm.realm}`);
    const known = new Set((realm.users ?? []).map((u) => u.username));
    const clash = (extra.users ?? []).find((u) => known.has(u.username));
    if (clash) throw new Error(`${usersFile}: user ${clash.username} is already in ${file}`);
    realm.users = [...(realm.users ?? []), ...(extra.users ?? [])];
  }
  return realm;
}

export const findUser = (realm: RealmExport, username: string): RealmUser | undefined => realm.users?.find((u) => u.username === username);

export const findClient = (realm: RealmExport, clientId: string): RealmClient | undefined => realm.clients?.find((c) => c.clientId === clientId);

/** The groups on a user's group path, outermost first: a member of /a/b inherits /a's roles. */
function groupsOnPath(realm: RealmExport, path: string): RealmGroup[] {
  const found: RealmGroup[] = [];
  let level = realm.groups ?? [];
  let prefix = "";
  for (const name of path.split("/").filter(Boolean)) {
    prefix += `/${name}`;
    const group = level.find((g) => g.name === name || g.path === prefix);
    if (!group) return [];
    found.push(group);
    level = group.subGroups ?? [];
  }
  return found;
}

/** Realm roles of a user: direct, through groups (and parent groups), composites expanded, as Keycloak does. */
export function effectiveRoles(realm: RealmExport, user: RealmUser): string[] {
  const direct = new Set(user.realmRoles ?? []);
  // No implicit default-roles-<realm>: Keycloak's import adds users without default
  // roles (addDefaultRoles=false), so the export lists it on each user.
  for (const path of user.groups ?? []) {
    for (const group of groupsOnPath(realm, path)) for (const r of group.realmRoles ?? []) direct.add(r);
  }
  const all = new Set<string>();
  const expand = (name: string) => {
    if (all.has(name)) return;
    all.add(name);
    const role = realm.roles?.realm?.find((r) => r.name === name);
    for (const c of role?.composites?.realm ?? []) expand(c);
  };
  for (const r of direct) expand(r);
  return [...all];
}

/** What a client gets when its export lists no defaultClientScopes: the realm defaults Keycloak creates. */
const REALM_DEFAULT_SCOPES = ["web-origins", "acr", "profile", "roles", "basic", "email"];

export function clientScopes(client: RealmClient): string[] {
  return client.defaultClientScopes ?? REALM_DEFAULT_SCOPES;
}

/** Claims a client's protocol mappers add for a user (attribute and audience mappers). */
export function mappedClaims(client: RealmClient, user: RealmUser): { claims: Record<string, unknown>; audiences: string[] } {
  const claims: Record<string, unknown> = {};
  const audiences: string[] = [];
  for (const mapper of client.protocolMappers ?? []) {
    if (mapper.config["access.token.claim"] !== "true") continue;
    if (mapper.protocolMapper === "oidc-usermodel-attribute-mapper") {
      const value = user.attributes?.[mapper.config["user.attribute"] ?? ""]?.[0];
      if (value !== undefined) claims[mapper.config["claim.name"] ?? mapper.name] = value;
    } else if (mapper.protocolMapper === "oidc-audience-mapper") {
      const aud = mapper.config["included.client.audience"];
      if (aud) audiences.push(aud);
    }
  }
  return { claims, audiences };
}
