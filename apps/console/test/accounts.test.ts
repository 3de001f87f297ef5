import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { canRun, choose, shot, startStack, type Stack } from "./stack.js";

/**
 * 账号管理 through the real gateway, registry (org units) and dev issuer (Keycloak's admin API):
 * a county admin creates a teacher and sees the temporary password once, edits the phone,
 * disables and re-enables, resets the password; a bad phone is refused under its field; the
 * new account's first login asks for a new password; a township supervisor has no such page.
 */
let stack: Stack;
const desktop = { width: 1440, height: 900 };
const phone = { width: 390, height: 844 };

beforeAll(async () => {
  if (!canRun) return;
  stack = await startStack();
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

const open = (username: string, path: string, viewport = desktop): Promise<Page> => stack.open(username, path, viewport);
type Account = { id: string; username: string; phone: string | null; enabled: boolean; mustChangePassword: boolean };
const accounts = async (q: string) => ((await (await stack.api("county.admin", "GET", `/api/v1/accounts?q=${q}`)).json()) as { items: Account[] }).items;

describe.skipIf(!canRun)("账号管理", () => {
  it("a county admin creates a teacher, sees the temporary password once, edits, disables, enables and resets", async () => {
    const page = await open("county.admin", "/accounts");
    await expect.poll(() => page.getByRole("row").filter({ hasText: "changling.teacher" }).count(), { timeout: 20_000 }).toBe(1);
    await page.getByRole("button", { name: "新建账号" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("用户名").fill("li.hua");
    await dialog.getByLabel("姓", { exact: true }).fill("李");
    await dialog.getByLabel("名", { exact: true }).fill("华");
    await choose(page, dialog.getByLabel("角色"), "教师");
    await dialog.getByLabel("所属单位（行政区划代码）").fill("360999101");
    await dialog.getByLabel("手机号").fill("12345");
    await dialog.getByRole("button", { name: /保\s*存/ }).click();
    await expect.poll(() => dialog.textContent()).toContain("应为 11 位手机号");
    expect(await accounts("li.hua")).toEqual([]);
    await dialog.getByLabel("手机号").fill("139 0730 5555");
    await dialog.getByRole("button", { name: /保\s*存/ }).click();
    const secret = page.getByTestId("temporary-password");
    await expect.poll(() => secret.textContent()).toMatch(/^[A-Za-z]{4}-\d{4}-/);
    await shot(page, "accounts-temporary-password");
    await page.getByRole("button", { name: "我已记下" }).click();
    const [created] = await accounts("li.hua");
    expect(created).toMatchObject({ phone: "13907305555", enabled: true, mustChangePassword: true });

    const row = page.getByRole("row").filter({ hasText: "li.hua" });
    await expect.poll(() => row.textContent()).toContain("待改密");
    await row.getByRole("button", { name: /编\s*辑/ }).click();
    await dialog.getByLabel("手机号").fill("13907306666");
    await dialog.getByRole("button", { name: /保\s*存/ }).click();
    await expect.poll(async () => (await accounts("li.hua"))[0]?.phone).toBe("13907306666");

    await row.getByRole("button", { name: /停\s*用/ }).click();
    await page
      .getByRole("button", { name: /确\s*定|OK/ })
      .last()
      .click(); // the newest popconfirm; the last one may still be closing
    await expect.poll(() => row.textContent()).toContain("已停用");
    await row.getByRole("button", { name: /启\s*用/ }).click();
    await page
      .getByRole("button", { name: /确\s*定|OK/ })
      .last()
      .click(); // the newest popconfirm; the last one may still be closing
    await expect.poll(async () => (await accounts("li.hua"))[0]?.enabled).toBe(true);

    await row.getByRole("button", { name: "重置密码" }).click();
    await page
      .getByRole("button", { name: /确\s*定|OK/ })
      .last()
      .click(); // the newest popconfirm; the last one may still be closing
    await expect.poll(() => secret.textContent()).toMatch(/^[A-Za-z]{4}-\d{4}-/);
    await page.getByRole("button", { name: "我已记下" }).click();
    await shot(page, "accounts-desktop");
    await page.context().close();
  }, 120_000);

  it("fits a phone screen", async () => {
    const page = await open("county.admin", "/accounts", phone);
    await expect.poll(() => page.getByRole("row").filter({ hasText: "changling.teacher" }).count(), { timeout: 20_000 }).toBe(1);
    await shot(page, "accounts-phone");
    await page.getByRole("button", { name: "新建账号" }).click();
    await expect.poll(() => page.getByRole("dialog").textContent()).toContain("所属单位");
    await shot(page, "accounts-new-phone", false);
    await page.context().close();
  }, 90_000);

  it("a township supervisor has no 账号管理, and the API refuses them", async () => {
    const page = await open("changling.supervisor", "/accounts");
    await expect.poll(() => page.textContent("body"), { timeout: 20_000 }).toContain("只有县级管理员可以管理账号");
    expect(await page.getByRole("menuitem", { name: "账号管理" }).count()).toBe(0);
    expect((await stack.api("changling.supervisor", "GET", "/api/v1/accounts")).status).toBe(403);
    await page.context().close();
  }, 60_000);
});
