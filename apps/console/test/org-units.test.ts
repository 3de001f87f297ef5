import { afterAll, beforeAll, describe, expect, it } from "vitest";
import ExcelJS from "exceljs";
import type { Browser, Page } from "playwright-core";
import { childBody } from "../../../services/registry/test/harness.js";
import { axeSerious, canRunWithReporting, shot, signIn, startStack, type Stack } from "./stack.js";

/**
 * 区划与学校 through the real gateway, registry, visits and reporting: a county admin renames a
 * village, is refused retiring a village that still holds children (with the count), merges it
 * into the renamed one — and reporting's drill-down follows, by the events alone — imports the
 * division-code table and the school list and reads the rows not taken, and keeps schools.
 * A township supervisor has no such page, and the API refuses them too.
 */
let stack: Stack;
let browser: Browser;
const desktop = { width: 1440, height: 900 };
const phone = { width: 390, height: 844 };

const until = <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000) => stack.until(what, read, ok, { ms, tolerateErrors: true });

async function xlsx(headers: string[], rows: (string | number | null)[][]): Promise<{ name: string; mimeType: string; buffer: Buffer }> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet("Sheet1");
  ws.addRow(headers);
  for (const r of rows) ws.addRow(r);
  return {
    name: "list.xlsx",
    mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    buffer: Buffer.from(await wb.xlsx.writeBuffer()),
  };
}

beforeAll(async () => {
  if (!canRunWithReporting) return;
  stack = await startStack({ reporting: true, visits: true });
  browser = stack.browser;
  for (const [i, name] of ["周小雨", "吴浩然"].entries()) {
    const res = await stack.api("county.admin", "POST", "/api/v1/children", childBody({ seq: 80 + i, name, villageCode: "360999101201" }));
    if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  }
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

async function open(username: string, path: string, viewport = desktop): Promise<Page> {
  const ctx = await browser.newContext({ viewport, locale: "zh-CN" });
  const page = await ctx.newPage();
  await signIn(page, stack.base, username, path);
  return page;
}

const row = (page: Page, testId: string, text: string) => page.getByTestId(testId).locator("tr", { hasText: text });

describe.skipIf(!canRunWithReporting)("区划与学校", () => {
  it("a county admin renames, is refused a retire with the count, merges, and reporting follows", async () => {
    const page = await open("county.admin", "/org-units");
    const units = page.getByTestId("org-unit-table");
    await expect.poll(() => row(page, "org-unit-table", "长岭村").textContent()).toContain("360999101201");
    expect(await row(page, "org-unit-table", "长岭村").textContent()).toContain("2");
    await shot(page, "org-units-desktop");
    expect(await axeSerious(page)).toEqual([]);

    // Rename 白水村 → 白水社区 (the code stays).
    await row(page, "org-unit-table", "白水村").getByRole("button", { name: "改名" }).click();
    const dialog = page.locator(".ant-modal").filter({ hasText: "改名：白水村" });
    await dialog.getByLabel("名称").fill("白水社区");
    await dialog.getByRole("button", { name: /保\s*存/ }).click();
    await expect.poll(() => units.textContent()).toContain("白水社区");

    // Retire 长岭村: refused, with the number of children still there.
    await row(page, "org-unit-table", "长岭村").getByRole("button", { name: "撤销" }).click();
    await page
      .locator(".ant-modal-confirm")
      .getByRole("button", { name: /撤\s*销/ })
      .click();
    const refusal = page.locator(".ant-modal-confirm-error");
    await expect.poll(() => refusal.textContent()).toContain("仍有2 名在册儿童");
    await refusal.getByRole("button", { name: /知道了|OK|确定/ }).click();

    // Merge 长岭村 into 白水社区: the children move, 长岭村 is retired.
    await row(page, "org-unit-table", "长岭村").getByRole("button", { name: "合并" }).click();
    const merge = page.locator(".ant-modal").filter({ hasText: "合并：长岭村" });
    await expect.poll(() => merge.textContent()).toContain("2 名在册儿童将迁入");
    await merge.getByLabel("并入").click();
    await page.locator(".ant-select-item-option", { hasText: "白水社区" }).click();
    await shot(page, "org-units-merge-dialog", false);
    await merge.getByRole("button", { name: /合\s*并/ }).click();
    await expect.poll(() => page.locator(".ant-message").textContent()).toContain("迁入在册儿童 2 名");
    await expect.poll(() => units.textContent()).not.toContain("长岭村");
    await page.getByRole("switch", { name: "显示已撤销" }).click();
    await expect.poll(() => row(page, "org-unit-table", "长岭村").textContent()).toContain("已并入白水社区");

    // Reporting learns the new name and the move from the registry's events alone.
    await until(
      "reporting's drill-down shows the merge under the new name",
      async () =>
        (await (await stack.api("county.admin", "GET", "/api/v1/reports/drilldown?orgUnit=360999101&by=village")).json()) as {
          rows: { name: string; children: number }[];
        },
      (d) => d.rows.some((r) => r.name === "白水社区" && r.children === 2) && !d.rows.some((r) => r.children > 0 && r.name !== "白水社区"),
    );

    // The division table: one new village, one rename, rows not taken with their reasons.
    await page
      .getByTestId("division-import")
      .locator("input[type=file]")
      .setInputFiles(
        await xlsx(
          ["统计用区划代码", "名称", "级别"],
          [
            ["360999101203", "新华村", "村"],
            ["360999102202", "青山社区", "村"],
            ["360888100201", "外县村", "村"],
            ["36099910", "坏代码", "村"],
          ],
        ),
      );
    const outcome = page.getByTestId("import-outcome");
    await expect.poll(() => outcome.textContent()).toContain("新增 1");
    expect(await outcome.textContent()).toContain("更新 1");
    expect(await outcome.textContent()).toContain("代码不属于本县");
    expect(await outcome.textContent()).toContain("应为6、9或12位数字");
    await expect.poll(() => units.textContent()).toContain("新华村");
    await shot(page, "org-units-import-desktop");
    expect(await axeSerious(page)).toEqual([]);
    await page.context().close();
  }, 120_000);

  it("keeps schools: create, import the list with rejections, refuse a retire while children attend", async () => {
    const page = await open("county.admin", "/org-units");
    await page.getByRole("tab", { name: "学校", exact: true }).click();
    const schools = page.getByTestId("school-table");
    await expect.poll(() => schools.textContent()).toContain("长岭乡中心小学");

    await page.getByRole("button", { name: "新建学校" }).click();
    const dialog = page.locator(".ant-modal").filter({ hasText: "新建学校" });
    await dialog.getByLabel("学校标识码").fill("2136099940");
    await dialog.getByLabel("学校名称").fill("白水小学");
    await dialog.getByLabel("所在乡镇").click();
    await page.locator(".ant-select-item-option", { hasText: "长岭乡" }).click();
    await dialog.getByLabel("办学类型").click();
    await page.locator(".ant-select-item-option", { hasText: "九年一贯制" }).click();
    await dialog.getByRole("button", { name: /保\s*存/ }).click();
    await expect.poll(() => row(page, "school-table", "白水小学").textContent()).toContain("2136099940");

    await page
      .getByTestId("school-import")
      .locator("input[type=file]")
      .setInputFiles(
        await xlsx(
          ["学校名称", "学校标识码", "所在乡镇", "办学类型"],
          [
            ["石门中心小学", "2136099941", "石门镇", "小学"],
            ["无码学校", "21360", "石门镇", "小学"],
            ["高中", "2136099942", "石门镇", "高中"],
          ],
        ),
      );
    const outcome = page.getByTestId("import-outcome");
    await expect.poll(() => outcome.textContent()).toContain("新增 1");
    expect(await outcome.textContent()).toContain("学校标识码“21360”应为10位数字");
    expect(await outcome.textContent()).toContain("办学类型“高中”应为 小学、初中 或 九年一贯制");
    await expect.poll(() => schools.textContent()).toContain("石门中心小学");
    await shot(page, "org-units-schools-desktop");
    expect(await axeSerious(page)).toEqual([]);

    await row(page, "school-table", "长岭乡中心小学").getByRole("button", { name: "撤销" }).click();
    await page
      .locator(".ant-modal-confirm")
      .getByRole("button", { name: /撤\s*销/ })
      .click();
    await expect.poll(() => page.locator(".ant-modal-confirm-error").textContent()).toContain("仍有 2 名在册儿童");
    await page.context().close();
  }, 90_000);

  it("fits a phone, and a township supervisor neither sees it nor reaches it through the API", async () => {
    const page = await open("county.admin", "/org-units", phone);
    await expect.poll(() => page.getByTestId("org-unit-table").textContent()).toContain("白水社区");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, "org-units-phone");
    expect(await axeSerious(page)).toEqual([]);
    await page.context().close();

    const supervisor = await open("changling.supervisor", "/children");
    expect(await supervisor.locator(".ant-menu").textContent()).not.toContain("区划与学校");
    await supervisor.context().close();
    expect((await stack.api("changling.supervisor", "GET", "/api/v1/org-units/overview")).status).toBe(403);
    expect((await stack.api("changling.supervisor", "PATCH", "/api/v1/org-units/360999101202", { name: "x" })).status).toBe(403);
  }, 90_000);
});
