import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childBody } from "../../../services/registry/test/harness.js";
import { axeSerious, canRunWithPairing, choose, clickUntil, shot, startStack, type Stack } from "./stack.js";

/**
 * 人工结对, 移交 and 解除 on the page: a child the optimiser could not place is paired by
 * hand from 未结对儿童, the pairing is transferred to another helper with a reason, then
 * ended with a reason. A child whose register names a 帮扶责任人 two helpers share (多人同名)
 * is listed with that name and paired by hand in one step; a 协助帮扶人 is added beside the
 * primary. Each step is checked through the API as well.
 */
let stack: Stack;
const VILLAGE = "360999101201";
const BAISHUI = "360999101202";
const desktop = { width: 1440, height: 900 };
const phone = { width: 390, height: 844 };
interface P {
  id: string;
  status: string;
  role: string;
  endReason: string | null;
  endNote: string | null;
  child: { name: string };
  helper: { name: string };
}
const pairings = async (status: string) =>
  ((await (await stack.api("changling.supervisor", "GET", `/api/v1/pairings?status=${status}&limit=100`)).json()) as { items: P[] }).items;

beforeAll(async () => {
  if (!canRunWithPairing) return;
  stack = await startStack({ pairing: true });
  // Helpers first, then the register: two 张伟 of 白水村 (a 村干部 and a 志愿者) make 陈小雨's 帮扶责任人 多人同名.
  for (const h of [
    { kind: "proxy_parent", name: "黄秀兰", phone: "13907317771", orgUnitCode: VILLAGE, capacity: 2 },
    { kind: "volunteer", name: "何志强", phone: "13907317772", orgUnitCode: VILLAGE, capacity: 2 },
    { kind: "village_cadre", name: "张伟", phone: "13907317773", orgUnitCode: BAISHUI, capacity: 2 },
    { kind: "volunteer", name: "张伟", phone: "13907317774", orgUnitCode: BAISHUI, capacity: 2 },
  ]) {
    const r = await stack.api("changling.supervisor", "POST", "/api/v1/helpers", h);
    if (r.status !== 201) throw new Error(`helper: ${r.status} ${await r.text()}`);
  }
  for (const body of [
    childBody({ seq: 71, name: "林小满", birthDate: "2015-03-15" }),
    childBody({ seq: 72, name: "陈小雨", birthDate: "2015-06-01", helperName: "张伟" }),
  ]) {
    const res = await stack.api("county.admin", "POST", "/api/v1/children", body);
    if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  }
  await stack.until(
    "the child reaches the pairing service",
    async () => (await (await stack.api("changling.supervisor", "GET", "/api/v1/unpaired-children/summary")).json()) as { totals?: { children: number } },
    (s) => s.totals?.children === 2,
    { ms: 60_000 },
  );
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe.skipIf(!canRunWithPairing)("console: 人工结对、移交、解除", () => {
  it("pairs by hand, transfers with a reason and ends with a reason", async () => {
    const page = await stack.open("changling.supervisor", "/pairing?tab=unpaired", desktop);
    await page.locator("[data-testid=unpaired] .ant-table-row").first().click();
    await page.locator(".ant-list-item", { hasText: "林小满" }).getByTestId("pair-by-hand").click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText("为林小满人工结对").waitFor();
    // Nothing chosen: the form says so and nothing is sent.
    await clickUntil(dialog.getByRole("button", { name: "确定结对" }), dialog, "请选择帮扶人");
    await choose(page, dialog.getByRole("combobox"), "黄秀兰");
    await dialog.getByLabel("备注").fill("家长点名");
    await shot(page, "pairing-manual-desktop", false);
    await dialog.getByRole("button", { name: "确定结对" }).click();
    await page.getByText("林小满已与黄秀兰结对").waitFor();
    await expect.poll(async () => (await pairings("active")).map((p) => p.helper.name)).toEqual(["黄秀兰"]);

    await page.getByRole("tab", { name: "结对中" }).click();
    const row = page.locator("[data-testid=active-pairings] .ant-table-row", { hasText: "林小满" });
    await row.getByRole("button", { name: /^移\s*交$/ }).click();
    const transfer = page.getByRole("dialog").filter({ hasText: "移交结对" });
    await clickUntil(transfer.getByRole("button", { name: "确定移交" }), transfer, "请填写原因");
    await choose(page, transfer.getByRole("combobox"), "何志强");
    await transfer.getByLabel("移交原因").fill("黄秀兰外出务工");
    expect((await axeSerious(page)).join("\n")).toBe("");
    await transfer.getByRole("button", { name: "确定移交" }).click();
    await page.getByText("已移交").waitFor();
    await expect.poll(async () => (await pairings("active")).map((p) => p.helper.name)).toEqual(["何志强"]);
    const [ended] = await pairings("ended");
    expect(ended).toMatchObject({ endReason: "transferred" });
    expect(ended!.endNote).toContain("黄秀兰外出务工");
    await row.filter({ hasText: "何志强" }).waitFor();
    await shot(page, "pairing-active-desktop");
    const small = await stack.open("changling.supervisor", "/pairing?tab=active", phone);
    await small.locator("[data-testid=active-pairings] .ant-table-row").first().waitFor();
    await shot(small, "pairing-active-phone");
    await small.context().close();

    await row
      .filter({ hasText: "何志强" })
      .getByRole("button", { name: /^解\s*除$/ })
      .click();
    const end = page.getByRole("dialog").filter({ hasText: "解除结对" });
    await end.getByLabel("解除原因").fill("儿童随父母外出");
    await end.getByRole("button", { name: "确定解除" }).click();
    await page.getByText("已解除结对").waitFor();
    await expect.poll(async () => (await pairings("active")).length).toBe(0);
    await page.context().close();
  }, 240_000);

  it("lists the register's 帮扶责任人 with why it was not paired, pairs it by hand in one step, and adds a 协助帮扶人", async () => {
    const page = await stack.open("changling.supervisor", "/pairing?tab=unpaired", phone);
    await page.locator("[data-testid=unpaired] .ant-table-row").first().click();
    const item = page.locator(".ant-list-item", { hasText: "陈小雨" });
    await expect.poll(() => item.getByTestId("register-helper").textContent()).toContain("登记表帮扶人“张伟”");
    await expect.poll(() => item.getByTestId("register-helper").textContent()).toContain("多人同名");
    await shot(page, "pairing-register-phone");
    await page.setViewportSize(desktop);
    await shot(page, "pairing-register-desktop");

    // One step: the dialog opens with 张伟 searched, both shown with kind and village, the register's name noted.
    await item.getByTestId("pair-by-hand").click();
    const dialog = page.getByRole("dialog").filter({ hasText: "为陈小雨人工结对" });
    expect(await dialog.getByLabel("备注").inputValue()).toBe("登记表帮扶责任人：张伟");
    await expect.poll(() => dialog.getByRole("radio", { name: "主要帮扶人" }).isChecked()).toBe(true);
    await choose(page, dialog.getByRole("combobox"), "张伟（志愿者，白水村");
    await shot(page, "pairing-register-choose-desktop", false);
    await dialog.getByRole("button", { name: "确定结对" }).click();
    await page.getByText("陈小雨已与张伟结对（主要帮扶人）").waitFor();
    await expect.poll(async () => (await pairings("active")).map((p) => [p.child.name, p.helper.name, p.role])).toEqual([["陈小雨", "张伟", "primary"]]);

    // 结对中: 添加协助帮扶人 beside the primary; both shown with their role.
    await page.getByRole("tab", { name: "结对中" }).click();
    const row = page.locator("[data-testid=active-pairings] .ant-table-row", { hasText: "陈小雨" });
    await row.getByTestId("add-secondary").click();
    const second = page.getByRole("dialog").filter({ hasText: "为陈小雨人工结对" });
    await expect.poll(() => second.getByRole("radio", { name: "协助帮扶人" }).isChecked()).toBe(true);
    await choose(page, second.getByRole("combobox"), "黄秀兰");
    await second.getByRole("button", { name: "确定结对" }).click();
    await page.getByText("陈小雨已与黄秀兰结对（协助帮扶人）").waitFor();
    await expect.poll(async () => (await pairings("active")).map((p) => `${p.helper.name}:${p.role}`).sort()).toEqual(["张伟:primary", "黄秀兰:secondary"]);
    await row.filter({ hasText: "协助帮扶人" }).waitFor();
    await row.filter({ hasText: "主要帮扶人" }).waitFor();
    expect(await page.getByTestId("add-secondary").count()).toBe(0);
    expect((await axeSerious(page)).join("\n")).toBe("");
    await page.locator(".ant-message-notice").first().waitFor({ state: "detached" });
    await shot(page, "pairing-roles-desktop");
    await page.setViewportSize(phone);
    await shot(page, "pairing-roles-phone");
    await page.context().close();
  }, 240_000);
});
