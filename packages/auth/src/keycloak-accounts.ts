import KcAdminClient from "@keycloak/keycloak-admin-client";
import type UserRepresentation from "@keycloak/keycloak-admin-client/lib/defs/userRepresentation.js";
import { Role } from "@shouhu/contracts";

/** A staff account as the gateway's accounts API and the staff directory see it. */
export interface StaffAccount {
  id: string;
  username: string;
  lastName: string | null;
  firstName: string | null;
  /** Display name, Chinese order for Chinese names (王丽). */
  name: string;
  /** The application role its group gives (one per account); null for others (ops). */
  role: Role | null;
  /** Every realm role its groups give (the directory's `roles`). */
  roles: string[];
  orgUnit: string | null;
  schoolCode: string | null;
  phone: string | null;
  email: string | null;
  enabled: boolean;
  /** Keycloak required action UPDATE_PASSWORD: the next login asks for a new password. */
  mustChangePassword: boolean;
  createdAt: string | null;
}

export interface AccountInput {
  username: string;
  lastName: string;
  firstName: string;
  role: Role;
  orgUnit: string;
  schoolCode?: string | null;
  phone?: string | null;
  email?: string | null;
}

export interface KeycloakAdminOptions {
  /** The realm URL, e.g. http://127.0.0.1:8081/realms/shouhu (OIDC_ISSUER_URL). */
  issuerUrl: string;
  clientId: string;
  clientSecret: string;
}

const CJK = /[\u3400-\u9fff]/;
export function displayName(u: { lastName?: string | null; firstName?: string | null; username: string }): string {
  if (u.lastName && u.firstName && CJK.test(u.lastName + u.firstName)) return u.lastName + u.firstName;
  return [u.firstName, u.lastName].filter(Boolean).join(" ") || u.username;
}

interface RoleGroup {
  id: string;
  path: string;
  realmRoles: string[];
}

/**
 * Staff accounts in Keycloak through its Admin REST API (@keycloak/keycloak-admin-client),
 * signed in as a service account (client_credentials) holding realm-management roles. A role is
 * a group membership (/teachers gives `teacher`), as the realm export assigns them; org unit,
 * school and phone are user attributes. The same code runs against the dev issuer.
 */
export class KeycloakAccounts {
  private readonly kc: KcAdminClient;
  private authedUntil = 0;
  private groupsCache: { at: number; groups: RoleGroup[] } | undefined;

  constructor(private readonly options: KeycloakAdminOptions) {
    const m = /^(.*)\/realms\/([^/]+)\/?$/.exec(options.issuerUrl);
    if (!m) throw new Error(`not a Keycloak realm URL: ${options.issuerUrl}`);
    this.kc = new KcAdminClient({ baseUrl: m[1]!, realmName: m[2]! });
  }

  private async client(): Promise<KcAdminClient> {
    if (Date.now() < this.authedUntil) return this.kc;
    await this.kc.auth({ grantType: "client_credentials", clientId: this.options.clientId, clientSecret: this.options.clientSecret });
    const exp = JSON.parse(Buffer.from(this.kc.accessToken!.split(".")[1]!, "base64url").toString("utf8")).exp as number;
    // Renewed a while before it expires, so no request goes out with a stale token.
    this.authedUntil = Math.min(exp * 1000 - 30_000, Date.now() + 240_000);
    return this.kc;
  }

  /** Realm groups with the roles they give (cached a minute: groups change with the realm export, not with accounts). */
  async roleGroups(): Promise<RoleGroup[]> {
    if (this.groupsCache && Date.now() - this.groupsCache.at < 60_000) return this.groupsCache.groups;
    const kc = await this.client();
    const groups = (await kc.groups.find({ briefRepresentation: false })).map((g) => ({ id: g.id!, path: g.path!, realmRoles: g.realmRoles ?? [] }));
    this.groupsCache = { at: Date.now(), groups };
    return groups;
  }

  private async groupFor(role: Role): Promise<RoleGroup> {
    const group = (await this.roleGroups()).find((g) => g.realmRoles.includes(role));
    if (!group) throw new Error(`no Keycloak group gives the role ${role}`);
    return group;
  }

  private toAccount(u: UserRepresentation, groupPaths: string[], groups: RoleGroup[]): StaffAccount {
    const roles = [...new Set(groups.filter((g) => groupPaths.includes(g.path)).flatMap((g) => g.realmRoles))];
    const attr = (name: string) => u.attributes?.[name]?.[0] ?? null;
    return {
      id: u.id!,
      username: u.username!,
      lastName: u.lastName ?? null,
      firstName: u.firstName ?? null,
      name: displayName({ username: u.username!, lastName: u.lastName ?? null, firstName: u.firstName ?? null }),
      role: roles.find((r): r is Role => Role.safeParse(r).success) ?? null,
      roles,
      orgUnit: attr("org_unit"),
      schoolCode: attr("school_code"),
      phone: attr("phone"),
      email: u.email ?? null,
      enabled: u.enabled !== false,
      mustChangePassword: (u.requiredActions ?? []).includes("UPDATE_PASSWORD"),
      createdAt: u.createdTimestamp ? new Date(u.createdTimestamp).toISOString() : null,
    };
  }

  /** Every human account with its roles: users page by page, roles from each group's members. */
  async listAll(): Promise<StaffAccount[]> {
    const kc = await this.client();
    const groups = await this.roleGroups();
    const users: UserRepresentation[] = [];
    for (let first = 0; ; first += 500) {
      const page = await kc.users.find({ first, max: 500, briefRepresentation: false });
      users.push(...page);
      if (page.length < 500) break;
    }
    const memberOf = new Map<string, string[]>();
    for (const g of groups) {
      for (let first = 0; ; first += 500) {
        const page = await kc.groups.listMembers({ id: g.id, first, max: 500, briefRepresentation: true });
        for (const m of page) memberOf.set(m.id!, [...(memberOf.get(m.id!) ?? []), g.path]);
        if (page.length < 500) break;
      }
    }
    return users.filter((u) => !u.username?.startsWith("service-account-")).map((u) => this.toAccount(u, memberOf.get(u.id!) ?? [], groups));
  }

  async get(id: string): Promise<StaffAccount | undefined> {
    const kc = await this.client();
    const user = await kc.users.findOne({ id });
    if (!user) return undefined;
    const paths = (await kc.users.listGroups({ id })).map((g) => g.path!);
    return this.toAccount(user, paths, await this.roleGroups());
  }

  async findByUsername(username: string): Promise<UserRepresentation | undefined> {
    const kc = await this.client();
    return (await kc.users.find({ username, exact: true }))[0];
  }

  private attributes(input: { orgUnit: string | null; schoolCode: string | null; phone: string | null }): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    if (input.orgUnit) out.org_unit = [input.orgUnit];
    if (input.schoolCode) out.school_code = [input.schoolCode];
    if (input.phone) out.phone = [input.phone];
    return out;
  }

  /** Creates an enabled account with a temporary password (UPDATE_PASSWORD at first login); "exists" on a taken username or e-mail. */
  async create(input: AccountInput, temporaryPassword: string): Promise<{ id: string } | { exists: "username" | "email" }> {
    const kc = await this.client();
    const group = await this.groupFor(input.role);
    try {
      const { id } = await kc.users.create({
        username: input.username,
        enabled: true,
        lastName: input.lastName,
        firstName: input.firstName,
        ...(input.email ? { email: input.email, emailVerified: false } : {}),
        attributes: this.attributes({ orgUnit: input.orgUnit, schoolCode: input.schoolCode ?? null, phone: input.phone ?? null }),
        credentials: [{ type: "password", value: temporaryPassword, temporary: true }],
        requiredActions: ["UPDATE_PASSWORD"],
      });
      await kc.users.addToGroup({ id, groupId: group.id });
      return { id };
    } catch (err) {
      const status = (err as { response?: { status?: number } }).response?.status;
      const message = String((err as { responseData?: { errorMessage?: string } }).responseData?.errorMessage ?? (err as Error).message);
      if (status === 409) return { exists: /email/i.test(message) ? "email" : "username" };
      throw err;
    }
  }

  /** Changes what is given; the role by moving the account from one role group to another. "exists" on a taken e-mail. */
  async update(current: StaffAccount, patch: Partial<Omit<AccountInput, "username">>): Promise<{ ok: true } | { exists: "email" }> {
    const kc = await this.client();
    const user = (await kc.users.findOne({ id: current.id }))!;
    const next = {
      orgUnit: patch.orgUnit ?? current.orgUnit,
      schoolCode: patch.schoolCode === undefined ? current.schoolCode : patch.schoolCode,
      phone: patch.phone === undefined ? current.phone : patch.phone,
    };
    try {
      await kc.users.update(
        { id: current.id },
        {
          ...user,
          ...(patch.lastName !== undefined ? { lastName: patch.lastName } : {}),
          ...(patch.firstName !== undefined ? { firstName: patch.firstName } : {}),
          ...(patch.email !== undefined ? { email: patch.email ?? "" } : {}),
          attributes: {
            ...(user.attributes ?? {}),
            ...this.attributes(next),
            ...(next.schoolCode ? {} : { school_code: [] }),
            ...(next.phone ? {} : { phone: [] }),
          },
        },
      );
    } catch (err) {
      if ((err as { response?: { status?: number } }).response?.status === 409) return { exists: "email" };
      throw err;
    }
    if (patch.role && patch.role !== current.role) {
      const target = await this.groupFor(patch.role);
      for (const g of await this.roleGroups())
        if (g.id !== target.id && g.realmRoles.some((r) => Role.safeParse(r).success) && current.roles.some((r) => g.realmRoles.includes(r)))
          await kc.users.delFromGroup({ id: current.id, groupId: g.id });
      await kc.users.addToGroup({ id: current.id, groupId: target.id });
    }
    return { ok: true };
  }

  async setEnabled(id: string, enabled: boolean): Promise<void> {
    const kc = await this.client();
    const user = (await kc.users.findOne({ id }))!;
    await kc.users.update({ id }, { ...user, enabled });
  }

  async resetPassword(id: string, temporaryPassword: string): Promise<void> {
    const kc = await this.client();
    await kc.users.resetPassword({ id, credential: { type: "password", value: temporaryPassword, temporary: true } });
  }
}
