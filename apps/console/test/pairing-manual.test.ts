import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childBody } from "../../../services/registry/test/harness.js";
import { axeSerious, canRunWithPairing, choose, clickUntil, shot, startStack, type Stack } from "./stack.js";

/**
 * 人工结对, 移交 and 解除 on the page: a child the optimiser could not place is paired by
 * hand from 未结对儿童, the pairing is transferred to another helper with a reason, then
 * ended with a reason. Each step is checked through the API as well.
 */
let stack: Stack;
const VILLAGE = "360999101201";
const desktop = { width: 1440, height: 900 };
const phone = { width: 390, height: 844 };
interface P {
  id: string;
  status: string;
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
  const res = await stack.api("county.admin", "POST", "/api/v1/children", childBody({ seq: 71, name: "林小满", birthDate: "2015-03-15" }));
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  for (const h of [
    { kind: "proxy_parent", name: "黄秀兰", phone: "13907317771", orgUnitCode: VILLAGE, capacity: 2 },
    { kind: "volunteer", name: "何志强", phone: "13907317772", orgUnitCode: VILLAGE, capacity: 2 },
  ]) {
    const r = await stack.api("changling.supervisor", "POST", "/api/v1/helpers", h);
    if (r.status !== 201) throw new Error(`helper: ${r.status} ${await r.text()}`);
  }
  await stack.until(
    "the child reaches the pairing service",
    async () => (await (await stack.api("changling.supervisor", "GET", "/api/v1/unpaired-children/summary")).json()) as { totals?: { children: number } },
    (s) => s.totals?.children === 1,
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
    await page.getByTestId("pair-by-hand").first().click();
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
});
