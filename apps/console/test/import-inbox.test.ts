import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
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
import pgLib from "pg";

/**
 * 导入 and 消息 end to end: the built gateway (serving apps/console/dist), registry
 * (with its import worker), notifications and dev issuer on free ports, a real
 * Chromium signing in on the issuer's login page. Screenshots go to docs/screenshots/.
 */
const root = fileURLToPath(new URL("../../..", import.meta.url));
const chromiumPath = "/usr/bin/chromium";
const built = [
  "services/gateway/dist/main.js",
  "services/registry/dist/main.js",
  "services/notifications/dist/main.js",
  "packages/dev-issuer/dist/main.js",
  "apps/console/dist/index.html",
].every((f) => existsSync(path.join(root, f)));
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
  const [gw, reg, iss, ntf] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
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
  const notifications = start("services/notifications/dist/main.js", { ...common, PORT: String(ntf), ROLE: "all", DATABASE_URL: `${pg}/shouhu_notifications` });
  await waitOk(`http://127.0.0.1:${ntf}/readyz`, notifications);
  const dead = "http://127.0.0.1:9";
  const gateway = start("services/gateway/dist/main.js", {
    ...common,
    PORT: String(gw),
    DATABASE_URL: `${pg}/shouhu_gateway`,
    REGISTRY_URL: `http://127.0.0.1:${reg}`,
    PAIRING_URL: dead,
    VISITS_URL: dead,
    HEALTH_URL: dead,
    NOTIFICATIONS_URL: `http://127.0.0.1:${ntf}`,
    REPORTING_URL: dead,
  });
  await waitOk(`${base}/healthz`, gateway);

  // Three in-app messages for the township supervisor, as the notification rules write them
  // (the rules and the event flow have their own tests; here the inbox is what is under test).
  const db = new pgLib.Client({ connectionString: `${pg}/shouhu_notifications` });
  await db.connect();
  const notes = [
    ["走访已逾期 14 天，已提醒村儿童主任", "李小花（长岭村）的定期走访已逾期 14 天，负责人：村儿童主任。请督促尽快走访。", false],
    ["新的关注事项：疑似受到忽视", "长岭村王明：监护人长期外出，孩子独自在家。请在 24 小时内核实处置。", true],
    ["结对帮扶已开始", "张婷婷已与帮扶人刘老师结对，请关注首次走访。", false],
  ] as const;
  for (const [i, [title, body, urgent]] of notes.entries()) {
    await db.query(
      `INSERT INTO messages (id, dedup_key, source_event_id, source_event_type, rule, channel, template, urgent, recipient_username, address,
                             recipient_name, org_unit, title, body, vars, status, not_before, sent_at, created_at)
       VALUES ($1, $2, $3, 'concern.raised', 'test', 'inapp', 'concern_raised', $4, 'changling.supervisor', 'changling.supervisor',
               '长岭乡督导员', '360999101201', $5, $6, '{}', 'sent', now(), now(), now() - make_interval(mins => $7))`,
      [`0190a000-0000-7000-8000-00000000000${i + 1}`, `import-inbox-${i}`, randomUUID(), urgent, title, body, 30 - i * 10],
    );
  }
  await db.end();
  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  for (const p of procs.reverse()) p.kill("SIGTERM");
  await Promise.all(procs.map((p) => (p.exitCode !== null ? undefined : new Promise((r) => p.once("exit", r)))));
  await redis?.destroy();
  pgc?.destroy();
});

const consoleLog: string[] = [];
const sample = path.join(root, "services/registry/samples/长岭乡留守儿童登记表-示例.xlsx");

async function signIn(page: Page, username: string, at: string) {
  page.on("console", (m) => consoleLog.push(m.text()));
  page.on("response", (r) => r.status() >= 400 && consoleLog.push(`${r.status()} ${r.url()}`));
  await page.goto(`${base}${at}`);
  await page.waitForSelector("#kc-login", { timeout: 30_000 });
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", DEMO_PASSWORD);
  await page.click("#kc-login");
  await page.waitForURL(`${base}${at}`, { timeout: 30_000 });
  await page.waitForSelector("[data-testid=current-user]", { timeout: 30_000 });
}

const fail = (page: Page) => async (err: Error) => {
  throw new Error(`${err.message}\n${(await page.locator("body").innerText()).slice(0, 1500)}\n${consoleLog.slice(-20).join("\n")}`);
};

describe.skipIf(!run)("console: 导入 and 消息", () => {
  it("a township supervisor uploads a register, watches it finish, reads and downloads the rejections", async () => {
    const ctx = await browser!.newContext({ viewport: { width: 1440, height: 900 }, locale: "zh-CN", acceptDownloads: true });
    const page = await ctx.newPage();
    await signIn(page, "changling.supervisor", "/imports");
    await expect(page.getByRole("menuitem", { name: "导入" }).isVisible()).resolves.toBe(true);

    const template = page.waitForEvent("download");
    await page.getByRole("button", { name: "下载模板" }).click();
    const tpl = await template;
    expect(tpl.suggestedFilename()).toBe("留守儿童登记表模板.xlsx");
    expect(
      readFileSync((await tpl.path())!)
        .subarray(0, 2)
        .toString(),
    ).toBe("PK");

    await page.locator("[data-testid=import-upload] input[type=file]").setInputFiles(sample);
    await page.waitForSelector("[data-testid=import-progress]");
    await page.waitForSelector("[data-testid=import-progress] .ant-progress-status-success", { timeout: 90_000 }).catch(fail(page));
    const progress = await page.getByTestId("import-progress").innerText();
    expect(await page.locator("[data-testid=import-progress] [role=progressbar]").getAttribute("aria-valuenow")).toBe("100");
    expect(progress).toContain("已处理 40 行");
    expect(progress).toContain("已完成");
    const rejected = Number(progress.match(/未导入 (\d+) 行/)![1]);
    const accepted = Number(progress.match(/(?<!未)导入 (\d+) 行/)![1]);
    expect(rejected).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);

    const rows = page.locator("[data-testid=rejections-table] .ant-table-row");
    await rows.first().waitFor({ timeout: 30_000 });
    expect(await rows.count()).toBe(Math.min(rejected, 20));
    // Reasons are the registry's zh-CN words, one per problem.
    expect(await rows.first().innerText()).toMatch(/[\u4e00-\u9fa5]{4,}/);
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(shots, "imports-desktop.png"), fullPage: true });

    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "下载（.xlsx）" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^未导入的行-.*\.xlsx$/);
    const bytes = readFileSync((await file.path())!);
    expect(bytes.subarray(0, 2).toString()).toBe("PK");

    // The batch is in the recent list with its counts.
    const batchRow = page.locator("[data-testid=batches-table] .ant-table-row").first();
    expect(await batchRow.innerText()).toContain(`${accepted} / ${rejected}`);

    // The phone layout of the same page.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(600);
    await page.screenshot({ path: path.join(shots, "imports-phone.png"), fullPage: true });
    await ctx.close();
  }, 180_000);

  it("the supervisor opens 消息 and the unread badge drops after reading one", async () => {
    const ctx = await browser!.newContext({ viewport: { width: 1440, height: 900 }, locale: "zh-CN" });
    const page = await ctx.newPage();
    await signIn(page, "changling.supervisor", "/");
    const badge = page.getByTestId("unread-badge");
    await expect.poll(() => badge.getAttribute("data-unread"), { timeout: 20_000 }).toBe("3");
    await page.getByRole("menuitem", { name: "消息" }).click();
    await page.waitForURL(`${base}/inbox`);
    const items = page.getByTestId("inbox-item");
    await items.first().waitFor();
    expect(await items.count()).toBe(3);
    expect(await page.locator("[data-testid=inbox-item][data-unread=true]").count()).toBe(3);
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(shots, "inbox-desktop.png"), fullPage: true });

    await items.filter({ hasText: "新的关注事项" }).click();
    await expect.poll(() => badge.getAttribute("data-unread"), { timeout: 10_000 }).toBe("2");
    expect(await page.locator("[data-testid=inbox-item][data-unread=true]").count()).toBe(2);
    expect(await items.filter({ hasText: "新的关注事项" }).getAttribute("data-unread")).toBe("false");

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(600);
    await page.screenshot({ path: path.join(shots, "inbox-phone.png"), fullPage: true });
    await ctx.close();
  }, 90_000);

  it("a teacher sees 消息 but no 导入 menu item", async () => {
    const ctx = await browser!.newContext({ viewport: { width: 1440, height: 900 }, locale: "zh-CN" });
    const page = await ctx.newPage();
    await signIn(page, "changling.teacher", "/");
    await page.getByRole("menuitem", { name: "消息" }).waitFor();
    expect(await page.getByRole("menuitem", { name: "导入" }).count()).toBe(0);
    await ctx.close();
  }, 90_000);
});
