import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import ExcelJS from "exceljs";
import pgLib from "pg";
import { childBody } from "../../../services/registry/test/harness.js";
import { axeSerious, canRunWithHealth, canRunWithVisits, clickUntil, shot, startStack, type Stack } from "./stack.js";

/**
 * 体检 and 关注事项 through the real gateway, registry, visits, health and dev issuer.
 * Children registered in 长岭村 reach visits and health by their events. A health
 * worker runs a campaign: the roster, the results grid (keyboard, evaluated as typed,
 * blood pressure by WS/T 610), an upload with per-row reasons, the findings followed
 * up. A township supervisor and a village director work concern cases: countdown,
 * escalation, 受理, 指派, 结案. Roles that must not see a page get no menu entry and
 * the API refuses them.
 */
let stack: Stack;
const desktop = { width: 1440, height: 900 };
const phone = { width: 390, height: 844 };
const ids: Record<string, string> = {};
let campaignId = "";

const until = <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000) => stack.until(what, read, ok, { ms });
const json = async (res: Response) => (await res.json()) as any;

beforeAll(async () => {
  if (!canRunWithVisits || !canRunWithHealth) return;
  stack = await startStack({ visits: true, health: true });
  const children = [
    { name: "刘思远", birthDate: "2016-03-15", sex: "male" },
    { name: "陈雨桐", birthDate: "2015-08-02", sex: "female" },
    { name: "黄小宝", birthDate: "2021-05-20", sex: "male" },
  ];
  for (const [i, c] of children.entries()) {
    const res = await stack.api("county.admin", "POST", "/api/v1/children", childBody({ seq: 70 + i, ...c }));
    if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
    ids[c.name] = (await json(res)).id;
  }
  const campaign = await stack.api("changling.doctor", "POST", "/api/v1/campaigns", {
    name: "2026年冬季儿童体检",
    orgUnits: ["360999101"],
    startDate: "2026-11-20",
    endDate: "2026-12-31",
    provider: "长岭乡卫生院",
  });
  if (campaign.status !== 201) throw new Error(`campaign: ${campaign.status} ${await campaign.text()}`);
  campaignId = (await json(campaign)).id;
  await until(
    "children reach health",
    async () => (await json(await stack.api("changling.doctor", "GET", `/api/v1/campaigns/${campaignId}/roster`))).items?.length,
    (n) => n === 3,
  );
  await until(
    "children reach visits",
    async () =>
      (await stack.api("changling.director", "POST", "/api/v1/concerns", { childId: ids["陈雨桐"], category: "other", description: "连续三天未到校" })).status,
    (s) => s === 201,
  );
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

const open = (username: string, path: string, viewport = desktop): Promise<Page> => stack.open(username, path, viewport);

describe.skipIf(!canRunWithVisits || !canRunWithHealth)("体检", () => {
  it("lists campaigns and opens the create dialog (validation in Chinese); desktop and phone", async () => {
    for (const [who, viewport] of [
      ["desktop", desktop],
      ["phone", phone],
    ] as const) {
      const page = await open("changling.doctor", "/checkups", viewport);
      await page.locator("[data-testid=campaigns]").getByText("2026年冬季儿童体检").waitFor();
      if (who === "desktop") expect((await axeSerious(page)).join("\n")).toBe("");
      await shot(page, `checkups-campaigns-${who}`);
      if (who === "desktop") {
        await page.getByRole("button", { name: "新建体检活动" }).click();
        await clickUntil(page.getByRole("dialog").getByRole("button", { name: /创\s*建/ }), page.getByRole("dialog"), "请填写体检活动名称");
        await page.getByText("请选择体检覆盖的乡镇或村").waitFor();
        await shot(page, "checkups-create-dialog-desktop", false);
      }
      await page.context().close();
    }
  }, 90_000);

  it("creates a campaign on the page: name, area, period, provider", async () => {
    const page = await open("changling.doctor", "/checkups");
    await page.getByRole("button", { name: "新建体检活动" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("活动名称").fill("2027年春季儿童体检");
    await dialog.getByLabel("覆盖范围").click();
    await page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)").getByTitle("长岭乡").click();
    await page.keyboard.press("Escape");
    await dialog.getByPlaceholder("开始日期").click();
    await dialog.getByPlaceholder("开始日期").fill("2026-12-10");
    await page.keyboard.press("Enter");
    await dialog.getByPlaceholder("结束日期").fill("2026-12-20");
    await page.keyboard.press("Enter");
    await dialog.getByLabel("承担体检的医疗机构").fill("长岭乡卫生院");
    await dialog.getByRole("button", { name: /创\s*建/ }).click();
    await page.locator("[data-testid=campaigns]").getByText("2027年春季儿童体检").waitFor();
    const list = await json(await stack.api("changling.doctor", "GET", "/api/v1/campaigns"));
    expect(list.items).toContainEqual(
      expect.objectContaining({
        name: "2027年春季儿童体检",
        orgUnits: ["360999101"],
        startDate: "2026-12-10",
        endDate: "2026-12-20",
        provider: "长岭乡卫生院",
      }),
    );
    await page.context().close();
  }, 60_000);

  it("results grid: Enter moves down a column, values are evaluated as typed (WS/T 610 blood pressure, 不适用 under 7), a row saves on Ctrl+Enter", async () => {
    const page = await open("changling.doctor", `/checkups/${campaignId}?tab=grid`);
    const grid = page.locator("[data-testid=results-grid]");
    await grid.getByLabel("刘思远 身高(cm)").waitFor();
    await page.locator("#grid-examiner").fill("周医生");

    // Keyboard: Enter down a column, Shift+Enter up, Tab along the row.
    const focusedCell = () => page.evaluate(() => document.activeElement?.getAttribute("data-cell"));
    await grid.locator('[data-cell="0:0"]').click();
    await page.keyboard.press("Enter");
    expect(await focusedCell()).toBe("1:0");
    await page.keyboard.press("Enter");
    expect(await focusedCell()).toBe("2:0");
    await page.keyboard.press("Shift+Enter");
    expect(await focusedCell()).toBe("1:0");
    await page.keyboard.press("Tab");
    expect(await focusedCell()).toBe("1:1");

    await grid.getByLabel("刘思远 身高(cm)").fill("140");
    await grid.getByLabel("刘思远 体重(kg)").focus();
    await page.keyboard.type("abc");
    await grid.getByText("体重(kg)请填写数字").waitFor();
    await page.keyboard.press("Control+A");
    await page.keyboard.type("33");
    await grid.getByLabel("刘思远 收缩压").fill("135");
    await grid.getByLabel("刘思远 舒张压").fill("70");
    const row = grid.locator(".ant-table-row", { hasText: "刘思远" });
    await row.getByText("血压偏高").waitFor();
    // Out of range: the service's own message for the field.
    await grid.getByLabel("陈雨桐 收缩压").fill("300");
    await grid.locator(".ant-table-row", { hasText: "陈雨桐" }).getByText("收缩压应在50–250 mmHg之间").waitFor();
    await grid.getByLabel("陈雨桐 收缩压").fill("");
    // Under 7: WS/T 610 does not apply, and says so.
    await grid.getByLabel("黄小宝 身高(cm)").fill("112");
    await grid.getByLabel("黄小宝 收缩压").fill("118");
    await grid.getByLabel("黄小宝 舒张压").fill("76");
    await grid.locator(".ant-table-row", { hasText: "黄小宝" }).getByText("血压：不适用（WS/T 610 适用于7岁及以上）").waitFor();
    expect((await axeSerious(page)).join("\n")).toBe("");
    await shot(page, "checkups-grid-desktop");

    await grid.getByLabel("刘思远 舒张压").focus();
    await page.keyboard.press("Control+Enter");
    await row.getByText("已录入").waitFor();
    const exams = await json(await stack.api("changling.doctor", "GET", `/api/v1/exams?campaignId=${campaignId}`));
    expect(exams.items).toEqual([
      expect.objectContaining({ childName: "刘思远", heightCm: 140, weightKg: 33, bpSystolic: 135, bpDiastolic: 70, examiner: "周医生" }),
    ]);
    expect(exams.items[0].flags).toContainEqual({ kind: "elevated_bp", severity: null, label: "血压偏高" });
    await page.context().close();

    const mobile = await open("changling.doctor", `/checkups/${campaignId}?tab=grid`, phone);
    await mobile.locator("[data-testid=results-grid]").getByLabel("陈雨桐 身高(cm)").waitFor();
    await shot(mobile, "checkups-grid-phone");
    await mobile.context().close();
  }, 120_000);

  it("imports the filled-in roster: good rows recorded, each bad row's reasons in Chinese", async () => {
    const res = await fetch(`${stack.base}/api/v1/campaigns/${campaignId}/roster.xlsx`, {
      headers: { authorization: `Bearer ${await stack.token("changling.doctor")}` },
    });
    expect(res.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as never);
    const sheet = wb.worksheets[0]!;
    const header = (sheet.getRow(1).values as unknown[]).map(String);
    const col = (name: string) => header.indexOf(name);
    sheet.eachRow((r, n) => {
      if (n === 1) return;
      const name = String(r.getCell(col("姓名")).value);
      r.getCell(col("检查日期")).value = "2026-12-01";
      r.getCell(col("检查医生")).value = "周医生";
      if (name === "刘思远") r.getCell(col("身高(cm)")).value = 140;
      if (name === "陈雨桐") r.getCell(col("身高(cm)")).value = 1.45; // metres: a typing error
      if (name === "黄小宝") {
        r.getCell(col("身高(cm)")).value = 112;
        r.getCell(col("体重(kg)")).value = 19;
      }
    });
    const dir = mkdtempSync(path.join(os.tmpdir(), "results-"));
    const file = path.join(dir, "体检结果.xlsx");
    writeFileSync(file, Buffer.from(await wb.xlsx.writeBuffer()));

    const page = await open("changling.doctor", `/checkups/${campaignId}?tab=import`);
    await page.locator("[data-testid=results-upload] input[type=file]").setInputFiles(file);
    const result = page.locator("[data-testid=import-result]");
    await result.waitFor();
    const rejections = page.locator("[data-testid=import-rejections]");
    // 刘思远 was recorded in the grid already; 陈雨桐's height is in metres.
    await rejections.getByText("身高(cm)：身高应在50–220厘米之间").waitFor();
    await rejections.getByText("该儿童在本次体检活动中已有检查记录").waitFor();
    expect(await result.innerText()).toMatch(/已录入\s*1\s*行/);
    expect((await axeSerious(page)).join("\n")).toBe("");
    await shot(page, "checkups-import-desktop");

    await page.goto(`${stack.base}/checkups/${campaignId}?tab=roster`);
    const roster = page.locator("[data-testid=roster]");
    await roster.locator(".ant-table-row", { hasText: "黄小宝" }).getByText("已检").waitFor();
    await roster.locator(".ant-table-row", { hasText: "陈雨桐" }).getByText("待检").waitFor();
    expect((await axeSerious(page)).join("\n")).toBe("");
    await shot(page, "checkups-roster-desktop");
    await page.context().close();

    // The roster and the import on a phone.
    const mobile = await open("changling.doctor", `/checkups/${campaignId}?tab=roster`, phone);
    await mobile.locator("[data-testid=roster]").locator(".ant-table-row", { hasText: "黄小宝" }).waitFor();
    await shot(mobile, "checkups-roster-phone");
    await mobile.goto(`${stack.base}/checkups/${campaignId}?tab=import`);
    await mobile.locator("[data-testid=results-upload]").waitFor();
    await shot(mobile, "checkups-import-phone");
    await mobile.context().close();
  }, 90_000);

  it("findings and follow-ups: the flagged child with 血压偏高, referral for those who may", async () => {
    for (const [who, viewport] of [
      ["desktop", desktop],
      ["phone", phone],
    ] as const) {
      const page = await open("changling.doctor", "/checkups?tab=follow-ups", viewport);
      const list = page.locator("[data-testid=follow-ups]");
      await list.locator(".ant-table-row", { hasText: "刘思远" }).getByText("血压偏高").waitFor();
      if (who === "desktop") {
        expect((await axeSerious(page)).join("\n")).toBe("");
        await page.getByRole("button", { name: "登记转诊 刘思远 血压偏高" }).click();
        await page.getByLabel("转诊医院").fill("县人民医院儿科");
        await clickUntil(page.getByRole("dialog").getByRole("button", { name: /登\s*记/ }), page.getByRole("dialog"), "请选择转诊日期");
        await shot(page, "checkups-referral-dialog-desktop", false);
        await page.keyboard.press("Escape");
      }
      await shot(page, `checkups-follow-ups-${who}`);
      await page.context().close();
    }
  }, 90_000);

  it("a teacher gets no 体检 menu and the API refuses the grid's evaluation; an inspector is refused follow-ups", async () => {
    const page = await open("changling.teacher", "/");
    await page.getByText("工作台").first().waitFor();
    expect(await page.locator(".ant-menu").innerText()).not.toContain("体检");
    await page.context().close();
    const evaluate = await stack.api("changling.teacher", "POST", "/api/v1/exams/evaluate", { childId: ids["刘思远"], date: "2026-12-01" });
    expect(evaluate.status).toBe(403);
    expect((await json(evaluate)).error.message).toBe("当前角色无权录入体检结果");
    expect((await stack.api("county.inspector", "GET", "/api/v1/follow-ups")).status).toBe(403);
    expect((await stack.api("county.inspector", "GET", `/api/v1/campaigns/${campaignId}/roster`)).status).toBe(403);
  }, 60_000);
});

describe.skipIf(!canRunWithVisits || !canRunWithHealth)("关注事项", () => {
  let late = "";
  it("a supervisor sees the cases with their countdown; one past its limit shows 已超时 and 已上报县级, and the overdue filter finds it", async () => {
    const raised = await stack.api("changling.director", "POST", "/api/v1/concerns", {
      childId: ids["刘思远"],
      category: "abuse_suspected",
      description: "手臂有淤青，孩子不愿说明原因",
    });
    expect(raised.status).toBe(201);
    late = (await json(raised)).id;
    // Raised 30 hours ago and escalated by the daily scan (seeded: the scan's own test covers when it escalates).
    const db = new pgLib.Client({ connectionString: `${stack.pgBase}/shouhu_visits` });
    await db.connect();
    await db.query(`UPDATE concerns SET raised_at = now() - interval '30 hours', escalated_at = now() - interval '1 hour' WHERE id = $1`, [late]);
    await db.end();

    for (const [who, viewport] of [
      ["desktop", desktop],
      ["phone", phone],
    ] as const) {
      const page = await open("changling.supervisor", "/concerns", viewport);
      const list = page.locator("[data-testid=concern-list]");
      const row = list.locator(".ant-table-row", { hasText: "刘思远" });
      await row.getByText(/已超时 6小时/).waitFor();
      await row.getByTestId("escalated").waitFor();
      await list
        .locator(".ant-table-row", { hasText: "陈雨桐" })
        .getByText(/剩余 \d+天/)
        .waitFor();
      if (who === "desktop") {
        expect((await axeSerious(page)).join("\n")).toBe("");
        await page.getByRole("combobox", { name: "响应时限" }).click();
        await page.getByTitle("已超时未响应").click();
        await until(
          "overdue filter",
          () => list.locator(".ant-table-row").count(),
          (n) => n === 1,
        );
        expect(await list.innerText()).toContain("刘思远");
      }
      await shot(page, `concerns-list-${who}`);
      await page.context().close();
    }
  }, 90_000);

  it("a village director reports a case on the page: child found by name, category, what was seen", async () => {
    const page = await open("changling.director", "/concerns");
    await page.getByRole("button", { name: "报告关注事项" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("儿童").click();
    await page.keyboard.type("黄小宝");
    const dropdown = page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)");
    await dropdown.getByText(/黄小宝/).click();
    await dialog.getByLabel("类别").click();
    await page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)").getByTitle("安全隐患").click();
    await clickUntil(dialog.getByRole("button", { name: /报\s*告/ }), dialog, "请描述发现的情况");
    await dialog.getByLabel("发现的情况").fill("住房墙体开裂，雨天漏水");
    await shot(page, "concern-raise-dialog-desktop", false);
    await dialog.getByRole("button", { name: /报\s*告/ }).click();
    await page.waitForURL(/\/concerns\/[0-9a-f-]{36}$/);
    await page.getByText("住房墙体开裂，雨天漏水").first().waitFor();
    await page.getByTestId("response-clock").waitFor();
    expect(await page.getByTestId("response-clock").innerText()).toMatch(/^剩余 2[34]小时.*（时限 24 小时）$/);
    expect(await page.locator(".ant-descriptions").innerText()).toContain("安全隐患");
    await page.context().close();
  }, 60_000);

  it("the supervisor opens the case, 受理 with a note, 指派 to the village director; the timeline shows each step", async () => {
    const page = await open("changling.supervisor", `/concerns/${late}`);
    await page.getByText("已超过疑似遭受侵害类事项的响应时限（24 小时），请立即受理").waitFor();
    expect((await axeSerious(page)).join("\n")).toBe("");
    await shot(page, "concern-detail-overdue-desktop");

    await page.getByRole("button", { name: /^受\s*理$/ }).click();
    await clickUntil(page.getByRole("dialog").getByRole("button", { name: /保\s*存/ }), page.getByRole("dialog"), "请填写处理情况");
    await page.getByLabel("处理情况").fill("已电话联系村委核实，今天上门");
    await page
      .getByRole("dialog")
      .getByRole("button", { name: /保\s*存/ })
      .click();
    const timeline = page.getByTestId("concern-timeline");
    await timeline.getByText(/已受理：已电话联系村委核实/).waitFor();
    await page
      .getByTestId("response-clock")
      .getByText(/超时响应/)
      .waitFor();

    await page.getByRole("button", { name: /^指\s*派$/ }).click();
    await page.getByLabel("处理人姓名").fill("李桂兰");
    await page.getByLabel("处理人登录账号").fill("李 桂兰");
    await page
      .getByRole("dialog")
      .getByRole("button", { name: /保\s*存/ })
      .click();
    // The API's own message, on the field.
    await page.getByText("登录账号只能包含字母、数字和 . _ @ -").waitFor();
    await page.getByLabel("处理人登录账号").fill("changling.director");
    await page
      .getByRole("dialog")
      .getByRole("button", { name: /保\s*存/ })
      .click();
    await timeline.getByText("指派给 李桂兰（changling.director）").waitFor();
    await page.getByText("changling.director", { exact: true }).waitFor();
    expect((await axeSerious(page)).join("\n")).toBe("");
    await shot(page, "concern-detail-desktop");
    await page.context().close();

    const mobile = await open("changling.supervisor", `/concerns/${late}`, phone);
    await mobile.getByTestId("concern-timeline").waitFor();
    await shot(mobile, "concern-detail-phone");
    await mobile.context().close();
  }, 90_000);

  it("the village director works and closes the case (no 指派 button); an inspector gets no menu and the API refuses the work", async () => {
    const page = await open("changling.director", `/concerns/${late}`);
    const actions = page.getByTestId("concern-actions");
    await actions.getByRole("button", { name: /^结\s*案$/ }).waitFor();
    expect(await actions.getByRole("button", { name: /^指\s*派$/ }).count()).toBe(0);
    await actions.getByRole("button", { name: /^结\s*案$/ }).click();
    await page.getByLabel("处理结果").fill("已报告派出所并转介妇联，孩子由祖母照顾");
    await page
      .getByRole("dialog")
      .getByRole("button", { name: /保\s*存/ })
      .click();
    await page.getByText("已解决", { exact: true }).first().waitFor();
    await page.getByText("已报告派出所并转介妇联，孩子由祖母照顾").first().waitFor();
    await page.context().close();

    const inspector = await open("county.inspector", "/");
    await inspector.getByText("工作台").first().waitFor();
    expect(await inspector.locator(".ant-menu").innerText()).not.toContain("关注事项");
    await inspector.context().close();
    const work = await stack.api("county.inspector", "POST", `/api/v1/concerns/${late}/updates`, { note: "x" });
    expect(work.status).toBe(403);
    const assign = await stack.api("changling.director", "POST", `/api/v1/concerns/${late}/assign`, { username: "a", name: "b" });
    expect(assign.status).toBe(403);
    expect((await json(assign)).error.message).toBe("当前角色无权指派关注事项");
  }, 90_000);
});
