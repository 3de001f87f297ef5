import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { axeSerious, canRunWithNotifications, shot, startStack, type Stack } from "./stack.js";

/**
 * 通知设置 through the real gateway, notifications service and dev issuer: a county admin sets
 * the county's quiet hours, a township supervisor sees them inherited, sets the township's own
 * and a DingTalk robot (shown by host only, its key never sent back), a bad webhook address is
 * refused under its field; a village director has no such page.
 */
let stack: Stack;
const desktop = { width: 1440, height: 900 };
const phone = { width: 390, height: 844 };

beforeAll(async () => {
  if (!canRunWithNotifications) return;
  stack = await startStack({ notifications: true });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

const open = (username: string, path: string, viewport = desktop): Promise<Page> => stack.open(username, path, viewport);

async function setTime(page: Page, label: string, hhmm: string) {
  const input = page.getByLabel(label);
  await input.click();
  await input.fill(hhmm);
  await input.press("Enter");
}

const office = async (user: string, code: string) =>
  (await (await stack.api(user, "GET", `/api/v1/notifications/offices/${code}`)).json()) as {
    quietHours: string | null;
    effective: { quietHours: string | null; from: string };
    channels: { kind: string; host: string }[];
  };

describe.skipIf(!canRunWithNotifications)("通知设置", () => {
  it("a county admin sets the county's quiet hours; a township inherits them", async () => {
    const page = await open("county.admin", "/settings/notifications");
    const quiet = page.getByTestId("quiet-hours");
    await expect.poll(() => quiet.textContent()).toContain("系统默认");
    await quiet.getByText("本单位自定义").click();
    await setTime(page, "开始时间", "20:30");
    await setTime(page, "结束时间", "07:30");
    await quiet.getByRole("button", { name: /保\s*存/ }).click();
    await expect.poll(() => page.getByTestId("quiet-effective").textContent()).toContain("20:30");
    expect((await office("county.admin", "360999")).quietHours).toBe("20:30-07:30");
    expect((await office("changling.supervisor", "360999101")).effective).toEqual({ quietHours: "20:30-07:30", from: "county" });
    await shot(page, "notification-settings-desktop");
    expect(await axeSerious(page)).toEqual([]);
    await page.context().close();
  }, 90_000);

  it("a township supervisor sets the township's own hours and a DingTalk robot; the key never comes back", async () => {
    const page = await open("changling.supervisor", "/settings/notifications");
    const quiet = page.getByTestId("quiet-hours");
    await expect.poll(() => quiet.textContent()).toContain("沿用县级设置");
    await quiet.getByText("本单位自定义").click();
    await setTime(page, "开始时间", "22:00");
    await setTime(page, "结束时间", "06:00");
    await quiet.getByRole("button", { name: /保\s*存/ }).click();
    await expect.poll(() => page.getByTestId("quiet-effective").textContent()).toContain("22:00");
    expect((await office("changling.supervisor", "360999101")).effective).toEqual({ quietHours: "22:00-06:00", from: "office" });

    const robots = page.getByTestId("robots");
    await robots.getByText("钉钉", { exact: true }).click();
    // Not the provider's host: refused under the field, nothing stored.
    await robots.getByLabel("Webhook 地址").fill("http://169.254.169.254/latest/meta-data/");
    await robots.getByRole("button", { name: /保存机器人/ }).click();
    await expect.poll(() => robots.locator(".ant-form-item-explain-error").textContent()).toContain("https://oapi.dingtalk.com/");
    expect((await office("changling.supervisor", "360999101")).channels).toEqual([]);

    await robots.getByLabel("Webhook 地址").fill("https://oapi.dingtalk.com/robot/send?access_token=very-secret-token");
    await robots.getByLabel("加签密钥（可选）").fill("SEC0123456789");
    await robots.getByRole("button", { name: /保存机器人/ }).click();
    await expect.poll(() => robots.locator(".ant-list-item").textContent()).toContain("oapi.dingtalk.com");
    expect(await robots.locator(".ant-list-item").textContent()).toContain("已加签");
    expect(await page.content()).not.toContain("very-secret-token");
    await shot(page, "notification-settings-township-desktop");

    await robots.getByRole("button", { name: /移\s*除/ }).click();
    await page
      .getByRole("button", { name: /^移\s*除$/ })
      .last()
      .click();
    await expect.poll(() => robots.textContent()).toContain("尚未设置群机器人");
    await page.context().close();

    const onPhone = await open("changling.supervisor", "/settings/notifications", phone);
    await expect.poll(() => onPhone.getByTestId("quiet-effective").textContent()).toContain("22:00");
    expect(await onPhone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await shot(onPhone, "notification-settings-phone");
    await onPhone.context().close();
  }, 90_000);

  it("a village director has no 通知设置, and the API refuses them", async () => {
    const page = await open("changling.director", "/settings/notifications");
    await expect.poll(() => page.locator(".ant-result-title").textContent()).toContain("只有县级管理员和乡镇儿童督导员可以修改通知设置");
    await page.context().close();
    expect((await stack.api("changling.director", "GET", "/api/v1/notifications/offices/360999101")).status).toBe(403);
  }, 60_000);
});
