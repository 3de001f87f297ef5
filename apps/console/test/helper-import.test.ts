import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ExcelJS from "exceljs";
import { axeSerious, canRunWithPairing, shot, startStack, type Stack } from "./stack.js";

/** 导入帮扶人 on the 帮扶人 tab: the valid rows appear in the list, the others are listed with their reasons. */
let stack: Stack;
const VILLAGE = "360999101201";
const desktop = { width: 1440, height: 900 };
const phone = { width: 390, height: 844 };

async function helperList(rows: (string | number | null)[][]) {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet("帮扶人");
  ws.addRow(["姓名", "类别", "性别", "手机号", "所属单位代码", "学校标识码", "可帮扶人数"]);
  for (const r of rows) ws.addRow(r);
  return {
    name: "帮扶人名单.xlsx",
    mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    buffer: Buffer.from(await wb.xlsx.writeBuffer()),
  };
}

beforeAll(async () => {
  if (!canRunWithPairing) return;
  stack = await startStack({ pairing: true });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe.skipIf(!canRunWithPairing)("console: 导入帮扶人", () => {
  it("imports a helper list and shows the rows not taken with their reasons (desktop and phone)", async () => {
    const file = await helperList([
      ["龚丽萍", "爱心妈妈", "女", "13907318881", VILLAGE, null, 2],
      ["邹建国", "村干部", "男", "13907318882", VILLAGE, null, 3],
      ["无电话", "志愿者", "男", null, VILLAGE, null, 2],
      ["外乡人", "志愿者", "男", "13907318884", "360999102201", null, 2],
    ]);
    const page = await stack.open("changling.supervisor", "/pairing?tab=helpers", desktop);
    await page.getByTestId("helper-import").locator("input[type=file]").setInputFiles(file);
    const outcome = page.getByTestId("helper-import-outcome");
    await expect.poll(() => outcome.textContent()).toContain("新增 2");
    expect(await outcome.textContent()).toContain("未导入 2 行");
    expect(await outcome.textContent()).toContain("帮扶人须留联系电话");
    expect(await outcome.textContent()).toContain("不在您的管辖范围内");
    await expect.poll(() => page.getByTestId("helpers").locator(".ant-table-tbody").last().textContent()).toContain("龚丽萍");
    expect((await axeSerious(page)).join("\n")).toBe("");
    await shot(page, "helper-import-desktop");

    const small = await stack.open("changling.supervisor", "/pairing?tab=helpers", phone);
    await small.getByTestId("helper-import").locator("input[type=file]").setInputFiles(file);
    const again = small.getByTestId("helper-import-outcome");
    // The same phones again: updated, not registered twice.
    await expect.poll(() => again.textContent()).toContain("更新 2");
    await shot(small, "helper-import-phone");
  });

  it("offers no import to roles that cannot register helpers", async () => {
    const page = await stack.open("changling.teacher", "/pairing?tab=helpers", desktop);
    await page.getByTestId("helpers").waitFor();
    expect(await page.getByTestId("helper-import").count()).toBe(0);
  });
});
