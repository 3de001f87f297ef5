import ExcelJS from "exceljs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childBody, residentId } from "../../../services/registry/test/harness.js";
import { axeSerious, canRunWithReporting, shot, startStack, type Stack } from "./stack.js";

/**
 * 控辍保学 (issue 22.4) through the real gateway, registry, visits and reporting: a township supervisor uploads
 * 长岭乡中心小学's list, sees the preview (matched, not in the register, bad rows), confirms it; the child
 * listed 辍学 gets a dropout-risk 关注事项 in visits, the child in no list is marked 休学 by hand from
 * 未在任何学校名单中, and the reports page shows the semester's enrolment rate. Desktop and phone.
 */
let stack: Stack;
const phone = { width: 390, height: 844 };
const ids: Record<string, string> = {};
const idNumber = (seq: number) => residentId("360999", "2015-03-07", seq, "female");

async function list(): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet("学籍");
  ws.addRow(["身份证号", "姓名", "年级", "班级", "就读状态"]);
  ws.addRow([idNumber(50), "周小雨", "四年级", "2班", "在读"]);
  ws.addRow([idNumber(51), "吴浩然", "四年级", "2班", "辍学"]);
  ws.addRow([residentId("360999", "2014-05-05", 90, "male"), "其他学生", "五年级", "1班", "在读"]);
  ws.addRow(["4.31102E+17", "数字身份证", "五年级", "1班", "在读"]);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

beforeAll(async () => {
  if (!canRunWithReporting) return;
  stack = await startStack({ visits: true, reporting: true });
  for (const [i, name] of ["周小雨", "吴浩然", "郑佳怡"].entries()) {
    const res = await stack.api("county.admin", "POST", "/api/v1/children", childBody({ seq: 50 + i, name }));
    if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
    ids[name] = (await res.json()).id;
  }
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe.skipIf(!canRunWithReporting)("控辍保学", () => {
  it("uploads a school's list, previews, confirms; 辍学 raises a concern; marks a child in no list by hand; the rate in reports", async () => {
    const page = await stack.open("changling.supervisor", "/enrolment");
    await expect.poll(() => page.locator(".ant-card", { hasText: "未在任何学校名单中（3人）" }).count()).toBe(1);
    await page.getByRole("combobox", { name: "学校" }).click();
    await page.getByTitle("长岭乡中心小学").click();
    await page.locator("input[type=file]").setInputFiles({ name: "长岭乡中心小学学籍.xlsx", mimeType: "application/octet-stream", buffer: await list() });
    await expect.poll(() => page.getByText("已匹配 2").count()).toBe(1);
    expect(await page.getByText("未通过 1").count()).toBe(1);
    expect(await page.getByText("未在档案中 1").count()).toBe(1);
    expect(await page.locator(".ant-table-row", { hasText: "数字身份证" }).textContent()).toContain("Excel");
    await shot(page, "enrolment-preview-desktop");
    expect(await axeSerious(page)).toEqual([]);

    await page.getByRole("button", { name: "确认导入" }).click();
    await expect.poll(() => page.getByText("该名单已确认，记入本学期学籍").count()).toBe(1);
    await expect.poll(() => page.locator(".ant-card", { hasText: "未在任何学校名单中（1人）" }).count()).toBe(1);
    await expect.poll(() => page.locator(".ant-table-row", { hasText: "长岭乡中心小学" }).first().textContent()).toMatch(/2\s*$|辍学|1/);

    // The child listed 辍学 has a dropout-risk case for the township (visits, via enrolment.changed).
    const cases = await stack.until(
      "the dropout concern",
      async () => (await stack.api("changling.supervisor", "GET", `/api/v1/concerns?childId=${ids["吴浩然"]}`)).json(),
      (b: { items?: { category: string }[] }) => (b.items ?? []).some((c) => c.category === "dropout_risk"),
      { ms: 60_000 },
    );
    expect(cases.items).toHaveLength(1);

    // 郑佳怡 is in no list: marked 休学 by hand.
    await page.locator(".ant-table-row", { hasText: "郑佳怡" }).getByRole("button", { name: "登记状态" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("combobox", { name: "就读状态" }).click();
    await page.locator(".ant-select-item-option[title='休学']").click();
    await dialog.getByLabel("说明").fill("病休一学期");
    await dialog.getByRole("button", { name: /^保\s*存$/ }).click();
    await expect.poll(() => page.locator(".ant-card", { hasText: "未在任何学校名单中（0人）" }).count()).toBe(1);
    await shot(page, "enrolment-desktop");

    // Reporting: 1 在读 of 3 school-age children, 1 辍学, 1 休学.
    await stack.until(
      "the enrolment rate",
      async () => (await stack.api("county.admin", "GET", "/api/v1/reports/enrolment")).json(),
      (b: { total?: { enrolled: number; droppedOut: number; suspended: number } }) =>
        b.total?.enrolled === 1 && b.total.droppedOut === 1 && b.total.suspended === 1,
      { ms: 60_000 },
    );
    const reports = await stack.open("county.admin", "/reports");
    await expect
      .poll(() => reports.locator(".ant-card", { hasText: "控辍保学" }).locator(".ant-statistic", { hasText: "入学率" }).textContent())
      .toContain("33.3%");
    await reports.locator(".ant-card", { hasText: "控辍保学" }).last().scrollIntoViewIfNeeded();
    await shot(reports, "reports-enrolment-desktop", false);
    await page.context().close();
    await reports.context().close();
  }, 180_000);

  it("works on a phone; a village director sees the table and the missing list but cannot upload", async () => {
    const page = await stack.open("changling.supervisor", "/enrolment", phone);
    await expect.poll(() => page.locator(".ant-table-row", { hasText: "长岭乡中心小学" }).count()).toBeGreaterThan(0);
    await shot(page, "enrolment-phone");
    expect(await axeSerious(page)).toEqual([]);
    await page.context().close();

    // The child's 学籍 tab: the status by hand, kept as history.
    const file = await stack.open("changling.supervisor", `/children/${ids["郑佳怡"]}?tab=enrolment`, phone);
    await expect.poll(() => file.locator(".ant-table-row", { hasText: "休学" }).count()).toBe(1);
    await shot(file, "child-enrolment-phone");
    await file.context().close();

    const director = await stack.open("changling.director", "/enrolment");
    await expect.poll(() => director.locator(".ant-card", { hasText: "未在任何学校名单中" }).count()).toBe(1);
    expect(await director.getByText("上传学校学籍名单").count()).toBe(0);
    await director.context().close();
  }, 120_000);
});
