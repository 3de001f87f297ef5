import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import {
  DEMO_PASSWORD,
  freePort,
  postgresBinDir,
  realmFile,
  redisServerBinary,
  startScratchPostgres,
  startScratchRedis,
  type ScratchPostgres,
  type ScratchRedis,
} from "@shouhu/testing";
import { childBody } from "../../../services/registry/test/harness.js";

/**
 * The console end to end: the built gateway (serving apps/console/dist), registry and
 * dev issuer on free ports, a real Chromium signing in on the issuer's login page
 * (authorization code + PKCE). Screenshots of each page go to docs/screenshots/.
 */
const root = fileURLToPath(new URL("../../..", import.meta.url));
const chromiumPath = "/usr/bin/chromium";
const built = ["services/gateway/dist/main.js", "services/registry/dist/main.js", "packages/dev-issuer/dist/main.js", "apps/console/dist/index.html"].every(
  (f) => existsSync(path.join(root, f)),
);
const shots = path.join(root, "docs/screenshots");

let pgc: ScratchPostgres | undefined;
let redis: ScratchRedis | undefined;
const procs: ChildProcess[] = [];
let browser: Browser | undefined;
let base = "";
let log = "";

async function waitOk(url: string, child: ChildProcess, ms = 90_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited during start-up:\n${log.slice(-3000)}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} not healthy:\n${log.slice(-3000)}`);
}

function start(entry: string, env: Record<string, string>) {
  const child = spawn(process.execPath, [path.join(root, entry)], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (d) => (log += d));
  child.stderr!.on("data", (d) => (log += d));
  procs.push(child);
  return child;
}

const run = built && existsSync(chromiumPath) && postgresBinDir() && redisServerBinary();

beforeAll(async () => {
  if (!run) return;
  [pgc, redis] = await Promise.all([startScratchPostgres(), startScratchRedis()]);
  const [gw, reg, iss] = await Promise.all([freePort(), freePort(), freePort()]);
  base = `http://127.0.0.1:${gw}`;
  const issuerUrl = `http://127.0.0.1:${iss}/realms/shouhu`;
  // The realm's console client allows redirects to port 3000/5173; this run's port too.
  const realm = JSON.parse(readFileSync(realmFile, "utf8"));
  for (const c of realm.clients) if (c.clientId === "shouhu-console") c.redirectUris.push(`${base}/*`);
  const dir = mkdtempSync(path.join(os.tmpdir(), "console-test-"));
  writeFileSync(path.join(dir, "realm.json"), JSON.stringify(realm));
  const pg = `postgresql://root@127.0.0.1:${pgc.port}`;
  const common = { REDIS_URL: redis.url, OIDC_ISSUER_URL: issuerUrl, PG_BASE_URL: pg, TEST_DATABASE_ADMIN_URL: pgc.url(), SHUTDOWN_DRAIN_MS: "200" };
  const issuer = start("packages/dev-issuer/dist/main.js", {
    ...common,
    PORT: String(iss),
    REALM_FILE: path.join(dir, "realm.json"),
    ISSUER_PUBLIC_URL: `http://127.0.0.1:${iss}`,
    ISSUER_KEY_FILE: path.join(dir, "key.json"),
  });
  await waitOk(`${issuerUrl}/.well-known/openid-configuration`, issuer);
  const registry = start("services/registry/dist/main.js", { ...common, PORT: String(reg), ROLE: "all", DATABASE_URL: `${pg}/shouhu_registry` });
  await waitOk(`http://127.0.0.1:${reg}/readyz`, registry);
  const dead = "http://127.0.0.1:9";
  const gateway = start("services/gateway/dist/main.js", {
    ...common,
    PORT: String(gw),
    DATABASE_URL: `${pg}/shouhu_gateway`,
    REGISTRY_URL: `http://127.0.0.1:${reg}`,
    PAIRING_URL: dead,
    VISITS_URL: dead,
    HEALTH_URL: dead,
    NOTIFICATIONS_URL: dead,
    REPORTING_URL: dead,
  });
  await waitOk(`${base}/healthz`, gateway);

  // Children to list: registered through the gateway as the county admin.
  const tok = await fetch(`${issuerUrl}/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "password", client_id: "shouhu-web", username: "county.admin", password: DEMO_PASSWORD, scope: "openid" }),
  });
  const { access_token } = (await tok.json()) as { access_token: string };
  const names = ["李小花", "王明", "张婷婷", "刘洋", "陈思雨", "赵磊"];
  for (let i = 0; i < names.length; i++) {
    const res = await fetch(`${base}/api/v1/children`, {
      method: "POST",
      headers: { authorization: `Bearer ${access_token}`, "content-type": "application/json" },
      body: JSON.stringify(childBody({ seq: i + 1, name: names[i], riskLevel: i % 3 === 0 ? "high" : "medium", sex: i % 2 ? "male" : "female" })),
    });
    if (res.status !== 201) throw new Error(`register child: ${res.status} ${await res.text()}`);
  }
  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  for (const p of procs.reverse()) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => (p.exitCode !== null ? undefined : new Promise((r) => p.once("exit", r)))));
  await redis?.destroy();
  pgc?.destroy();
});

async function signIn(page: Page, username: string) {
  page.on("console", (m) => consoleLog.push(m.text()));
  page.on("requestfailed", (r) => consoleLog.push(`failed ${r.url()}`));
  page.on("response", (r) => r.status() >= 400 && consoleLog.push(`${r.status()} ${r.url()}`));
  await page.goto(`${base}/children`);
  await page.waitForSelector("#kc-login", { timeout: 30_000 });
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", DEMO_PASSWORD);
  await page.click("#kc-login");
  await page.waitForURL(`${base}/children`, { timeout: 30_000 });
  await page.waitForSelector("[data-testid=children-table] .ant-table-row", { timeout: 30_000 }).catch(async (err) => {
    await page.screenshot({ path: path.join(os.tmpdir(), `console-fail-${username}.png`) });
    throw new Error(`${err.message}\n${(await page.locator("body").innerText()).slice(0, 1500)}\n${consoleLog.join("\n")}`);
  });
}
const consoleLog: string[] = [];

const ID_FULL = /\b\d{17}[\dX]\b/;

describe.skipIf(!run)("console", () => {
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
      await page.getByRole("link", { name: "李小花" }).click();
      await page.waitForSelector(".ant-tabs");
      await page.screenshot({ path: path.join(shots, `child-detail-${who}.png`), fullPage: true });
      await page.getByRole("tab", { name: "家庭与监护" }).click();
      await page.screenshot({ path: path.join(shots, `child-family-${who}.png`), fullPage: true });
      await page.goto(`${base}/`);
      await page.waitForSelector("text=在册儿童");
      await page.waitForTimeout(1000);
      await page.screenshot({ path: path.join(shots, `workbench-${who}.png`), fullPage: true });
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
});
