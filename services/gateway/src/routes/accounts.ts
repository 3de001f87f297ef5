import { randomInt } from "node:crypto";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { AppError, ForbiddenError, NotFoundError, ValidationError, ConflictError, type ServiceApp } from "@shouhu/kit";
import { ACCOUNT_MANAGERS, ROLE_RANK, assignableRoles, hasAnyRole, rankOf, roleFitsOrgUnit, withinJurisdiction, type Principal } from "@shouhu/auth";
import { OrgUnitCode, Role } from "@shouhu/contracts";
import { normalizePhone } from "@shouhu/cn";
import type { PrismaClient } from "../generated/prisma/client.js";
import type { AuditWriter } from "../audit/writer.js";
import type { AccountInput, KeycloakAccounts, StaffAccount } from "@shouhu/auth/keycloak-accounts";
import { auditRecord } from "./proxy.js";

export interface AccountsOptions {
  accounts: Pick<KeycloakAccounts, "listAll" | "get" | "create" | "update" | "setEnabled" | "resetPassword">;
  /** Whether an org unit exists and is not retired (the registry's org-unit tree), asked as the caller. */
  orgUnitExists(code: string, principal: Principal): Promise<boolean>;
  audit: AuditWriter;
  prisma: PrismaClient;
}

const ROLE_NAMES: Record<Role, string> = {
  "county-admin": "县级管理员",
  "federation-officer": "妇联工作人员",
  "township-supervisor": "乡镇儿童督导员",
  "village-director": "村（社区）儿童主任",
  teacher: "教师",
  "health-worker": "卫生院人员",
  inspector: "督导检查",
};

const Account = z.object({
  id: z.string(),
  username: z.string(),
  name: z.string(),
  lastName: z.string().nullable(),
  firstName: z.string().nullable(),
  role: Role.nullable(),
  orgUnit: z.string().nullable(),
  schoolCode: z.string().nullable(),
  phone: z.string().nullable(),
  email: z.string().nullable(),
  enabled: z.boolean(),
  mustChangePassword: z.boolean(),
  createdAt: z.string().nullable(),
  /** Whether the caller may edit it (in jurisdiction, ranked below the caller, not the caller). */
  manageable: z.boolean(),
});
type AccountView = z.infer<typeof Account>;

const AccountEvent = z.object({
  at: z.string(),
  action: z.string(),
  actorUsername: z.string(),
  changes: z.record(z.string(), z.unknown()),
});

const USERNAME = /^[a-z][a-z0-9._-]{2,31}$/;
const name = (label: string) =>
  z
    .string()
    .trim()
    .min(1, { message: `${label}不能为空` })
    .max(20, { message: `${label}不超过 20 个字` });
const Phone = z.string().trim().max(30, { message: "手机号格式不正确" });
const Email = z.string().trim().max(100, { message: "邮箱不超过 100 个字符" });
const RoleField = z.string().refine((r) => Role.safeParse(r).success, { message: "角色无效" });
const OrgUnitField = z.string().refine((c) => OrgUnitCode.safeParse(c).success, { message: "应为6位（县）、9位（乡镇）或12位（村/社区）行政区划代码" });
const SchoolCode = z
  .string()
  .trim()
  .max(32, { message: "学校代码不超过 32 个字符" })
  .regex(/^[A-Za-z0-9]*$/, { message: "学校代码只能包含字母和数字" });

const CreateBody = z.object({
  username: z.string().trim().regex(USERNAME, { message: "用户名应为 3–32 位小写字母、数字、点、下划线或连字符，以字母开头" }),
  lastName: name("姓"),
  firstName: name("名"),
  role: RoleField,
  orgUnit: OrgUnitField,
  schoolCode: SchoolCode.nullish(),
  phone: Phone.nullish(),
  email: Email.nullish(),
});
const UpdateBody = z.object({
  lastName: name("姓").optional(),
  firstName: name("名").optional(),
  role: RoleField.optional(),
  orgUnit: OrgUnitField.optional(),
  schoolCode: SchoolCode.nullish(),
  phone: Phone.nullish(),
  email: Email.nullish(),
});
const ListQuery = z.object({
  q: z.string().trim().max(50, { message: "搜索词不超过 50 个字符" }).optional(),
  role: RoleField.optional(),
  orgUnit: OrgUnitField.optional(),
  enabled: z.enum(["true", "false"], { message: "应为 true 或 false" }).optional(),
});
const IdParams = z.object({ id: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, { message: "账号 id 无效" }) });

/** A mobile number (11 digits) from what staff typed, or a 400 naming the field. */
function mobile(raw: string | null | undefined): string | null | undefined {
  if (raw === undefined) return undefined;
  if (raw === null || raw === "") return null;
  const result = normalizePhone(raw);
  if (!result.ok || !/^1[3-9]\d{9}$/.test(result.phone)) throw ValidationError.field("phone", "应为 11 位手机号");
  return result.phone;
}
function email(raw: string | null | undefined): string | null | undefined {
  if (raw === undefined) return undefined;
  if (raw === null || raw === "") return null;
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(raw)) throw ValidationError.field("email", "邮箱格式不正确");
  return raw.toLowerCase();
}

/** A temporary password staff can read aloud: no 0/O, 1/l/I; letters, digits and a sign. */
function temporaryPassword(): string {
  const letters = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz";
  const digits = "23456789";
  const pick = (set: string, n: number) => Array.from({ length: n }, () => set[randomInt(set.length)]).join("");
  return `${pick(letters, 4)}-${pick(digits, 4)}-${pick(letters + digits, 4)}`;
}

function forbiddenField(field: string, message: string): AppError {
  return new AppError(403, "FORBIDDEN", message, [{ field, message }]);
}

/**
 * Staff accounts, kept in Keycloak (its Admin REST API through KeycloakAccounts): county
 * admins list, create, edit, disable, enable and reset the password of accounts inside
 * their jurisdiction with roles ranked below their own. An account outside the jurisdiction
 * answers 404, as if it did not exist. Each request is in the audit trail, each change in
 * account_events (the account's history).
 */
export function registerAccountRoutes(app: ServiceApp, options: AccountsOptions): void {
  const { accounts, audit, prisma } = options;

  app.addHook("onSend", async (request, reply, payload) => {
    const action = (request.routeOptions.config as { auditAction?: string } | undefined)?.auditAction;
    if (action && request.principal) {
      const status = reply.statusCode;
      audit.record(auditRecord(request, request.principal, { action, childIds: [] }, status, status < 400 ? "allowed" : "refused"));
    }
    return payload;
  });

  const manager = (request: FastifyRequest): Principal => {
    const principal = request.principal!;
    if (!hasAnyRole(principal, ACCOUNT_MANAGERS)) throw new ForbiddenError("只有县级管理员可以管理账号");
    return principal;
  };
  const manageable = (principal: Principal, account: StaffAccount): boolean =>
    account.id !== principal.userId && account.role !== null && ROLE_RANK[account.role] < rankOf(principal);
  const view = (principal: Principal, account: StaffAccount): AccountView => {
    const { roles: _roles, ...rest } = account;
    return { ...rest, manageable: manageable(principal, account) };
  };
  /** The account if it lies in the caller's jurisdiction; 404 otherwise (nothing revealed). */
  const inJurisdiction = async (principal: Principal, id: string): Promise<StaffAccount> => {
    const account = await accounts.get(id);
    if (!account?.orgUnit || !withinJurisdiction(principal, account.orgUnit)) throw new NotFoundError("账号");
    return account;
  };
  const editable = async (principal: Principal, id: string): Promise<StaffAccount> => {
    const account = await inJurisdiction(principal, id);
    if (account.id === principal.userId) throw new ForbiddenError("不能修改自己的账号");
    if (!manageable(principal, account)) throw new ForbiddenError("无权管理同级或更高角色的账号");
    return account;
  };
  /** Role and org unit as the caller may give them: below their rank, in their jurisdiction, fitting, existing. */
  const checkPlacement = async (principal: Principal, role: Role, orgUnit: string, changed: { role: boolean; orgUnit: boolean }) => {
    if (changed.role && !assignableRoles(principal).includes(role)) throw forbiddenField("role", `无权授予角色：${ROLE_NAMES[role]}`);
    if (changed.orgUnit && !withinJurisdiction(principal, orgUnit)) throw forbiddenField("orgUnit", `所属单位不在您的管辖范围内：${orgUnit}`);
    if (!roleFitsOrgUnit(role, orgUnit))
      throw ValidationError.field(changed.role && !changed.orgUnit ? "role" : "orgUnit", `${ROLE_NAMES[role]}不能属于该级单位：${orgUnit}`);
    if (changed.orgUnit && !(await options.orgUnitExists(orgUnit, principal))) throw ValidationError.field("orgUnit", `行政区划不存在或已撤销：${orgUnit}`);
  };
  const history = (request: FastifyRequest, account: { id: string; username: string }, action: string, changes: Record<string, unknown> = {}) =>
    prisma.accountEvent.create({
      data: {
        accountId: account.id,
        username: account.username,
        action,
        actorId: request.principal!.userId,
        actorUsername: request.principal!.username,
        changes: changes as object,
        requestId: request.id,
      },
    });

  app.get(
    "/api/v1/accounts",
    {
      config: { auditAction: "account-list" },
      schema: {
        tags: ["accounts"],
        summary: "账号管理：本辖区的工作人员账号（仅县级管理员）",
        querystring: ListQuery,
        response: { 200: z.object({ items: z.array(Account), assignableRoles: z.array(Role) }) },
      },
    },
    async (request) => {
      const principal = manager(request);
      const q = request.query;
      const needle = q.q?.toLowerCase();
      const items = (await accounts.listAll())
        .filter((a) => a.orgUnit && withinJurisdiction(principal, a.orgUnit))
        .filter((a) => !q.orgUnit || a.orgUnit!.startsWith(q.orgUnit))
        .filter((a) => !q.role || a.role === q.role)
        .filter((a) => q.enabled === undefined || a.enabled === (q.enabled === "true"))
        .filter((a) => !needle || [a.username, a.name, a.phone ?? "", a.email ?? ""].some((v) => v.toLowerCase().includes(needle)))
        .sort((a, b) => (a.orgUnit ?? "").localeCompare(b.orgUnit ?? "") || a.username.localeCompare(b.username));
      return { items: items.map((a) => view(principal, a)), assignableRoles: assignableRoles(principal) };
    },
  );

  app.get(
    "/api/v1/accounts/:id",
    {
      config: { auditAction: "account-read" },
      schema: {
        tags: ["accounts"],
        summary: "一个账号及其变更历史",
        params: IdParams,
        response: { 200: Account.extend({ history: z.array(AccountEvent) }) },
      },
    },
    async (request) => {
      const principal = manager(request);
      const account = await inJurisdiction(principal, request.params.id);
      const events = await prisma.accountEvent.findMany({ where: { accountId: account.id }, orderBy: { id: "desc" }, take: 50 });
      return {
        ...view(principal, account),
        history: events.map((e) => ({
          at: e.at.toISOString(),
          action: e.action,
          actorUsername: e.actorUsername,
          changes: e.changes as Record<string, unknown>,
        })),
      };
    },
  );

  app.post(
    "/api/v1/accounts",
    {
      config: { auditAction: "account-create" },
      schema: {
        tags: ["accounts"],
        summary: "新建账号：返回一次性临时密码，首次登录须修改",
        body: CreateBody,
        response: { 201: z.object({ account: Account, temporaryPassword: z.string() }) },
      },
    },
    async (request, reply) => {
      const principal = manager(request);
      const body = request.body;
      const role = body.role as Role;
      const input: AccountInput = {
        username: body.username,
        lastName: body.lastName,
        firstName: body.firstName,
        role,
        orgUnit: body.orgUnit,
        schoolCode: body.schoolCode || null,
        phone: mobile(body.phone) ?? null,
        email: email(body.email) ?? null,
      };
      if (input.schoolCode && role !== "teacher") throw ValidationError.field("schoolCode", "只有教师账号有学校代码");
      await checkPlacement(principal, role, input.orgUnit, { role: true, orgUnit: true });
      const password = temporaryPassword();
      const created = await accounts.create(input, password);
      if ("exists" in created)
        throw created.exists === "email"
          ? new ConflictError("ACCOUNT_EXISTS", "该邮箱已被其他账号使用", [{ field: "email", message: "该邮箱已被其他账号使用" }])
          : new ConflictError("ACCOUNT_EXISTS", `用户名已存在：${input.username}`, [{ field: "username", message: "用户名已存在" }]);
      const account = (await accounts.get(created.id))!;
      const { username: _u, ...fields } = input;
      await history(request, account, "create", fields);
      return reply.status(201).send({ account: view(principal, account), temporaryPassword: password });
    },
  );

  app.patch(
    "/api/v1/accounts/:id",
    {
      config: { auditAction: "account-update" },
      schema: {
        tags: ["accounts"],
        summary: "修改账号：姓名、角色、所属单位、学校、手机号、邮箱",
        params: IdParams,
        body: UpdateBody,
        response: { 200: Account },
      },
    },
    async (request) => {
      const principal = manager(request);
      const account = await editable(principal, request.params.id);
      const body = request.body;
      const patch: Partial<Omit<AccountInput, "username">> = {
        ...(body.lastName !== undefined ? { lastName: body.lastName } : {}),
        ...(body.firstName !== undefined ? { firstName: body.firstName } : {}),
        ...(body.role !== undefined ? { role: body.role as Role } : {}),
        ...(body.orgUnit !== undefined ? { orgUnit: body.orgUnit } : {}),
        ...(body.schoolCode !== undefined ? { schoolCode: body.schoolCode || null } : {}),
        ...(body.phone !== undefined ? { phone: mobile(body.phone) ?? null } : {}),
        ...(body.email !== undefined ? { email: email(body.email) ?? null } : {}),
      };
      const role = patch.role ?? account.role!;
      const orgUnit = patch.orgUnit ?? account.orgUnit!;
      await checkPlacement(principal, role, orgUnit, { role: role !== account.role, orgUnit: orgUnit !== account.orgUnit });
      const schoolCode = patch.schoolCode === undefined ? (role === "teacher" ? account.schoolCode : null) : patch.schoolCode;
      if (schoolCode && role !== "teacher") throw ValidationError.field("schoolCode", "只有教师账号有学校代码");
      patch.schoolCode = schoolCode;
      const changes: Record<string, [unknown, unknown]> = {};
      for (const [key, value] of Object.entries(patch)) {
        const before = account[key as keyof StaffAccount] ?? null;
        if (before !== (value ?? null)) changes[key] = [before, value ?? null];
      }
      if (Object.keys(changes).length) {
        const result = await accounts.update(account, patch);
        if ("exists" in result) throw new ConflictError("ACCOUNT_EXISTS", "该邮箱已被其他账号使用", [{ field: "email", message: "该邮箱已被其他账号使用" }]);
        await history(request, account, "update", changes);
      }
      return view(principal, (await accounts.get(account.id))!);
    },
  );

  for (const [action, enabled] of [
    ["disable", false],
    ["enable", true],
  ] as const) {
    app.post(
      `/api/v1/accounts/:id/${action}`,
      {
        config: { auditAction: `account-${action}` },
        schema: { tags: ["accounts"], summary: enabled ? "启用账号" : "停用账号：不能再登录", params: IdParams, response: { 200: Account } },
      },
      async (request) => {
        const principal = manager(request);
        const account = await editable(principal, request.params.id);
        if (account.enabled !== enabled) {
          await accounts.setEnabled(account.id, enabled);
          await history(request, account, action, { enabled: [account.enabled, enabled] });
        }
        return view(principal, (await accounts.get(account.id))!);
      },
    );
  }

  app.post(
    "/api/v1/accounts/:id/reset-password",
    {
      config: { auditAction: "account-reset-pw" },
      schema: {
        tags: ["accounts"],
        summary: "重置密码：返回一次性临时密码，下次登录须修改",
        params: IdParams,
        response: { 200: z.object({ temporaryPassword: z.string() }) },
      },
    },
    async (request) => {
      const principal = manager(request);
      const account = await editable(principal, request.params.id);
      const password = temporaryPassword();
      await accounts.resetPassword(account.id, password);
      await history(request, account, "reset-password");
      return { temporaryPassword: password };
    },
  );
}
