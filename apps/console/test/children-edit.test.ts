import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BrowserContext, Page } from "playwright-core";
import { childBody, residentId } from "../../../services/registry/test/harness.js";
import { axeSerious, canRun, shot, signIn, startStack, type Stack } from "./stack.js";

/**
 * 新增/编辑儿童, 退出关爱服务, 变更记录 and 联系卡 through the real gateway, registry and
 * dev issuer: a township supervisor (长岭乡) registers, edits and exits a child; a
 * teacher sees no edit controls; the cards print on A5 one child per page.
 */
let stack: Stack;
const CHANGLING = "360999101201";
const SHIMEN = "360999102201";
const elsewhereId = residentId("360999", "2014-09-09", 91, "male");
const newId = residentId("360999", "2016-05-01", 77, "male");
let createdId = "";

beforeAll(async () => {
  if (!canRun) return;
  stack = await startStack();
  const seed = [
    childBody({ seq: 1, name: "李小花" }),
    childBody({ seq: 2, name: "王明", sex: "male" }),
    childBody({ seq: 3, name: "张婷婷", villageCode: CHANGLING }),
    // Registered in 石门镇, outside the 长岭乡 supervisor's jurisdiction: the 409 case.
    { ...childBody({ seq: 91, name: "周石头", sex: "male", birthDate: "2014-09-09", villageCode: SHIMEN, schoolId: "S360999102001" }), idNumber: elsewhereId },
  ];
  for (const body of seed) {
    const res = await stack.api("county.admin", "POST", "/api/v1/children", body);
    if (res.status !== 201) throw new Error(`seed: ${res.status} ${await res.text()}`);
  }
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

const errors: string[] = [];
async function open(viewport: { width: number; height: number }, username: string, at = "/children"): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await stack.browser.newContext({ viewport, locale: "zh-CN" });
  const page = await ctx.newPage();
  // Only the registry runs here (the inbox, pairing etc. answer 503 by design): its routes must not fail.
  page.on("response", (r) => r.status() >= 500 && /\/api\/v1\/(children|org-units|schools)/.test(r.url()) && errors.push(`${r.status()} ${r.url()}`));
  page.on("pageerror", (e) => errors.push(`pageerror ${e.message}`));
  await signIn(page, stack.base, username, at);
  return { ctx, page };
}
const desktop = { width: 1440, height: 900 };
const phone = { width: 390, height: 844 };

/** An AntD Select by its form field id: open it, click the option. */
async function pick(page: Page, id: string, option: string) {
  await page.locator(`#${id}`).click();
  await page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option", { hasText: option }).first().click();
}
const errorUnder = (page: Page, id: string) => page.locator(".ant-form-item", { has: page.locator(`#${id}`) }).locator(".ant-form-item-explain-error");

async function fillNewChild(page: Page, idNumber: string, guardianPhone: string) {
  await page.fill("#name", "赵小雨");
  await page.fill("#idNumber", idNumber);
  await pick(page, "villageCode", "长岭村");
  await pick(page, "schoolId", "长岭乡中心小学");
  await page.fill("#grade", "三年级");
  await page.fill("#guardians_0_name", "赵大山");
  await page.fill("#guardians_0_relation", "祖父");
  await page.fill("#guardians_0_phone", guardianPhone);
}

describe.skipIf(!canRun)("console: create, edit, exit, print", () => {
  it("a township supervisor creates (a bad field first), edits, sees the change and exits a child", async () => {
    const { ctx, page } = await open(desktop, "changling.supervisor", "/children");
    await page.getByRole("button", { name: "新增儿童" }).click();
    await page.waitForSelector("#villageCode");
    // The township picker holds only the supervisor's own township.
    expect(await page.locator(".ant-form-item", { has: page.locator("#townshipCode") }).innerText()).toContain("长岭乡");
    await shot(page, "child-new-desktop");

    // A guardian phone the API refuses: its zh-CN message appears under that field, nothing is stored.
    const direct = await stack.api(
      "changling.supervisor",
      "POST",
      "/api/v1/children",
      childBody({ seq: 50, guardians: [{ name: "赵大山", relation: "祖父", phone: "12345" }] }),
    );
    expect(direct.status).toBe(400);
    const apiMessage = ((await direct.json()) as { error: { details: { field: string; message: string }[] } }).error.details.find(
      (d) => d.field === "guardians.0.phone",
    )!.message;
    await fillNewChild(page, newId, "12345");
    await page.getByRole("button", { name: /建\s?档/ }).click();
    await expect.poll(() => errorUnder(page, "guardians_0_phone").innerText(), { timeout: 10_000 }).toBe(apiMessage);
    expect(apiMessage).toMatch(/[\u4e00-\u9fa5]/);
    await page.locator("#guardians_0_phone").evaluate((el) => el.scrollIntoView({ block: "center" }));
    await shot(page, "child-new-error-desktop", false);
    const none = (await (await stack.api("changling.supervisor", "GET", `/api/v1/children?q=${encodeURIComponent("赵小雨")}`)).json()) as { items: unknown[] };
    expect(none.items).toHaveLength(0);

    // Corrected: stored, and the page of the new child opens.
    await page.fill("#guardians_0_phone", "13907310088");
    await page.getByRole("button", { name: /建\s?档/ }).click();
    await page.waitForURL(/\/children\/[0-9a-f-]{36}$/, { timeout: 15_000 });
    createdId = page.url().split("/").pop()!;
    await page.waitForSelector(".ant-tabs");
    expect(await page.locator(".ant-descriptions").first().innerText()).toContain("赵小雨");

    // 编辑: risk 低 → 高 and a note; 变更记录 shows old → new with who and when.
    await page.getByRole("button", { name: /编\s?辑/ }).click();
    await page.waitForSelector("#riskLevel");
    await expect.poll(() => page.inputValue("#name")).toBe("赵小雨");
    await pick(page, "riskLevel", "高");
    await page.fill("#remarks", "父亲务工地变更");
    await shot(page, "child-edit-desktop");
    await page.getByRole("button", { name: /保\s?存/ }).click();
    await page.waitForURL(`${stack.base}/children/${createdId}`, { timeout: 15_000 });
    await page.getByRole("tab", { name: "变更记录" }).click();
    const history = page.getByTestId("history");
    await expect.poll(() => history.innerText(), { timeout: 10_000 }).toContain("风险等级：低 → 高");
    const text = await history.innerText();
    expect(text).toContain("备注：（空） → 父亲务工地变更");
    expect(text).toContain("乡镇儿童督导员");
    expect(text).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    expect(text).toContain("建档");
    await shot(page, "child-history-desktop");
    expect((await axeSerious(page)).join("\n"), "变更记录").toBe("");

    // 退出关爱服务: a reason, a confirmation, then the record says so.
    await page.getByRole("button", { name: "退出关爱服务" }).click();
    await page.waitForSelector(".ant-modal #reason");
    await pick(page, "reason", "父母返乡");
    await page.fill("#note", "父亲返乡就业");
    await shot(page, "child-exit-dialog-desktop", false);
    await page.getByRole("button", { name: /下一步/ }).click();
    await page.getByRole("button", { name: "确认退出" }).waitFor();
    await page.locator(".ant-message-notice").waitFor({ state: "detached", timeout: 10_000 });
    await shot(page, "child-exit-confirm-desktop", false);
    await page.getByRole("button", { name: "确认退出" }).click();
    await page.locator("h4 .ant-tag", { hasText: "已退出" }).waitFor({ timeout: 10_000 });
    expect(await page.getByRole("button", { name: "退出关爱服务" }).count()).toBe(0);
    const stored = (await (await stack.api("changling.supervisor", "GET", `/api/v1/children/${createdId}`)).json()) as { status: string; exitReason: string };
    expect(stored).toMatchObject({ status: "exited", exitReason: "parent_returned" });
    await page.getByRole("tab", { name: "变更记录" }).click();
    await expect.poll(() => history.innerText()).toContain("状态：在册 → 已退出");
    expect(errors).toEqual([]);
    await ctx.close();
  }, 120_000);

  it("a duplicate registered in another township answers REGISTERED_ELSEWHERE, shown as the API says it", async () => {
    const { ctx, page } = await open(desktop, "changling.supervisor", "/children/new");
    await page.waitForSelector("#villageCode");
    await fillNewChild(page, elsewhereId, "13907310099");
    await page.getByRole("button", { name: /建\s?档/ }).click();
    const banner = page.getByTestId("form-error");
    await banner.waitFor({ timeout: 10_000 });
    expect(await banner.innerText()).toContain("该儿童已在其他辖区登记,请联系县民政局办理转移");
    expect(await banner.innerText()).not.toContain("周石头");
    await expect.poll(() => errorUnder(page, "idNumber").innerText()).toContain("该儿童已在其他辖区登记");
    await shot(page, "child-new-registered-elsewhere-desktop");
    await ctx.close();
  }, 90_000);

  it("a teacher sees no create, edit or exit controls, and the edit page refuses", async () => {
    const { ctx, page } = await open(desktop, "changling.teacher", "/children");
    await page.waitForSelector("[data-testid=children-table] .ant-table-row", { timeout: 30_000 });
    expect(await page.getByRole("button", { name: "新增儿童" }).count()).toBe(0);
    await page.getByRole("link", { name: "李小花" }).click();
    await page.waitForSelector(".ant-tabs");
    expect(await page.getByRole("button", { name: /编\s?辑/ }).count()).toBe(0);
    expect(await page.getByRole("button", { name: "退出关爱服务" }).count()).toBe(0);
    const id = page.url().split("/").pop()!;
    await page.goto(`${stack.base}/children/${id}/edit`);
    await page.getByText("无权建档或修改档案").waitFor();
    // The teacher's card: the ID number masked and saying so, the family's phones withheld.
    await page.goto(`${stack.base}/print/cards/${id}`);
    const card = page.getByTestId("contact-card");
    await card.waitFor({ timeout: 15_000 });
    const text = await card.innerText();
    expect(text).not.toMatch(/\b\d{17}[\dX]\b/);
    expect(text).toContain("已脱敏");
    expect(text).not.toContain("13907310001");
    await shot(page, "contact-card-teacher-desktop");
    await ctx.close();
  }, 90_000);

  it("联系卡 prints: one child on A5, a village batch one child per page", async () => {
    const { ctx, page } = await open(desktop, "changling.supervisor", "/children");
    await page.waitForSelector("[data-testid=children-table] .ant-table-row", { timeout: 30_000 });
    await page.getByRole("link", { name: "李小花" }).click();
    await page.waitForSelector(".ant-tabs");
    await page.getByRole("button", { name: "联系卡" }).click();
    const card = page.getByTestId("contact-card");
    await card.waitFor({ timeout: 15_000 }).catch(async (err) => {
      throw new Error(`${err.message}\n${page.url()}\n${(await page.locator("body").innerText()).slice(0, 800)}\n${errors.join("\n")}`);
    });
    const text = await card.innerText();
    expect(text).toContain("李小花");
    expect(text).toContain("13907310001"); // a case worker sees the guardian's phone whole
    expect(text).toContain("长岭乡中心小学");
    await shot(page, "contact-card-desktop");
    await page.emulateMedia({ media: "print" });
    expect(await page.getByRole("button", { name: /打\s?印/ }).isVisible()).toBe(false);
    await shot(page, "contact-card-print-desktop");
    const pdf = (await page.pdf({ preferCSSPageSize: true, printBackground: true })).toString("latin1");
    const box = pdf.match(/\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/)!;
    // A5 is 148 × 210 mm = 419.5 × 595.3 pt.
    expect(Math.round(Number(box[1]))).toBe(420);
    expect(Math.round(Number(box[2]))).toBe(595);
    expect(pdf.match(/\/Type\s*\/Page\b/g)).toHaveLength(1);
    await page.emulateMedia({ media: "screen" });

    // The batch: every active child of 长岭村 (not 赵小雨, who has left), one per page.
    await page.goto(`${stack.base}/children`);
    await page.getByLabel("选择村（社区）").click();
    await page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option", { hasText: "长岭村" }).first().click();
    await page.getByRole("button", { name: "打印联系卡" }).click();
    await page.waitForURL(/\/print\/cards\?village=360999101201/);
    await expect.poll(() => page.getByTestId("contact-card").count(), { timeout: 15_000 }).toBe(3);
    const names = await page.getByTestId("card-name").allInnerTexts();
    expect(names.sort()).toEqual(["张婷婷", "李小花", "王明"].sort());
    await shot(page, "contact-cards-village-desktop");
    const batch = (await page.pdf({ preferCSSPageSize: true })).toString("latin1");
    expect(batch.match(/\/Type\s*\/Page\b/g)).toHaveLength(3);
    await ctx.close();
  }, 120_000);

  it("the form, the exit dialog and the card have no serious accessibility violations (axe-core)", async () => {
    const { ctx, page } = await open(desktop, "changling.supervisor", "/children/new");
    await page.waitForSelector("#villageCode");
    expect(await axeSerious(page)).toEqual([]);
    await page.goto(`${stack.base}/children`);
    await page.getByRole("link", { name: "李小花" }).click();
    await page.getByRole("button", { name: "退出关爱服务" }).click();
    await page.waitForSelector(".ant-modal #reason");
    await page.waitForTimeout(400);
    expect(await axeSerious(page)).toEqual([]);
    await page.keyboard.press("Escape");
    await page.getByRole("button", { name: "联系卡" }).click();
    await page.getByTestId("contact-card").waitFor({ timeout: 15_000 });
    expect(await axeSerious(page)).toEqual([]);
    await ctx.close();
  }, 90_000);

  it("phone-sized screenshots of the new pages and dialogs", async () => {
    const { ctx, page } = await open(phone, "changling.supervisor", "/children");
    await page.waitForSelector("[data-testid=children-table] .ant-table-row", { timeout: 30_000 });
    await shot(page, "children-list-actions-phone");
    await page.goto(`${stack.base}/children/new`);
    await page.waitForSelector("#villageCode");
    await shot(page, "child-new-phone");
    await fillNewChild(page, residentId("360999", "2017-01-02", 78, "female"), "12345");
    await page.getByRole("button", { name: /建\s?档/ }).click();
    await errorUnder(page, "guardians_0_phone").waitFor({ timeout: 10_000 });
    await page.waitForTimeout(600); // the form's own scroll to the first error, then ours
    await page.locator("#guardians_0_phone").evaluate((el) => el.scrollIntoView({ block: "center" }));
    await shot(page, "child-new-error-phone", false);
    await page.goto(`${stack.base}/children/${createdId}/edit`);
    await page.waitForSelector("#riskLevel");
    await shot(page, "child-edit-phone");
    await page.goto(`${stack.base}/children/${createdId}`);
    await page.getByRole("tab", { name: "变更记录" }).click();
    await page.getByTestId("history").waitFor();
    await shot(page, "child-history-phone");
    await page.goto(`${stack.base}/children`);
    await page.getByRole("link", { name: "李小花" }).click();
    await page.getByRole("button", { name: "退出关爱服务" }).click();
    await page.waitForSelector(".ant-modal #reason");
    await shot(page, "child-exit-dialog-phone", false);
    await page.getByRole("button", { name: /取\s?消/ }).click();
    await page.getByRole("button", { name: "联系卡" }).click();
    await page.getByTestId("contact-card").waitFor({ timeout: 15_000 });
    await shot(page, "contact-card-phone");
    await page.goto(`${stack.base}/print/cards?village=${CHANGLING}`);
    await expect.poll(() => page.getByTestId("contact-card").count(), { timeout: 15_000 }).toBe(3);
    await shot(page, "contact-cards-village-phone");
    expect(errors).toEqual([]);
    await ctx.close();
  }, 120_000);
});
