import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childBody } from "../../../services/registry/test/harness.js";
import { axeSerious, canRun, shot, startStack, type Stack } from "./stack.js";

/**
 * 转移 (issue 19.6) through the real gateway and registry: 石门镇's supervisor asks for a child
 * registered in 长岭乡 by ID number and is told only that it is registered elsewhere; the request
 * shows no child until 长岭乡's supervisor approves it; then the child is 石门镇's. A refusal needs
 * a reason. Desktop and phone.
 */
let stack: Stack;
const phone = { width: 390, height: 844 };
const kids = [childBody({ seq: 50, name: "林小军" }), childBody({ seq: 51, name: "陈思彤" })];

beforeAll(async () => {
  if (!canRun) return;
  stack = await startStack();
  for (const body of kids) {
    const res = await stack.api("county.admin", "POST", "/api/v1/children", body);
    if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  }
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

async function ask(page: import("playwright-core").Page, idNumber: string, reason: string) {
  await page.getByLabel("身份证号").fill(idNumber);
  await page.getByRole("combobox", { name: "转入村（社区）" }).click();
  await page.locator(".ant-select-item-option[title='石门村']").click();
  await page.getByLabel("原因").fill(reason);
  await page.getByRole("button", { name: "提交申请" }).click();
}

describe.skipIf(!canRun)("转移", () => {
  it("the receiving side asks and sees nothing of the child; the sending side approves; the child moves", async () => {
    const shimen = await stack.open("shimen.supervisor", "/transfers");
    // Bad input: the field is named.
    await ask(shimen, "123", "随父母回乡");
    await expect.poll(() => shimen.getByText(/身份证号/).count()).toBeGreaterThan(1);
    await ask(shimen, kids[0]!.idNumber, "随父母回石门镇居住");
    await expect.poll(() => shimen.getByText(/已在其他乡镇登记/).count()).toBeGreaterThan(0);
    await expect.poll(() => shimen.getByText("在其他乡镇登记（批准后可见）").count()).toBe(1);
    expect(await shimen.content()).not.toContain("林小军");
    await shot(shimen, "transfers-request-desktop");
    expect(await axeSerious(shimen)).toEqual([]);

    const changling = await stack.open("changling.supervisor", "/transfers");
    await expect.poll(() => changling.locator(".ant-table-row", { hasText: "林小军" }).count(), { timeout: 15_000 }).toBe(1);
    await shot(changling, "transfers-pending-desktop");
    await changling.getByRole("button", { name: /^批\s*准$/ }).click();
    await expect.poll(() => changling.getByText("已批准").count()).toBeGreaterThan(0);

    await shimen.reload();
    await expect.poll(() => shimen.locator(".ant-table-row", { hasText: "林小军" }).count(), { timeout: 15_000 }).toBe(1);
    const child = await (await stack.api("shimen.supervisor", "GET", "/api/v1/children?q=林小军")).json();
    expect(child.items[0]).toMatchObject({ villageCode: "360999102201", townshipCode: "360999102" });
    await shimen.context().close();
    await changling.context().close();
  }, 120_000);

  it("a refusal needs a reason (phone)", async () => {
    const shimen = await stack.open("shimen.supervisor", "/transfers", phone);
    await ask(shimen, kids[1]!.idNumber, "就近入学");
    await expect.poll(async () => (await shimen.content()).includes("已在其他乡镇登记，已向")).toBe(true);
    await shot(shimen, "transfers-request-phone");
    await shimen.context().close();

    const changling = await stack.open("changling.supervisor", "/transfers", phone);
    await expect.poll(() => changling.locator(".ant-table-row", { hasText: "陈思彤" }).count(), { timeout: 15_000 }).toBe(1);
    await shot(changling, "transfers-pending-phone");
    await changling
      .getByRole("button", { name: /^拒\s*绝$/ })
      .first()
      .click();
    const ok = changling.locator(".ant-modal").getByRole("button", { name: /^拒\s*绝$/ });
    expect(await ok.isDisabled()).toBe(true);
    await changling.getByLabel("拒绝原因").fill("该儿童仍在本乡居住");
    await ok.click();
    await expect.poll(() => changling.getByText("已拒绝").count()).toBeGreaterThan(0);
    const still = await (await stack.api("changling.supervisor", "GET", "/api/v1/children?q=陈思彤")).json();
    expect(still.items[0].villageCode).toBe("360999101201");
    await changling.context().close();
  }, 120_000);
});
