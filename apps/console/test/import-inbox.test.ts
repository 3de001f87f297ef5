import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { axeSerious, canRunWithNotifications, root, shots, signIn as signInAt, startStack, type Stack } from "./stack.js";
import pgLib from "pg";

/**
 * 导入 and 消息 end to end: the built gateway (serving apps/console/dist), registry
 * (with its import worker), notifications and dev issuer on free ports, a real
 * Chromium signing in on the issuer's login page. Screenshots go to docs/screenshots/.
 */
let stack: Stack | undefined;
let browser: Browser | undefined;
let base = "";

beforeAll(async () => {
  if (!canRunWithNotifications) return;
  stack = await startStack({ notifications: true });
  base = stack.base;
  browser = stack.browser;

  // Three in-app messages for the township supervisor, as the notification rules write them
  // (the rules and the event flow have their own tests; here the inbox is what is under test).
  const db = new pgLib.Client({ connectionString: `${stack.pgBase}/shouhu_notifications` });
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
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

const consoleLog: string[] = [];
const sample = path.join(root, "services/registry/samples/长岭乡留守儿童登记表-示例.xlsx");

async function signIn(page: Page, username: string, at: string) {
  page.on("console", (m) => consoleLog.push(m.text()));
  page.on("response", (r) => r.status() >= 400 && consoleLog.push(`${r.status()} ${r.url()}`));
  await signInAt(page, base, username, at);
  await page.waitForSelector("[data-testid=current-user]", { timeout: 30_000 });
}

const fail = (page: Page) => async (err: Error) => {
  throw new Error(`${err.message}\n${(await page.locator("body").innerText()).slice(0, 1500)}\n${consoleLog.slice(-20).join("\n")}`);
};

describe.skipIf(!canRunWithNotifications)("console: 导入 and 消息", () => {
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
    expect((await axeSerious(page)).join("\n")).toBe("");
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
    expect((await axeSerious(page)).join("\n")).toBe("");
    await page.screenshot({ path: path.join(shots, "inbox-desktop.png"), fullPage: true });

    await items.filter({ hasText: "新的关注事项" }).click();
    await expect.poll(() => badge.getAttribute("data-unread"), { timeout: 10_000 }).toBe("2");
    // The list refetches after the badge: wait for it rather than read it once.
    await expect.poll(() => page.locator("[data-testid=inbox-item][data-unread=true]").count(), { timeout: 10_000 }).toBe(2);
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
