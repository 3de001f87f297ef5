import { randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { compactVerify, createLocalJWKSet } from "jose";
import type { KeySet } from "./keys.js";
import { effectiveRoles, type RealmExport, type RealmUser } from "./realm.js";
import { allGroups, hashedPassword, type UserStore } from "./user-store.js";

/**
 * The subset of Keycloak's Admin REST API (`/admin/realms/{realm}/…`) that
 * @keycloak/keycloak-admin-client calls for staff accounts: users (list, count, create,
 * read, update, reset-password), their groups and realm role mappings, groups and their
 * members, realm roles. Same paths, JSON shapes and status codes as Keycloak 26; callers
 * authenticate with a bearer token of this issuer whose user holds realm-management client
 * roles (a service account's, through client_credentials), as Keycloak requires.
 */
export interface AdminContext {
  realm: RealmExport;
  keys: KeySet;
  store: UserStore;
  issuerFor(request: FastifyRequest): string;
}

type Permission = "view-users" | "manage-users" | "query-groups";
// What each realm-management role lets its holder do (Keycloak: manage implies view).
const GRANTS: Record<string, Permission[]> = {
  "manage-users": ["manage-users", "view-users", "query-groups"],
  "view-users": ["view-users", "query-groups"],
  "query-groups": ["query-groups"],
  "realm-admin": ["manage-users", "view-users", "query-groups"],
};

const USERNAME = /^[a-z0-9._@-]{3,255}$/;

const clean = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** UserRepresentation as Keycloak answers it: never the credentials. */
function representation(user: RealmUser, brief = false) {
  return clean({
    id: user.id,
    username: user.username,
    firstName: user.firstName,
    lastName: user.lastName,
    email: user.email,
    emailVerified: user.emailVerified ?? false,
    ...(brief ? {} : { attributes: user.attributes ?? {} }),
    createdTimestamp: user.createdTimestamp ?? 0,
    enabled: user.enabled !== false,
    totp: false,
    disableableCredentialTypes: [],
    requiredActions: user.requiredActions ?? [],
    notBefore: 0,
    access: { manageGroupMembership: true, view: true, mapRoles: true, impersonate: false, manage: true },
  });
}

function roleRepresentation(realm: RealmExport, name: string) {
  const role = realm.roles?.realm?.find((r) => r.name === name) as { name: string; description?: string; composite?: boolean } | undefined;
  return role
    ? clean({
        id: roleId(name),
        name: role.name,
        description: role.description,
        composite: role.composite ?? false,
        clientRole: false,
        containerId: realm.realm,
      })
    : undefined;
}
const roleId = (name: string) => `role-${name}`;

function attributesOf(body: Record<string, unknown>): Record<string, string[]> | undefined | "bad" {
  if (body.attributes === undefined) return undefined;
  if (!body.attributes || typeof body.attributes !== "object" || Array.isArray(body.attributes)) return "bad";
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(body.attributes as Record<string, unknown>)) {
    const list = Array.isArray(v) ? v : [v];
    if (!list.every((x) => typeof x === "string")) return "bad";
    if (list.length) out[k] = list as string[];
  }
  return out;
}

const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

export function registerAdmin(app: FastifyInstance, ctx: AdminContext): void {
  const { realm, store } = ctx;
  const base = `/admin/realms/${realm.realm}`;

  /** The caller's permissions from its token, or a Keycloak 401/403. */
  async function authorize(request: FastifyRequest, reply: FastifyReply, need: Permission): Promise<boolean> {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? "")?.[1];
    let sub: string | undefined;
    if (token) {
      try {
        const { payload } = await compactVerify(token, createLocalJWKSet(ctx.keys.jwks()));
        const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
        const fresh = typeof claims.exp === "number" && claims.exp * 1000 > Date.now();
        if (fresh && claims.iss === ctx.issuerFor(request) && (claims.typ === "Bearer" || claims.typ === undefined)) sub = String(claims.sub);
      } catch {
        sub = undefined;
      }
    }
    const caller = sub ? store.users.find((u) => u.id === sub && u.enabled !== false) : undefined;
    if (!caller) {
      await reply.status(401).send({ error: "HTTP 401 Unauthorized" });
      return false;
    }
    const granted = new Set((caller.clientRoles?.["realm-management"] ?? []).flatMap((r) => GRANTS[r] ?? []));
    if (!granted.has(need)) {
      await reply.status(403).send({ error: "HTTP 403 Forbidden" });
      return false;
    }
    return true;
  }

  const humanUser = (id: string) => store.users.find((u) => u.id === id);
  const notFound = (reply: FastifyReply) => reply.status(404).send({ error: "User not found" });

  // Keycloak takes an empty JSON body (the admin client's PUT …/groups/{id} sends none).
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
    try {
      done(null, body === "" ? {} : JSON.parse(body as string));
    } catch {
      const err = new Error("unable to read contents from stream") as Error & { statusCode: number };
      err.statusCode = 400;
      done(err, undefined);
    }
  });

  /** Applies a UserRepresentation's fields; an error message (Keycloak's words) when one is bad. */
  function apply(user: RealmUser, body: Record<string, unknown>): string | undefined {
    const attributes = attributesOf(body);
    if (attributes === "bad") return "Invalid attributes";
    for (const field of ["firstName", "lastName", "email"] as const) {
      if (body[field] === undefined) continue;
      if (body[field] !== null && typeof body[field] !== "string") return `error-invalid-${field}`;
      const value = (body[field] as string | null) ?? undefined;
      if (field === "email" && value) {
        if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) return "invalidEmailMessage";
        if (store.users.some((u) => u.id !== user.id && u.email?.toLowerCase() === value.toLowerCase())) return "409:User exists with same email";
      }
      user[field] = value ? (field === "email" ? value.toLowerCase() : value) : undefined;
    }
    if (typeof body.enabled === "boolean") user.enabled = body.enabled;
    if (typeof body.emailVerified === "boolean") user.emailVerified = body.emailVerified;
    if (Array.isArray(body.requiredActions)) user.requiredActions = body.requiredActions.filter((a): a is string => typeof a === "string");
    if (attributes) user.attributes = attributes;
    return undefined;
  }

  app.get(`${base}/users`, async (request, reply) => {
    if (!(await authorize(request, reply, "view-users"))) return;
    const q = request.query as Record<string, string | undefined>;
    const exact = q.exact === "true";
    const match = (value: string | undefined, wanted: string | undefined) =>
      wanted === undefined ||
      (value !== undefined && (exact ? value.toLowerCase() === wanted.toLowerCase() : value.toLowerCase().includes(wanted.toLowerCase())));
    const search = q.search?.replace(/\*/g, "").toLowerCase();
    const attrs = (q.q ?? "")
      .split(" ")
      .filter(Boolean)
      .map((pair) => pair.split(":") as [string, string]);
    const found = store.users
      .filter((u) => !u.serviceAccountClientId)
      .filter(
        (u) =>
          (!search || [u.username, u.email, u.firstName, u.lastName].some((v) => v?.toLowerCase().includes(search))) &&
          match(u.username, q.username) &&
          match(u.email, q.email) &&
          match(u.firstName, q.firstName) &&
          match(u.lastName, q.lastName) &&
          (q.enabled === undefined || (u.enabled !== false) === (q.enabled === "true")) &&
          attrs.every(([k, v]) => u.attributes?.[k]?.includes(v)),
      )
      .sort((a, b) => a.username.localeCompare(b.username));
    const first = Math.max(0, Number(q.first ?? 0) || 0);
    const max = q.max === undefined ? 100 : Math.max(0, Number(q.max) || 0);
    return found.slice(first, first + max).map((u) => representation(u, q.briefRepresentation === "true"));
  });

  app.get(`${base}/users/count`, async (request, reply) => {
    if (!(await authorize(request, reply, "view-users"))) return;
    return store.users.filter((u) => !u.serviceAccountClientId).length;
  });

  app.post(`${base}/users`, async (request, reply) => {
    if (!(await authorize(request, reply, "manage-users"))) return;
    const body = (request.body ?? {}) as Record<string, unknown>;
    const username = str(body.username)?.trim().toLowerCase();
    if (!username) return reply.status(400).send({ field: "username", errorMessage: "error-user-attribute-required", params: ["username"] });
    if (!USERNAME.test(username)) return reply.status(400).send({ field: "username", errorMessage: "error-username-invalid-character", params: ["username"] });
    if (store.users.some((u) => u.username === username)) return reply.status(409).send({ errorMessage: "User exists with same username" });
    const user: RealmUser = { id: randomUUID(), username, enabled: false, createdTimestamp: Date.now(), realmRoles: ["default-roles-" + realm.realm] };
    const problem = apply(user, body);
    if (problem?.startsWith("409:")) return reply.status(409).send({ errorMessage: problem.slice(4) });
    if (problem) return reply.status(400).send({ errorMessage: problem });
    if (body.enabled === undefined) user.enabled = false;
    if (Array.isArray(body.credentials)) {
      const password = (body.credentials as { type?: string; value?: string; temporary?: boolean }[]).find((c) => c.type === "password" && c.value);
      if (password?.value) {
        user.credentials = [hashedPassword(password.value, password.temporary === true)];
        if (password.temporary) user.requiredActions = [...new Set([...(user.requiredActions ?? []), "UPDATE_PASSWORD"])];
      }
    }
    if (Array.isArray(body.groups)) {
      const groups = allGroups(realm);
      for (const path of body.groups)
        if (!groups.some((g) => g.path === path)) return reply.status(400).send({ errorMessage: `Group ${String(path)} not found` });
      user.groups = body.groups as string[];
    }
    store.users.push(user);
    store.save();
    return reply
      .status(201)
      .header("location", `${ctx.issuerFor(request).replace(/\/realms\/[^/]+$/, "")}${base}/users/${user.id}`)
      .send();
  });

  app.get(`${base}/users/:id`, async (request, reply) => {
    if (!(await authorize(request, reply, "view-users"))) return;
    const user = humanUser((request.params as { id: string }).id);
    return user ? representation(user) : notFound(reply);
  });

  app.put(`${base}/users/:id`, async (request, reply) => {
    if (!(await authorize(request, reply, "manage-users"))) return;
    const user = humanUser((request.params as { id: string }).id);
    if (!user) return notFound(reply);
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (body.username !== undefined && str(body.username)?.toLowerCase() !== user.username)
      return reply.status(400).send({ field: "username", errorMessage: "error-user-attribute-read-only", params: ["username"] });
    const draft: RealmUser = structuredClone(user);
    const problem = apply(draft, body);
    if (problem?.startsWith("409:")) return reply.status(409).send({ errorMessage: problem.slice(4) });
    if (problem) return reply.status(400).send({ errorMessage: problem });
    Object.assign(user, draft);
    for (const key of ["firstName", "lastName", "email"] as const) if (draft[key] === undefined) delete user[key];
    store.save();
    return reply.status(204).send();
  });

  app.put(`${base}/users/:id/reset-password`, async (request, reply) => {
    if (!(await authorize(request, reply, "manage-users"))) return;
    const user = humanUser((request.params as { id: string }).id);
    if (!user) return notFound(reply);
    const body = (request.body ?? {}) as { type?: string; value?: unknown; temporary?: boolean };
    if (typeof body.value !== "string" || !body.value) return reply.status(400).send({ error: "missing_value", error_description: "Missing credential value" });
    // Keycloak's default: a password set by an administrator is temporary unless said otherwise.
    const temporary = body.temporary !== false;
    user.credentials = [hashedPassword(body.value, temporary)];
    const others = (user.requiredActions ?? []).filter((a) => a !== "UPDATE_PASSWORD");
    user.requiredActions = temporary ? [...others, "UPDATE_PASSWORD"] : others;
    store.save();
    return reply.status(204).send();
  });

  app.get(`${base}/users/:id/groups`, async (request, reply) => {
    if (!(await authorize(request, reply, "view-users"))) return;
    const user = humanUser((request.params as { id: string }).id);
    if (!user) return notFound(reply);
    return allGroups(realm)
      .filter((g) => user.groups?.includes(g.path))
      .map((g) => ({ id: g.id, name: g.name, path: g.path, subGroupCount: g.subGroups?.length ?? 0 }));
  });

  for (const method of ["put", "delete"] as const) {
    app[method](`${base}/users/:id/groups/:groupId`, async (request, reply) => {
      if (!(await authorize(request, reply, "manage-users"))) return;
      const { id, groupId } = request.params as { id: string; groupId: string };
      const user = humanUser(id);
      if (!user) return notFound(reply);
      const group = allGroups(realm).find((g) => g.id === groupId);
      if (!group) return reply.status(404).send({ error: "Group not found" });
      const others = (user.groups ?? []).filter((p) => p !== group.path);
      user.groups = method === "put" ? [...others, group.path] : others;
      store.save();
      return reply.status(204).send();
    });
  }

  app.get(`${base}/users/:id/role-mappings/realm/composite`, async (request, reply) => {
    if (!(await authorize(request, reply, "view-users"))) return;
    const user = humanUser((request.params as { id: string }).id);
    if (!user) return notFound(reply);
    return effectiveRoles(realm, user).flatMap((name) => roleRepresentation(realm, name) ?? []);
  });

  app.get(`${base}/users/:id/role-mappings/realm`, async (request, reply) => {
    if (!(await authorize(request, reply, "view-users"))) return;
    const user = humanUser((request.params as { id: string }).id);
    if (!user) return notFound(reply);
    return (user.realmRoles ?? []).flatMap((name) => roleRepresentation(realm, name) ?? []);
  });

  app.get(`${base}/roles`, async (request, reply) => {
    if (!(await authorize(request, reply, "view-users"))) return;
    return (realm.roles?.realm ?? []).flatMap((r) => roleRepresentation(realm, r.name) ?? []);
  });

  app.get(`${base}/groups`, async (request, reply) => {
    if (!(await authorize(request, reply, "query-groups"))) return;
    const q = request.query as Record<string, string | undefined>;
    const brief = q.briefRepresentation !== "false";
    return (realm.groups ?? []).map((g) => {
      const full = allGroups(realm).find((x) => x.name === g.name && x.path === `/${g.name}`)!;
      return clean({
        id: full.id,
        name: full.name,
        path: full.path,
        subGroupCount: full.subGroups?.length ?? 0,
        subGroups: [],
        ...(brief ? {} : { attributes: {}, realmRoles: full.realmRoles ?? [], clientRoles: {} }),
      });
    });
  });

  app.get(`${base}/groups/:id/members`, async (request, reply) => {
    if (!(await authorize(request, reply, "view-users"))) return;
    const group = allGroups(realm).find((g) => g.id === (request.params as { id: string }).id);
    if (!group) return reply.status(404).send({ error: "Could not find group by id" });
    const q = request.query as Record<string, string | undefined>;
    const first = Math.max(0, Number(q.first ?? 0) || 0);
    const max = q.max === undefined ? 100 : Math.max(0, Number(q.max) || 0);
    return store.users
      .filter((u) => !u.serviceAccountClientId && u.groups?.includes(group.path))
      .sort((a, b) => a.username.localeCompare(b.username))
      .slice(first, first + max)
      .map((u) => representation(u, q.briefRepresentation === "true"));
  });
}
