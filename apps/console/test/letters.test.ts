import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childBody } from "../../../services/registry/test/harness.js";
import { axeSerious, canRunWithNotifications, choose, shot, startStack, type Stack } from "./stack.js";

/**
 * 致家长的一封信 end to end: a township supervisor writes a letter to the guardians of one school, previews
 * the count and a sample, sends it; the local SMS provider (packages/dev-sms) receives the texts and pushes
 * signed receipts back through the gateway (a number ending 0000 fails); the link in an SMS opens the letter
 * on a phone without an account, and 已阅 shows in the reach per school.
 */
let stack: Stack;
const desktop = { width: 1440, height: 900 };
const phone = { width: 390, height: 844 };

interface SmsMessage {
  phone: string;
  text: string;
  status: string;
}
const smsMessages = async () => ((await (await fetch(`${stack.sms}messages`)).json()) as { messages: SmsMessage[] }).messages;

beforeAll(async () => {
  if (!canRunWithNotifications) return;
  stack = await startStack({ notifications: true, sms: true });
  const children = [
    { seq: 71, name: "陈小雨", guardians: [{ name: "陈大爷", relation: "祖父", phone: "13907310071", age: 66, health: "良好" }] },
    { seq: 72, name: "陈小星", guardians: [{ name: "陈大爷", relation: "祖父", phone: "13907310071", age: 66, health: "良好" }] },
    { seq: 73, name: "刘小军", guardians: [{ name: "刘奶奶", relation: "祖母", phone: "13907310000", age: 70, health: "良好" }] },
  ];
  for (const c of children) {
    const res = await stack.api("county.admin", "POST", "/api/v1/children", childBody(c));
    if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  }
  // The children reach notifications through the registry's events.
  await stack.until(
    "the school's three children in notifications",
    async () =>
      (await (await stack.api("changling.supervisor", "GET", "/api/v1/letters/schools?townshipCode=360999101")).json()) as { schools: { children: number }[] },
    (v) => v.schools?.[0]?.children === 3,
    { ms: 90_000, tolerateErrors: true },
  );
}, 300_000);

afterAll(async () => {
  await stack?.stop();
});

describe.skipIf(!canRunWithNotifications)("致家长的一封信", () => {
  it("compose → preview → send → SMS and receipts → the link opens on a phone → 已阅 in reach", async () => {
    const page = await stack.open("changling.supervisor", "/letters/new", desktop);
    await page.getByLabel("标题").fill("寒假安全致家长的一封信");
    const body = page.getByLabel("正文");
    await body.fill("尊敬的");
    await page.getByRole("button", { name: "{监护人姓名}" }).click();
    await body.press("End");
    await body.pressSequentially("：您好！");
    await page.getByRole("button", { name: "{儿童姓名}" }).click();
    await body.press("End");
    await body.pressSequentially("即将放寒假，请注意防溺水。");
    await page.getByLabel("落款").fill("长岭乡人民政府");
    await choose(page, page.getByLabel("学校", { exact: true }), "长岭乡中心小学");
    await shot(page, "letters-compose-desktop");
    await page.getByRole("button", { name: "保存并预览" }).click();

    const preview = page.getByTestId("letter-preview");
    await expect.poll(() => preview.textContent(), { timeout: 30_000 }).toMatch(/收信人（按手机号）2/);
    // The sample is the first addressee's letter, variables filled.
    await expect
      .poll(() => page.getByTestId("letter-sample").textContent())
      .toMatch(/尊敬的(陈大爷|刘奶奶)：您好！(陈小雨、陈小星|刘小军)即将放寒假，请注意防溺水。/);
    await shot(page, "letters-preview-desktop");
    expect(await axeSerious(page)).toEqual([]);

    // Under load a click can land while the confirm dialog animates in and do nothing: confirm until it has gone.
    const confirm = page.locator(".ant-modal-confirm");
    for (let attempt = 0; attempt < 5; attempt++) {
      if (!(await confirm.isVisible()))
        await page
          .getByRole("button", { name: /发\s*送/ })
          .first()
          .click();
      await confirm
        .getByRole("button", { name: /发\s*送/ })
        .click({ timeout: 5_000 })
        .catch(() => undefined);
      if (
        await confirm.waitFor({ state: "hidden", timeout: 5_000 }).then(
          () => true,
          () => false,
        )
      )
        break;
    }

    // The provider receives both texts; their receipts (one delivered, one failed) come back signed.
    const texts = await stack.until("two SMS at the provider", smsMessages, (m) => m.length === 2, { ms: 90_000 });
    const link = /http:\/\/\S+\/l\/[A-Za-z0-9_-]{22}/.exec(texts.find((m) => m.phone === "13907310071")!.text)?.[0];
    expect(texts.map((m) => m.text).join("\n")).toContain("【守护】您有一封来信《寒假安全致家长的一封信》");
    expect(link).toBeTruthy();
    const reach = page.getByTestId("letter-reach-total");
    await expect.poll(() => reach.textContent(), { timeout: 60_000 }).toMatch(/已送达1失败1已阅0/);

    // The guardian opens the link on a phone: no sign-in, the letter with names filled.
    const guardian = await stack.browser.newContext({ viewport: phone, locale: "zh-CN", isMobile: true, hasTouch: true });
    const reader = await guardian.newPage();
    await reader.goto(link!.replace(/^http:\/\/[^/]+/, stack.base));
    const letter = reader.getByTestId("public-letter");
    await expect.poll(() => letter.textContent(), { timeout: 30_000 }).toMatch(/尊敬的陈大爷：您好！(陈小雨、陈小星|陈小星、陈小雨)即将放寒假，请注意防溺水。/);
    expect(await letter.textContent()).toContain("长岭乡人民政府");
    expect(await reader.content()).not.toContain("13907310071");
    await shot(reader, "letters-public-phone");
    expect(await axeSerious(reader)).toEqual([]);
    await reader.goto(`${stack.base}/l/AAAAAAAAAAAAAAAAAAAAAA`);
    await expect.poll(() => reader.getByText("链接无效").count()).toBeGreaterThan(0);
    await guardian.close();

    await expect.poll(() => reach.textContent(), { timeout: 30_000 }).toMatch(/已阅1/);
    expect(await page.getByTestId("letter-reach").textContent()).toContain("长岭乡中心小学");
    await shot(page, "letters-reach-desktop");

    const narrow = await stack.open("changling.supervisor", page.url().replace(stack.base, ""), phone);
    await expect.poll(() => narrow.getByTestId("letter-reach-total").textContent(), { timeout: 30_000 }).toMatch(/已阅1/);
    await shot(narrow, "letters-reach-phone");
    await narrow.context().close();
    await page.context().close();
  }, 240_000);

  it("the list, and the compose form on a phone", async () => {
    const list = await stack.open("changling.supervisor", "/letters", desktop);
    await expect.poll(() => list.getByTestId("letters").textContent(), { timeout: 30_000 }).toContain("寒假安全致家长的一封信");
    await shot(list, "letters-list-desktop");
    await list.context().close();
    const page = await stack.open("changling.supervisor", "/letters/new", phone);
    await expect.poll(() => page.getByRole("button", { name: "{儿童姓名}" }).count(), { timeout: 30_000 }).toBe(1);
    await shot(page, "letters-compose-phone");
    expect(await axeSerious(page)).toEqual([]);
    await page.context().close();
  }, 90_000);

  it("a teacher has no such page and the API refuses; a receipt without a signature is 401", async () => {
    expect((await stack.api("changling.teacher", "GET", "/api/v1/letters")).status).toBe(403);
    const forged = await fetch(`${stack.base}/api/v1/public/sms-receipts`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify([{ phone_number: "13907310071", success: false, out_id: "x" }]),
    });
    expect(forged.status).toBe(401);
    const page = await stack.open("changling.teacher", "/", desktop);
    await expect.poll(() => page.getByText("工作台").count()).toBeGreaterThan(0);
    expect(await page.getByText("致家长的一封信").count()).toBe(0);
    await page.context().close();
  }, 60_000);
});
