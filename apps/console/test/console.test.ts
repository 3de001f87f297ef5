import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { axeSerious, canRun, shots, signIn as signInAt, startStack, type Stack } from "./stack.js";
import { childBody } from "../../../services/registry/test/harness.js";

/**
 * The console end to end: the built gateway (serving apps/console/dist), registry and
 * dev issuer on free ports, a real Chromium signing in on the issuer's login page
 * (authorization code + PKCE). Screenshots of each page go to docs/screenshots/.
 */
let stack: Stack | undefined;
let browser: Browser | undefined;
let base = "";

beforeAll(async () => {
  if (!canRun) return;
  stack = await startStack();
  base = stack.base;
  browser = stack.browser;
  // Children to list: registered through the gateway as the county admin.
  const names = ["李小花", "王明", "张婷婷", "刘洋", "陈思雨", "赵磊"];
  for (let i = 0; i < names.length; i++) {
    const res = await stack.api(
      "county.admin",
      "POST",
      "/api/v1/children",
      childBody({ seq: i + 1, name: names[i], riskLevel: i % 3 === 0 ? "high" : "medium", sex: i % 2 ? "male" : "female" }),
    );
    if (res.status !== 201) throw new Error(`register child: ${res.status} ${await res.text()}`);
  }
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

async function signIn(page: Page, username: string) {
  page.on("console", (m) => consoleLog.push(m.text()));
  page.on("requestfailed", (r) => consoleLog.push(`failed ${r.url()}`));
  page.on("response", (r) => r.status() >= 400 && consoleLog.push(`${r.status()} ${r.url()}`));
  await signInAt(page, base, username, "/children");
  await page.waitForSelector("[data-testid=children-table] .ant-table-row", { timeout: 30_000 }).catch(async (err) => {
    await page.screenshot({ path: path.join(os.tmpdir(), `console-fail-${username}.png`) });
    throw new Error(`${err.message}\n${(await page.locator("body").innerText()).slice(0, 1500)}\n${consoleLog.join("\n")}`);
  });
}
const consoleLog: string[] = [];

const ID_FULL = /\b\d{17}[\dX]\b/;

describe.skipIf(!canRun)("console", () => {
  it("serves the app with its headers and /config.json", async () => {
    const index = await fetch(`${base}/children/abc`);
    expect(index.status).toBe(200);
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect(index.headers.get("content-security-policy")).toContain("connect-src 'self' http://127.0.0.1:");
    const html = await index.text();
    const asset = html.match(/\/assets\/[^"]+\.js/)![0];
    const js = await fetch(`${base}${asset}`, { headers: { "accept-encoding": "br, gzip" } });
    expect(js.headers.get("cache-control")).toContain("immutable");
    expect(js.headers.get("content-encoding")).toMatch(/br|gzip/);
    expect((await fetch(`${base}/api/v1/nope`)).status).not.toBe(200);
    const config = (await (await fetch(`${base}/config.json`)).json()) as { clientId: string };
    expect(config.clientId).toBe("shouhu-console");
  });

  for (const [who, viewport] of [
    ["desktop", { width: 1440, height: 900 }],
    ["phone", { width: 390, height: 844 }],
  ] as const) {
    it(`county.admin signs in and sees the children (${who})`, async () => {
      const ctx = await browser!.newContext({ viewport, locale: "zh-CN" });
      const page = await ctx.newPage();
      await signIn(page, "county.admin");
      const rows = page.locator("[data-testid=children-table] .ant-table-row");
      expect(await rows.count()).toBe(6);
      await page.screenshot({ path: path.join(shots, `children-list-${who}.png`), fullPage: true });
      if (who === "desktop") await expect(page.getByText("退出登录").first().isVisible()).resolves.toBe(true);
      if (who === "desktop") expect((await axeSerious(page)).join("\n"), "儿童档案 list").toBe("");
      await page.getByRole("link", { name: "李小花" }).click();
      await page.waitForSelector(".ant-tabs");
      await page.screenshot({ path: path.join(shots, `child-detail-${who}.png`), fullPage: true });
      if (who === "desktop") expect((await axeSerious(page)).join("\n"), "child detail").toBe("");
      await page.getByRole("tab", { name: "家庭与监护" }).click();
      await page.screenshot({ path: path.join(shots, `child-family-${who}.png`), fullPage: true });
      if (who === "desktop") expect((await axeSerious(page)).join("\n"), "家庭与监护").toBe("");
      // The 工作台's screenshots come from pairing.test.ts, whose stack runs the pairing service its to-dos read.
      await page.goto(`${base}/`);
      await page.waitForSelector("text=在册儿童");
      if (who === "phone") {
        await page.getByLabel("打开菜单").click();
        await page.waitForSelector(".ant-drawer-open");
        await page.waitForTimeout(400);
        await page.screenshot({ path: path.join(shots, `menu-drawer-${who}.png`) });
      }
      await ctx.close();
    }, 90_000);
  }

  it("changling.teacher sees the school's children with masked ID numbers", async () => {
    const ctx = await browser!.newContext({ viewport: { width: 1440, height: 900 }, locale: "zh-CN" });
    const page = await ctx.newPage();
    await signIn(page, "changling.teacher");
    const table = await page.locator("[data-testid=children-table]").innerText();
    expect(table).not.toMatch(ID_FULL);
    expect(await page.locator("[data-testid=masked]").count()).toBeGreaterThan(0);
    const header = await page.getByTestId("current-user").innerText();
    expect(header).toContain("教师");
    await page.screenshot({ path: path.join(shots, "children-list-teacher-desktop.png"), fullPage: true });
    await page.getByRole("link", { name: "李小花" }).click();
    await page.waitForSelector(".ant-tabs");
    expect(await page.locator(".ant-tabs").innerText()).not.toMatch(ID_FULL);
    await page.screenshot({ path: path.join(shots, "child-detail-teacher-desktop.png"), fullPage: true });
    // 退出登录 ends the issuer's session (end_session): back at the console, it asks to sign in again.
    await page.getByRole("button", { name: "退出登录" }).click();
    await page.waitForSelector("#kc-login", { timeout: 30_000 });
    await ctx.close();
  }, 90_000);

  it("审计: the county admin sees who read which child, a refused attempt, filters by user and outcome; others have no 审计", async () => {
    // A refused attempt: a supervisor of another township asks for a child of 长岭 (404, recorded as refused).
    const list = (await (await stack!.api("county.admin", "GET", "/api/v1/children?limit=1")).json()) as { items: { id: string }[] };
    const childId = list.items[0]!.id;
    expect((await stack!.api("shimen.supervisor", "GET", `/api/v1/children/${childId}`)).status).toBe(404);

    for (const [who, viewport] of [
      ["desktop", { width: 1440, height: 900 }],
      ["phone", { width: 390, height: 844 }],
    ] as const) {
      const ctx = await browser!.newContext({ viewport, locale: "zh-CN" });
      const page = await ctx.newPage();
      await signInAt(page, base, "county.admin", "/audit");
      const rows = page.locator("[data-testid=audit-table] .ant-table-row");
      await rows.first().waitFor({ timeout: 30_000 });
      const text = await page.locator("[data-testid=audit-table]").innerText();
      expect(text).toContain("county.admin");
      expect(text).toContain("建档");
      expect(text).toMatch(/被拒绝 404/);
      expect(text).toContain("shimen.supervisor");
      if (who === "desktop") {
        expect((await axeSerious(page)).join("\n"), "审计").toBe("");
        await page.screenshot({ path: path.join(shots, "audit-desktop.png"), fullPage: true });
        // Only refused attempts on that child's record.
        await page.getByLabel("儿童编号").fill(childId);
        await page.getByLabel("结果").click();
        await page.getByTitle("被拒绝").click();
        await page.getByRole("button", { name: /查\s*询/ }).click();
        await expect.poll(async () => (await rows.allInnerTexts()).every((r) => r.includes("被拒绝")) && (await rows.count()) >= 1).toBe(true);
        await page.getByLabel("儿童编号").fill("");
        await page.getByLabel("用户").fill("county.admin");
        await page.getByLabel("结果").click();
        await page.getByTitle("已允许").click();
        await page.getByRole("button", { name: /查\s*询/ }).click();
        await expect.poll(async () => (await rows.allInnerTexts()).every((r) => r.includes("county.admin") && r.includes("已允许"))).toBe(true);
      } else {
        await page.waitForTimeout(300);
        await page.screenshot({ path: path.join(shots, "audit-phone.png"), fullPage: true });
      }
      await ctx.close();
    }

    // A township supervisor: no 审计 in the menu, and the page says why.
    const ctx = await browser!.newContext({ viewport: { width: 1440, height: 900 }, locale: "zh-CN" });
    const page = await ctx.newPage();
    await signInAt(page, base, "changling.supervisor", "/audit");
    await page.getByText("只有县级管理员可以查看审计记录").waitFor();
    expect(await page.getByRole("menuitem", { name: "审计" }).count()).toBe(0);
    await ctx.close();
  }, 120_000);
});
