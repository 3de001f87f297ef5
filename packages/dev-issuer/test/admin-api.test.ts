import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import KcAdminClient from "@keycloak/keycloak-admin-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cookiesOf, createIssuerApp, formAction, pkcePair, type IssuerApp } from "../src/index.js";

const realmFile = fileURLToPath(new URL("../../../infra/keycloak/shouhu-realm.json", import.meta.url));
const usersFile = fileURLToPath(new URL("../../../infra/keycloak/dev/shouhu-users-0.json", import.meta.url));
const REDIRECT = "http://127.0.0.1:5173/callback";
const dir = mkdtempSync(path.join(os.tmpdir(), "dev-issuer-admin-"));
const storeFile = path.join(dir, "users.json");
let issuer: IssuerApp;
let root: string;

async function admin(clientId = "shouhu-accounts", clientSecret = "shouhu-accounts-secret"): Promise<KcAdminClient> {
  const kc = new KcAdminClient({ baseUrl: root, realmName: "shouhu" });
  await kc.auth({ grantType: "client_credentials", clientId, clientSecret });
  return kc;
}
const passwordGrant = (username: string, password: string) =>
  fetch(`${root}/realms/shouhu/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "password", client_id: "shouhu-web", username, password }),
  });

beforeAll(async () => {
  issuer = await createIssuerApp({ realmFile, usersFile, usersStoreFile: storeFile });
  root = await issuer.listen({ port: 0, host: "127.0.0.1" });
});
afterAll(async () => {
  await issuer.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("Keycloak Admin REST API subset, through @keycloak/keycloak-admin-client", () => {
  it("refuses callers without realm-management roles: 401 without a token, 403 for a user's token or the directory's writes", async () => {
    expect((await fetch(`${root}/admin/realms/shouhu/users`)).status).toBe(401);
    const token = await issuer.issueToken("county.admin", "shouhu-web");
    const asUser = await fetch(`${root}/admin/realms/shouhu/users`, { headers: { authorization: `Bearer ${token}` } });
    expect(asUser.status).toBe(403);
    const directory = await admin("shouhu-directory", "shouhu-directory-secret");
    expect((await directory.users.find({ max: 5 })).length).toBe(5);
    await expect(directory.users.create({ username: "x.y", enabled: true })).rejects.toMatchObject({ response: { status: 403 } });
  });

  it("creates a user (201 + Location, id back), finds it, 409 on a duplicate username or e-mail", async () => {
    const kc = await admin();
    const { id } = await kc.users.create({
      username: "new.teacher",
      enabled: true,
      lastName: "王",
      firstName: "丽",
      email: "new.teacher@example.org",
      attributes: { org_unit: ["360999101"], phone: ["13900000001"] },
      credentials: [{ type: "password", value: "Temp-1234-abcd", temporary: true }],
    });
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const raw = await fetch(`${root}/admin/realms/shouhu/users`, {
      method: "POST",
      headers: { authorization: `Bearer ${kc.accessToken}`, "content-type": "application/json" },
      body: JSON.stringify({ username: "raw.user", enabled: true }),
    });
    expect(raw.status).toBe(201);
    expect(raw.headers.get("location")).toMatch(new RegExp(`^${root}/admin/realms/shouhu/users/[0-9a-f-]{36}$`));
    const user = await kc.users.findOne({ id });
    expect(user).toMatchObject({ username: "new.teacher", enabled: true, requiredActions: ["UPDATE_PASSWORD"], attributes: { org_unit: ["360999101"] } });
    expect(JSON.stringify(user)).not.toContain("Temp-1234");
    expect((await kc.users.find({ username: "new.teacher", exact: true })).map((u) => u.id)).toEqual([id]);
    expect((await kc.users.find({ search: "new.tea" })).length).toBe(1);
    await expect(kc.users.create({ username: "new.teacher", enabled: true })).rejects.toMatchObject({ response: { status: 409 } });
    await expect(kc.users.create({ username: "other.one", email: "NEW.teacher@example.org" })).rejects.toMatchObject({ response: { status: 409 } });
    expect(await kc.users.findOne({ id: "00000000-0000-0000-0000-000000000000" })).toBeNull();
  });

  it("groups give roles: membership added and removed; members listed; roles listed", async () => {
    const kc = await admin();
    const groups = await kc.groups.find({ briefRepresentation: false });
    const teachers = groups.find((g) => g.path === "/teachers")!;
    expect(teachers.realmRoles).toEqual(["teacher"]);
    const [user] = await kc.users.find({ username: "new.teacher", exact: true });
    await kc.users.addToGroup({ id: user!.id!, groupId: teachers.id! });
    expect((await kc.users.listGroups({ id: user!.id! })).map((g) => g.path)).toEqual(["/teachers"]);
    expect((await kc.groups.listMembers({ id: teachers.id! })).map((u) => u.username)).toContain("new.teacher");
    expect((await kc.users.listCompositeRealmRoleMappings({ id: user!.id! })).map((r) => r.name)).toContain("teacher");
    expect((await kc.roles.find()).map((r) => r.name)).toContain("county-admin");
  });

  it("a temporary password signs in only through the login page's UPDATE_PASSWORD step; disable refuses the login", async () => {
    const kc = await admin();
    const [user] = await kc.users.find({ username: "new.teacher", exact: true });
    const refused = await passwordGrant("new.teacher", "Temp-1234-abcd");
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: "invalid_grant", error_description: "Account is not fully set up" });

    const { challenge } = pkcePair();
    const auth = new URL(`${root}/realms/shouhu/protocol/openid-connect/auth`);
    for (const [k, v] of Object.entries({
      client_id: "shouhu-console",
      redirect_uri: REDIRECT,
      response_type: "code",
      scope: "openid",
      code_challenge: challenge,
      code_challenge_method: "S256",
    }))
      auth.searchParams.set(k, v);
    const page = await fetch(auth);
    const cookie = cookiesOf(page);
    const post = (url: string, body: Record<string, string>) =>
      fetch(url, {
        method: "POST",
        redirect: "manual",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie },
        body: new URLSearchParams(body),
      });
    const update = await post(formAction(await page.text()), { username: "new.teacher", password: "Temp-1234-abcd" });
    const html = await update.text();
    expect(html).toContain("更新密码");
    const action = /id="kc-passwd-update-form" action="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, "&");
    const mismatch = await post(action, { "password-new": "Mine-5678-wxyz", "password-confirm": "Mine-5678-wxy" });
    expect(await mismatch.text()).toContain("两次输入的密码不一致");
    const done = await post(action, { "password-new": "Mine-5678-wxyz", "password-confirm": "Mine-5678-wxyz" });
    expect(done.status).toBe(302);
    expect(done.headers.get("location")).toMatch(/^http:\/\/127\.0\.0\.1:5173\/callback\?.*code=/);
    expect((await kc.users.findOne({ id: user!.id! }))!.requiredActions).toEqual([]);
    expect((await passwordGrant("new.teacher", "Mine-5678-wxyz")).status).toBe(200);

    await kc.users.update({ id: user!.id! }, { enabled: false });
    const disabled = await passwordGrant("new.teacher", "Mine-5678-wxyz");
    expect(await disabled.json()).toMatchObject({ error: "invalid_grant", error_description: "Account disabled" });
    await kc.users.update({ id: user!.id! }, { enabled: true });
    await kc.users.resetPassword({ id: user!.id!, credential: { type: "password", value: "Again-2468-abcd", temporary: true } });
    expect((await kc.users.findOne({ id: user!.id! }))!.requiredActions).toEqual(["UPDATE_PASSWORD"]);
  });

  it("keeps the users in its store: a restarted issuer knows what the admin API did", async () => {
    const again = await createIssuerApp({ realmFile, usersFile, usersStoreFile: storeFile });
    try {
      const found = again.store.users.find((u) => u.username === "new.teacher");
      expect(found).toMatchObject({ lastName: "王", groups: ["/teachers"], requiredActions: ["UPDATE_PASSWORD"] });
      expect(again.store.users.some((u) => u.username === "county.admin")).toBe(true);
    } finally {
      await again.close();
    }
  });
});
