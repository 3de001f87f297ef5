import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childBody } from "../../../services/registry/test/harness.js";
import { axeSerious, canRunWithVisits, shot, startStack, type Stack } from "./stack.js";

/**
 * 学年 (issue 19.5) through the real gateway and registry: a township supervisor previews the
 * year-end promotion of 长岭乡中心小学 (counts by grade), confirms it once (a second confirm
 * promotes nobody), assigns a 六年级 leaver a middle school, and prints a class's 交接 list
 * with each child's open concerns (from visits, by the need-to-know table). A village director
 * has no such page.
 */
let stack: Stack;
const desktop = { width: 1440, height: 900 };
const phone = { width: 390, height: 844 };
let concernChild = "";

beforeAll(async () => {
  if (!canRunWithVisits) return;
  stack = await startStack({ visits: true });
  const kids: [string, string, string][] = [
    ["周小雨", "四年级", "2班"],
    ["吴浩然", "六年级", "1班"],
    ["郑佳怡", "三年级", "1班"],
  ];
  for (const [i, [name, grade, className]] of kids.entries()) {
    const res = await stack.api("county.admin", "POST", "/api/v1/children", childBody({ seq: 30 + i, name, grade, className }));
    if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
    if (name === "郑佳怡") concernChild = (await res.json()).id;
  }
  // An open case for 郑佳怡 in visits (once its projection holds the child).
  await stack.until(
    "the concern is raised",
    () => stack.api("changling.supervisor", "POST", "/api/v1/concerns", { childId: concernChild, category: "safety", description: "放学独自过河" }),
    (r) => r.status === 201,
    { ms: 60_000 },
  );
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe.skipIf(!canRunWithVisits)("学年", () => {
  it("previews, promotes once, assigns a middle school", async () => {
    const page = await stack.open("changling.supervisor", "/school-year");
    await page.getByRole("combobox", { name: "学校" }).click();
    await page.getByTitle("长岭乡中心小学（小学）").click();
    await page.getByLabel("升入学年").fill("2027-2028");
    await page.getByRole("button", { name: /^预\s*览$/ }).click();
    await expect.poll(() => page.locator(".ant-table").first().textContent()).toContain("六年级");
    expect(await page.locator(".ant-table").first().textContent()).toContain("待分配初中");
    await shot(page, "school-year-preview-desktop");
    expect(await axeSerious(page)).toEqual([]);

    await page.getByRole("button", { name: "确认升级" }).click();
    await expect.poll(() => page.getByText(/已升级 2 人，待分配初中 1 人/).count()).toBe(1);
    // Done: the page says so, and a second run (here through the API) promotes nobody.
    await expect.poll(() => page.getByText(/已完成2027-2028学年升级/).count()).toBe(1);
    const again = await stack.api("changling.supervisor", "POST", "/api/v1/schools/S360999101001/promotions", { schoolYear: "2027-2028" });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ replayed: true });
    const list = await (await stack.api("county.admin", "GET", "/api/v1/children?q=周小雨")).json();
    expect(list.items[0].grade).toBe("五年级");

    await page.getByRole("tab", { name: "待分配初中" }).click();
    await expect.poll(() => page.getByText("吴浩然").count()).toBe(1);
    await page.getByRole("combobox", { name: "吴浩然的初中" }).click();
    await page.locator(".ant-select-item-option[title='石门镇中学']").click();
    await shot(page, "school-year-awaiting-desktop", false);
    await page.getByRole("button", { name: /^分\s*配$/ }).click();
    await expect.poll(() => page.getByText("没有待分配初中的儿童").count()).toBe(1);
    const assigned = await (await stack.api("county.admin", "GET", "/api/v1/children?q=吴浩然")).json();
    expect(assigned.items[0]).toMatchObject({ grade: "七年级", schoolId: "S360999102001" });
    await page.context().close();
  }, 120_000);

  it("prints a class's 交接 list, on a phone too; a village director has no 学年 page", async () => {
    for (const [viewport, name] of [
      [desktop, "school-year-handover-desktop"],
      [phone, "school-year-handover-phone"],
    ] as const) {
      const page = await stack.open("changling.supervisor", "/school-year", viewport);
      await page.getByRole("tab", { name: "交接名单" }).click();
      await page.getByRole("combobox", { name: "交接学校" }).click();
      await page.getByTitle("长岭乡中心小学").click();
      await page.getByLabel("年级").fill("四年级");
      await page.getByRole("button", { name: /^查\s*询$/ }).click();
      await expect.poll(() => page.locator(".ant-table-row", { hasText: "郑佳怡" }).count()).toBe(1);
      expect(await page.locator(".ant-table-row", { hasText: "周小雨" }).count()).toBe(0);
      expect(await page.locator(".ant-table-row", { hasText: "未结对" }).count()).toBe(1);
      // Its open case, from visits: category and status, and the list's total.
      await expect.poll(() => page.getByTestId(`concerns-${concernChild}`).count()).toBe(1);
      expect(await page.getByTestId(`concerns-${concernChild}`).innerText()).toContain("安全隐患·待处理");
      expect(await page.getByTestId("handover-concerns").innerText()).toContain("未解决的关注事项 1 件");
      expect(await page.getByRole("button", { name: /打\s*印/ }).count()).toBe(1);
      await shot(page, name);
      expect(await axeSerious(page)).toEqual([]);
      await page.context().close();
    }
    const director = await stack.open("changling.director", "/school-year");
    await director.waitForURL(`${stack.base}/`);
    expect(await director.getByRole("menuitem", { name: /学年/ }).count()).toBe(0);
    await director.context().close();
  }, 120_000);
});
