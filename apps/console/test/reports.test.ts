import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { strFromU8, unzipSync } from "fflate";
import type { Page } from "playwright-core";
import { childBody } from "../../../services/registry/test/harness.js";
import { axeSerious, canRunWithReporting, shot, startStack, type Stack } from "./stack.js";

/**
 * 统计报表 through the real gateway, registry, visits and reporting: children registered in
 * two villages of 长岭乡 reach reporting by their events (and the visits service's items and a
 * concern by theirs); a county admin reads the county's charts and drills down to a township
 * and a village; a township supervisor reads the 督导报告 and exports it (background job,
 * progress, download); a teacher has no 统计报表 at all.
 */
let stack: Stack;
const desktop = { width: 1440, height: 900 };
const phone = { width: 390, height: 844 };

interface Overview {
  total: { children: number; concerns: { open: number } };
}
const overview = async () => (await (await stack.api("county.admin", "GET", "/api/v1/reports/overview")).json()) as Overview;

const until = <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 90_000) => stack.until(what, read, ok, { ms, tolerateErrors: true });

beforeAll(async () => {
  if (!canRunWithReporting) return;
  stack = await startStack({ reporting: true, visits: true });
  const children = [
    { name: "周小雨", villageCode: "360999101201", riskLevel: "high" },
    { name: "吴浩然", villageCode: "360999101201", riskLevel: "medium" },
    { name: "郑佳怡", villageCode: "360999101202", riskLevel: "medium" },
    { name: "孙子轩", villageCode: "360999101202", riskLevel: "low" },
  ];
  const ids: string[] = [];
  for (let i = 0; i < children.length; i++) {
    const res = await stack.api("county.admin", "POST", "/api/v1/children", childBody({ seq: 60 + i, ...children[i] }));
    if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
    ids.push(((await res.json()) as { id: string }).id);
  }
  // The visits service must know the child before a concern can be raised for it.
  await until(
    "concern raised",
    async () =>
      (await stack.api("changling.supervisor", "POST", "/api/v1/concerns", { childId: ids[0], category: "safety", description: "放学后常独自在河边玩耍" }))
        .status,
    (s) => s === 201,
  );
  await until("children and the concern reach reporting", overview, (o) => o.total?.children === 4 && o.total.concerns.open === 1);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

const open = (username: string, path: string, viewport = desktop): Promise<Page> => stack.open(username, path, viewport);

describe.skipIf(!canRunWithReporting)("统计报表", () => {
  it("a county admin reads the county's figures and charts, then drills down to a township and a village", async () => {
    const page = await open("county.admin", "/reports");
    const kpis = page.getByTestId("report-kpis");
    await expect.poll(() => kpis.textContent()).toContain("在册儿童4");
    expect(await kpis.textContent()).toContain("在办关注事项1");
    // No check-ups yet: the findings chart says so instead of drawing an empty ring.
    expect(await page.getByTestId("chart-flags").textContent()).toContain("今年暂无体检异常结果");
    for (const chart of ["chart-coverage", "chart-punctuality", "chart-concerns", "chart-checkups"]) {
      expect(await page.getByTestId(chart).locator("canvas").count(), chart).toBe(1);
      expect(await page.getByTestId(chart).getAttribute("aria-label")).toBeTruthy();
    }
    const table = page.getByTestId("report-table");
    await expect.poll(() => table.textContent()).toContain("长岭乡");
    await shot(page, "reports-county-desktop");
    expect(await axeSerious(page)).toEqual([]);

    await table.getByRole("link", { name: "长岭乡" }).click();
    await expect.poll(() => page.locator(".ant-breadcrumb").textContent()).toContain("长岭乡");
    await expect.poll(() => table.textContent()).toContain("长岭村");
    expect(await table.textContent()).toContain("合计");
    await shot(page, "reports-township-desktop");

    await table.getByRole("link", { name: "长岭村" }).click();
    await expect.poll(() => page.locator(".ant-breadcrumb").textContent()).toMatch(/长岭乡.*长岭村/);
    await expect.poll(() => kpis.textContent()).toContain("在册儿童2");
    // Back up by the breadcrumb.
    await page.locator(".ant-breadcrumb").getByRole("link", { name: "示范县" }).click();
    await expect.poll(() => kpis.textContent()).toContain("在册儿童4");

    // The semester's 工作总结, drafted as .docx from the same figures.
    expect(await page.getByRole("combobox", { name: "工作总结学期" }).locator("xpath=ancestor::*[contains(@class,'ant-select')][1]").textContent()).toMatch(
      /\d{4}—\d{4}学年第[一二]学期/,
    );
    await page.getByRole("button", { name: /生成工作总结/ }).click();
    const download = page.getByTestId("export-download");
    await download.waitFor({ timeout: 60_000 });
    const [file] = await Promise.all([page.waitForEvent("download"), download.click()]);
    expect(file.suggestedFilename()).toMatch(/^示范县留守儿童关爱保护工作总结-\d{4}—\d{4}学年第[一二]学期\.docx$/);
    const xml = strFromU8(unzipSync(new Uint8Array(readFileSync((await file.path())!)))["word/document.xml"]!);
    expect(xml.replace(/<[^>]+>/g, "")).toContain("共建档在册农村留守儿童和困境儿童4名");
    await page.context().close();
  }, 90_000);

  it("a township supervisor reads the 督导报告 and downloads it as .xlsx", async () => {
    const page = await open("changling.supervisor", "/reports");
    await page.getByText("督导报告", { exact: true }).click();
    const report = page.getByTestId("supervision");
    await expect.poll(() => report.textContent()).toContain("未结对（4）");
    expect(await report.textContent()).toContain("在办关注事项（1）");
    await report.getByRole("tab", { name: /在办关注事项/ }).click();
    await expect.poll(() => report.textContent()).toContain("安全隐患");
    await shot(page, "reports-supervision-desktop");
    expect(await axeSerious(page)).toEqual([]);

    await report.getByRole("button", { name: /导出督导报告/ }).click();
    const download = report.getByTestId("export-download");
    await download.waitFor({ timeout: 60_000 });
    const [file] = await Promise.all([page.waitForEvent("download"), download.click()]);
    expect(file.suggestedFilename()).toMatch(/\.xlsx$/);
    const bytes = readFileSync((await file.path())!);
    expect(bytes.subarray(0, 2).toString()).toBe("PK"); // an xlsx is a zip
    await page.context().close();
  }, 90_000);

  it("fits a phone, and a teacher neither sees it in the menu nor reads it from the API", async () => {
    const page = await open("changling.supervisor", "/reports", phone);
    await expect.poll(() => page.getByTestId("report-kpis").textContent()).toContain("在册儿童4");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, "reports-phone");
    await page.context().close();

    const teacher = await open("changling.teacher", "/reports");
    await expect.poll(() => teacher.locator(".ant-result-title").textContent()).toContain("无权查看统计报表");
    expect(await teacher.locator(".ant-menu").textContent()).not.toContain("统计报表");
    await teacher.context().close();
    expect((await stack.api("changling.teacher", "GET", "/api/v1/reports/overview")).status).toBe(403);
  }, 90_000);
});
