import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pgLib from "pg";
import { mintTaskLink } from "@shouhu/auth";
import { childBody } from "../../../services/registry/test/harness.js";
import { STACK_TASK_LINK_SECRET, axeSerious, canRunWithVisits, shot, startStack, type Stack } from "./stack.js";

/**
 * Issue 22.2 through the real gateway, registry, visits service and dev issuer, in Chromium: a township supervisor
 * sends a one-time link (发送填报链接) for a proxy parent's call; the proxy parent opens it on a phone without any
 * account, records the call, sees the done screen; opening the link again says it was used. The record shows
 * in the child's visits as written by the proxy parent through a link.
 */
let stack: Stack;
const desktop = { width: 1440, height: 900 };
const phone = { width: 390, height: 844 };
let childId = "";
const helperId = "7d3f1c2e-5b6a-4c8d-9e0f-1a2b3c4d5e6f";

const json = async <T>(res: Response) => (await res.json()) as T;
const openItems = async () =>
  (await json<{ items?: { id: string; kind: string }[] }>(await stack.api("changling.supervisor", "GET", `/api/v1/visit-items?childId=${childId}&view=open`)))
    .items ?? [];

beforeAll(async () => {
  if (!canRunWithVisits) return;
  stack = await startStack({ visits: true });
  const res = await stack.api("county.admin", "POST", "/api/v1/children", childBody({ seq: 71, name: "赵小雨" }));
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  childId = (await json<{ id: string }>(res)).id;
  await stack.until("items in the visits service", openItems, (items) => items.length > 0, { ms: 60_000 });
  // The proxy parent (代理家长) paired without an account, as pairing.started would say; the call due in three days.
  const pg = new pgLib.Client({ connectionString: `${stack.pgBase}/shouhu_visits` });
  await pg.connect();
  await pg.query(
    `INSERT INTO assignments (child_id, pairing_id, helper_id, name, phone, username, since, started_at)
     VALUES ($1, gen_random_uuid(), $2, '李奶奶', '13907312345', NULL, current_date, now())`,
    [childId, helperId],
  );
  await pg.query(`UPDATE due_items SET due_date = (now() AT TIME ZONE 'Asia/Shanghai')::date + 3 WHERE child_id = $1 AND kind = 'parent_call'`, [childId]);
  await pg.end();
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe.skipIf(!canRunWithVisits)("one-time task links (issue 22.2)", () => {
  it("staff send a link; a proxy parent records the call on a phone without an account; the link is then used", async () => {
    // On a phone, the action sits beside 登记 on the item.
    const staffPhone = await stack.open("changling.supervisor", "/visits", phone);
    await staffPhone.getByRole("button", { name: /发送填报链接/ }).waitFor({ timeout: 30_000 });
    await shot(staffPhone, "task-link-issue-phone", false);
    await staffPhone.context().close();
    // The supervisor's 我的走访: the proxy parent's call offers 发送填报链接, which shows the link once.
    const staff = await stack.open("changling.supervisor", "/visits", desktop);
    const row = staff.getByTestId("due-item").filter({ hasText: "赵小雨" }).filter({ hasText: "与父母通话" });
    await row.getByRole("button", { name: /发送填报链接/ }).click();
    await staff.getByText("没有系统账号").waitFor();
    await shot(staff, "task-link-choice-desktop", false);
    await staff.getByRole("button", { name: /生成链接/ }).click();
    const urlText = staff.getByTestId("task-link-url");
    await expect.poll(async () => (await urlText.textContent()) ?? "", { timeout: 30_000 }).toMatch(/\/t\/[A-Za-z0-9_-]+$/);
    const url = (await urlText.textContent())!.trim();
    expect(url.startsWith(`${stack.base}/t/`)).toBe(true);
    await shot(staff, "task-link-issue-desktop", false);

    // The proxy parent: a fresh phone, no sign-in.
    const ctx = await stack.browser.newContext({ viewport: phone, locale: "zh-CN" });
    const page = await ctx.newPage();
    await page.goto(url);
    await page.getByText("赵小雨").waitFor({ timeout: 30_000 });
    await page.getByText("填报人：李奶奶").waitFor();
    expect(await page.content()).not.toContain("13907312345");
    expect(await axeSerious(page)).toEqual([]);
    await page.getByLabel("母亲").check();
    await page.getByLabel("时长（分钟）").fill("12");
    await page.getByLabel("情况怎么样").fill("妈妈问了期中考试，孩子说数学进步了，很开心。");
    await shot(page, "task-link-phone");
    await page.getByRole("button", { name: /提\s*交/ }).click();
    await page.getByText("已提交，谢谢您！").waitFor({ timeout: 30_000 });
    await shot(page, "task-link-done-phone");

    // Opened again: used, nothing more to fill.
    await page.reload();
    await page.getByText("此链接已使用", { exact: true }).waitFor({ timeout: 30_000 });
    expect(await page.getByRole("button", { name: /提\s*交/ }).count()).toBe(0);
    await shot(page, "task-link-used-phone");
    await ctx.close();

    const records = await json<{ items: { kind: string; visitorName: string; via: string | null; findings: { metWith: string } }[] }>(
      await stack.api("changling.supervisor", "GET", `/api/v1/visit-records?childId=${childId}`),
    );
    expect(records.items).toHaveLength(1);
    expect(records.items[0]).toMatchObject({ kind: "parent_call", visitorName: "李奶奶", via: "task_link", findings: { metWith: "母亲" } });
    // The gateway's audit trail has the link's open and submit under "public", naming the child.
    const gw = new pgLib.Client({ connectionString: `${stack.pgBase}/shouhu_gateway` });
    await gw.connect();
    const trail = await stack.until(
      "the link's uses in the gateway's audit trail",
      async () =>
        (
          await gw.query<{ method: string; action: string; status: number }>(
            `SELECT method, action, status FROM audit_entries WHERE user_id = 'public' AND path LIKE '/api/v1/public/task-links/%' AND $1 = ANY(child_ids) ORDER BY id`,
            [childId],
          )
        ).rows,
      (rows) => rows.some((r) => r.method === "POST"),
    );
    await gw.end();
    expect(trail.map((r) => `${r.method}:${r.action}:${r.status}`)).toEqual(expect.arrayContaining(["GET:read:200", "POST:create:201"]));
    await staff.context().close();
  }, 180_000);

  it("a link minted with the shared secret opens at desktop width too; a garbled one says 链接无效", async () => {
    const homeVisit = (await openItems()).find((i) => i.kind === "home_visit")!;
    const { token } = mintTaskLink(STACK_TASK_LINK_SECRET, { itemId: homeVisit.id, childId, helperId, expiresAt: new Date(Date.now() + 3600_000) });
    const ctx = await stack.browser.newContext({ viewport: desktop, locale: "zh-CN" });
    const page = await ctx.newPage();
    await page.goto(`${stack.base}/t/${token}`);
    await page.getByText("见到了谁").waitFor({ timeout: 30_000 });
    await shot(page, "task-link-desktop");
    await page.goto(`${stack.base}/t/${token.slice(0, -3)}xyz`);
    await page.getByText("链接无效").first().waitFor({ timeout: 30_000 });
    await ctx.close();
  }, 120_000);
});
