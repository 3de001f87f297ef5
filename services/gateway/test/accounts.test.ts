import { describe, expect } from "vitest";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { KeycloakAccounts } from "@shouhu/auth/keycloak-accounts";
import { until, type TestIssuer } from "@shouhu/testing";
import { buildGatewayApp } from "../src/app.js";
import { gatewayTest } from "./harness.js";

/** Org units the registry would know (360999199 is well-formed but does not exist). */
const KNOWN = new Set(["360999", "360999101", "360999102", "360999101201", "361000", "361000101"]);

/** The file's gateway with the accounts API on the file's dev issuer (its admin API, as Keycloak's). */
const test = gatewayTest("gateway_accounts").extend("gateway", { scope: "file" }, async ({ prisma, redis, issuer, prefix }, { onCleanup }) => {
  const gateway = await buildGatewayApp({
    prisma,
    verifier: createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web"] }),
    redis,
    logger: createLogger("gateway-accounts-test", "silent"),
    upstreams: [],
    corsOrigins: [],
    rateLimitPerMinute: 10_000,
    rateLimitNamespace: `${prefix}-rl-`,
    accounts: {
      accounts: new KeycloakAccounts({ issuerUrl: issuer.issuerUrl, clientId: "shouhu-accounts", clientSecret: "shouhu-accounts-secret" }),
      orgUnitExists: async (code) => KNOWN.has(code),
    },
  });
  await gateway.ready();
  onCleanup(() => gateway.close());
  return gateway;
});

type Json = Record<string, any>;
const call = async (gateway: ServiceApp, issuer: TestIssuer, user: string, method: string, url: string, payload?: object) => {
  const res = await gateway.inject({ method: method as "GET", url, headers: await issuer.as(user), ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.json<Json>() };
};
const teacher = {
  username: "zhang.min",
  lastName: "张",
  firstName: "敏",
  role: "teacher",
  orgUnit: "360999101",
  schoolCode: "S360999101001",
  phone: "139 0730 9999",
  email: "Zhang.Min@example.org",
};

/** An account made straight in Keycloak (as another county's admin would). */
async function direct(issuer: TestIssuer, username: string, orgUnit: string, group: string): Promise<string> {
  const kc = new KeycloakAccounts({ issuerUrl: issuer.issuerUrl, clientId: "shouhu-accounts", clientSecret: "shouhu-accounts-secret" });
  const roles: Record<string, "county-admin" | "teacher"> = { "/county-admins": "county-admin", "/teachers": "teacher" };
  const made = await kc.create({ username, lastName: "赵", firstName: "强", role: roles[group]!, orgUnit }, "Some-Pass-1234");
  if (!("id" in made)) throw new Error("exists");
  return made.id;
}

describe("staff accounts in Keycloak through the gateway", () => {
  test("a county admin creates an account: temporary password once, must change at next login, history and audit written", async ({
    gateway,
    issuer,
    prisma,
  }) => {
    const created = await call(gateway, issuer, "county.admin", "POST", "/api/v1/accounts", teacher);
    expect(created.status).toBe(201);
    expect(created.body.temporaryPassword).toMatch(/^[A-Za-z]{4}-\d{4}-[A-Za-z0-9]{4}$/);
    expect(created.body.account).toMatchObject({
      username: "zhang.min",
      name: "张敏",
      role: "teacher",
      orgUnit: "360999101",
      schoolCode: "S360999101001",
      phone: "13907309999",
      email: "zhang.min@example.org",
      enabled: true,
      mustChangePassword: true,
      manageable: true,
    });
    // Keycloak refuses the temporary password outside the login page's UPDATE_PASSWORD step.
    const grant = await fetch(`${issuer.issuerUrl}/protocol/openid-connect/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "password", client_id: "shouhu-web", username: "zhang.min", password: created.body.temporaryPassword }),
    });
    expect(await grant.json()).toMatchObject({ error_description: "Account is not fully set up" });

    const list = await call(gateway, issuer, "county.admin", "GET", "/api/v1/accounts?q=zhang");
    expect(list.body.items.map((a: Json) => a.username)).toEqual(["zhang.min"]);
    expect(list.body.assignableRoles).not.toContain("county-admin");
    const all = await call(gateway, issuer, "county.admin", "GET", "/api/v1/accounts");
    const self = all.body.items.find((a: Json) => a.username === "county.admin");
    expect(self).toMatchObject({ role: "county-admin", manageable: false });
    expect(all.body.items.find((a: Json) => a.username === "changling.teacher")).toMatchObject({
      role: "teacher",
      schoolCode: "S360999101001",
      manageable: true,
    });

    const detail = await call(gateway, issuer, "county.admin", "GET", `/api/v1/accounts/${created.body.account.id}`);
    expect(detail.body.history).toEqual([expect.objectContaining({ action: "create", actorUsername: "county.admin" })]);
    expect(JSON.stringify(detail.body.history)).not.toContain(created.body.temporaryPassword);
    await until(
      "the create in the audit trail",
      async () => (await prisma.auditEntry.count({ where: { action: "account-create", outcome: "allowed" } })) === 1,
    );
  });

  test("edits role, org unit, phone and e-mail; disables and enables; resets the password", async ({ gateway, issuer, prisma }) => {
    const id = (await call(gateway, issuer, "county.admin", "GET", "/api/v1/accounts?q=zhang.min")).body.items[0].id as string;
    const moved = await call(gateway, issuer, "county.admin", "PATCH", `/api/v1/accounts/${id}`, {
      role: "township-supervisor",
      orgUnit: "360999102",
      phone: "13907308888",
      email: "",
    });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ role: "township-supervisor", orgUnit: "360999102", phone: "13907308888", email: null, schoolCode: null });

    const disabled = await call(gateway, issuer, "county.admin", "POST", `/api/v1/accounts/${id}/disable`);
    expect(disabled.body.enabled).toBe(false);
    expect((await call(gateway, issuer, "county.admin", "GET", "/api/v1/accounts?enabled=false")).body.items.map((a: Json) => a.id)).toEqual([id]);
    const enabled = await call(gateway, issuer, "county.admin", "POST", `/api/v1/accounts/${id}/enable`);
    expect(enabled.body.enabled).toBe(true);

    const reset = await call(gateway, issuer, "county.admin", "POST", `/api/v1/accounts/${id}/reset-password`);
    expect(reset.status).toBe(200);
    expect(reset.body.temporaryPassword).toMatch(/^[A-Za-z]{4}-\d{4}-/);
    expect((await call(gateway, issuer, "county.admin", "GET", `/api/v1/accounts/${id}`)).body).toMatchObject({ mustChangePassword: true });

    const history = (await call(gateway, issuer, "county.admin", "GET", `/api/v1/accounts/${id}`)).body.history as Json[];
    expect(history.map((h) => h.action)).toEqual(["reset-password", "enable", "disable", "update", "create"]);
    expect(history[3]!.changes).toMatchObject({ role: ["teacher", "township-supervisor"], orgUnit: ["360999101", "360999102"] });
    await until(
      "each change in the audit trail",
      async () =>
        (await prisma.auditEntry.count({ where: { action: { in: ["account-update", "account-disable", "account-enable", "account-reset-pw"] } } })) === 4,
    );
  });

  test("only county admins manage accounts; none may escalate, edit themselves, or touch an equal role", async ({ gateway, issuer, prisma }) => {
    for (const user of ["federation.officer", "changling.supervisor", "county.inspector", "county.ops"]) {
      const res = await call(gateway, issuer, user, "GET", "/api/v1/accounts");
      expect(res.status, user).toBe(403);
      expect(res.body.error.message).toMatch(/[\u4e00-\u9fff]/);
    }
    const escalate = await call(gateway, issuer, "county.admin", "POST", "/api/v1/accounts", {
      ...teacher,
      username: "boss.two",
      role: "county-admin",
      orgUnit: "360999",
      schoolCode: null,
    });
    expect(escalate.status).toBe(403);
    expect(escalate.body.error.details).toEqual([expect.objectContaining({ field: "role" })]);

    const selfId = (await call(gateway, issuer, "county.admin", "GET", "/api/v1/accounts?q=county.admin")).body.items[0].id as string;
    expect((await call(gateway, issuer, "county.admin", "PATCH", `/api/v1/accounts/${selfId}`, { phone: "13900000000" })).status).toBe(403);
    expect((await call(gateway, issuer, "county.admin", "POST", `/api/v1/accounts/${selfId}/disable`)).status).toBe(403);

    const peer = await direct(issuer, "peer.admin", "360999", "/county-admins");
    for (const [method, url] of [
      ["PATCH", `/api/v1/accounts/${peer}`],
      ["POST", `/api/v1/accounts/${peer}/disable`],
      ["POST", `/api/v1/accounts/${peer}/reset-password`],
    ] as const)
      expect((await call(gateway, issuer, "county.admin", method, url, method === "PATCH" ? { phone: "13900000000" } : undefined)).status).toBe(403);

    // Raising a teacher to the admin's own role is refused too.
    const t = (await call(gateway, issuer, "county.admin", "GET", "/api/v1/accounts?q=changling.teacher")).body.items[0].id as string;
    const raise = await call(gateway, issuer, "county.admin", "PATCH", `/api/v1/accounts/${t}`, { role: "county-admin", orgUnit: "360999" });
    expect(raise.status).toBe(403);
    await until("refusals in the audit trail", async () => (await prisma.auditEntry.count({ where: { action: "account-update", outcome: "refused" } })) >= 3);
  });

  test("accounts outside the jurisdiction answer 404; new ones cannot be placed there", async ({ gateway, issuer }) => {
    const other = await direct(issuer, "far.teacher", "361000101", "/teachers");
    expect((await call(gateway, issuer, "county.admin", "GET", "/api/v1/accounts")).body.items.map((a: Json) => a.username)).not.toContain("far.teacher");
    for (const [method, url] of [
      ["GET", `/api/v1/accounts/${other}`],
      ["PATCH", `/api/v1/accounts/${other}`],
      ["POST", `/api/v1/accounts/${other}/disable`],
      ["POST", `/api/v1/accounts/${other}/reset-password`],
      ["GET", "/api/v1/accounts/00000000-0000-0000-0000-000000000000"],
    ] as const) {
      const res = await call(gateway, issuer, "county.admin", method, url, method === "PATCH" ? { phone: "13900000000" } : undefined);
      expect(res.status, `${method} ${url}`).toBe(404);
      expect(res.body.error.message).toBe("账号不存在");
    }
    const outside = await call(gateway, issuer, "county.admin", "POST", "/api/v1/accounts", {
      ...teacher,
      username: "out.side",
      orgUnit: "361000101",
      email: null,
    });
    expect(outside.status).toBe(403);
    expect(outside.body.error.details).toEqual([expect.objectContaining({ field: "orgUnit" })]);
  });

  test("every bad input is a zh-CN 4xx naming the field, and nothing is created", async ({ gateway, issuer }) => {
    const cases: [Json, number, string][] = [
      [{ username: "A b" }, 400, "username"],
      [{ username: "ab" }, 400, "username"],
      [{ lastName: "" }, 400, "lastName"],
      [{ role: "boss" }, 400, "role"],
      [{ orgUnit: "12" }, 400, "orgUnit"],
      [{ orgUnit: "360999199" }, 400, "orgUnit"],
      [{ role: "village-director", schoolCode: null }, 400, "orgUnit"],
      [{ phone: "123" }, 400, "phone"],
      [{ phone: "0797-1234567" }, 400, "phone"],
      [{ email: "nope" }, 400, "email"],
      [{ role: "health-worker" }, 400, "schoolCode"],
      [{ unknownField: "x", username: "Bad Name" }, 400, "username"],
      [{ schoolCode: "S-1" }, 400, "schoolCode"],
      [{ username: "changling.teacher", email: null }, 409, "username"],
    ];
    for (const [over, status, field] of cases) {
      const res = await call(gateway, issuer, "county.admin", "POST", "/api/v1/accounts", { ...teacher, username: "bad.input", email: null, ...over });
      expect(res.status, JSON.stringify(over)).toBe(status);
      expect(res.body.error.message, JSON.stringify(over)).toMatch(/[\u4e00-\u9fff]/);
      const fields = (res.body.error.details ?? []).map((d: Json) => d.field);
      expect(fields, JSON.stringify(over)).toContain(field);
    }
    expect((await call(gateway, issuer, "county.admin", "GET", "/api/v1/accounts?q=bad.input")).body.items).toEqual([]);
    const id = (await call(gateway, issuer, "county.admin", "GET", "/api/v1/accounts?q=changling.teacher")).body.items[0].id as string;
    const badPatch = await call(gateway, issuer, "county.admin", "PATCH", `/api/v1/accounts/${id}`, { role: "village-director" });
    expect(badPatch.status).toBe(400);
    expect(badPatch.body.error.details).toEqual([expect.objectContaining({ field: "role" })]);
  });
});
