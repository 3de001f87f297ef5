import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { childBody } from "../../../services/registry/test/harness.js";
import { axeSerious, canRunWithNotifications, canRunWithPairing, shot, startStack, type Stack } from "./stack.js";

/**
 * 结对帮扶 and the 工作台's to-dos through the real gateway, registry, pairing service
 * and dev issuer: children registered in 长岭村 reach the pairing service by their
 * events, the optimiser proposes helpers, and a township supervisor approves and
 * rejects on the page — one by one and in bulk. A village director sees the proposals
 * without the buttons; an inspector sees helpers without their phones.
 */
let stack: Stack;
const VILLAGE = "360999101201";
const NEIGHBOUR = "360999101202";
const desktop = { width: 1440, height: 900 };
const phone = { width: 390, height: 844 };

interface Proposal {
  id: string;
  status: string;
  decisionNote: string | null;
  child: { name: string };
  helper: { name: string };
}
const proposals = async (status = "proposed") =>
  ((await (await stack.api("changling.supervisor", "GET", `/api/v1/pairings?status=${status}&limit=100`)).json()) as { items: Proposal[] }).items;
const summary = async () =>
  (await (await stack.api("changling.supervisor", "GET", "/api/v1/unpaired-children/summary")).json()) as {
    totals: { children: number; paired: number; proposed: number; unmatched: number };
  };

const until = <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000) => stack.until(what, read, ok, { ms });

beforeAll(async () => {
  if (!canRunWithPairing || !canRunWithNotifications) return;
  stack = await startStack({ pairing: true, notifications: true });
  const names = ["周小雨", "吴浩然", "郑佳怡", "孙子轩", "钱梦琪", "冯一鸣"];
  for (let i = 0; i < names.length; i++) {
    const body = childBody({ seq: 40 + i, name: names[i], birthDate: `201${4 + (i % 3)}-0${i + 1}-15`, riskLevel: i === 0 ? "high" : "medium" });
    const res = await stack.api("county.admin", "POST", "/api/v1/children", body);
    if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  }
  // Five places for six children: one stays unmatched (the village needs another helper).
  const helpers = [
    { kind: "proxy_parent", name: "刘桂英", phone: "13907316661", orgUnitCode: VILLAGE, capacity: 2, sex: "female", birthDate: "1978-04-02" },
    { kind: "volunteer", name: "陈建华", phone: "13907316662", orgUnitCode: NEIGHBOUR, capacity: 3, sex: "male", birthDate: "1990-09-20" },
  ];
  for (const h of helpers) {
    const res = await stack.api("changling.supervisor", "POST", "/api/v1/helpers", h);
    if (res.status !== 201) throw new Error(`helper: ${res.status} ${await res.text()}`);
  }
  await until("children reach the pairing service", summary, (s) => s.totals?.children === 6);
  const run = await stack.api("changling.supervisor", "POST", "/api/v1/pairing-runs", { orgUnit: "360999101" });
  if (run.status !== 201) throw new Error(`run: ${run.status} ${await run.text()}`);
  await until("proposals", summary, (s) => s.totals.proposed === 5 && s.totals.unmatched === 1);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

const open = (username: string, path: string, viewport = desktop): Promise<Page> => stack.open(username, path, viewport);

describe.skipIf(!canRunWithPairing || !canRunWithNotifications)("结对帮扶", () => {
  it("工作台 lists the supervisor's to-dos with the counts the APIs give", async () => {
    for (const [who, viewport] of [
      ["desktop", desktop],
      ["phone", phone],
    ] as const) {
      const page = await open("changling.supervisor", "/", viewport);
      const todo = page.getByTestId("todo-proposals");
      await todo.locator(".ant-badge-count").filter({ hasText: "5" }).waitFor();
      await page.getByTestId("todo-unmatched").locator(".ant-badge-count").filter({ hasText: "1" }).waitFor();
      await page.getByTestId("count-active").getByText("6").waitFor();
      if (who === "desktop") expect((await axeSerious(page)).join("\n")).toBe("");
      await shot(page, `workbench-${who}`);
      await page.context().close();
    }
  }, 90_000);

  it("shows each proposal with proximity and age gap; approves one, rejects two with a reason, approves the rest in bulk", async () => {
    const page = await open("changling.supervisor", "/pairing");
    const rows = page.locator("[data-testid=proposals] .ant-table-row");
    await until(
      "five rows",
      () => rows.count(),
      (n) => n === 5,
    );
    expect(await page.locator("[data-testid=proposals]").innerText()).toMatch(/同村[\s\S]*岁/);
    expect((await axeSerious(page)).join("\n")).toBe("");
    await shot(page, "pairing-proposals-desktop");

    const [first, second, third] = await proposals();
    await page.getByRole("button", { name: `通过 ${first!.child.name}` }).click();
    await page.getByText("已通过 1 条").waitFor();

    for (const p of [second!, third!]) await page.locator(".ant-table-row", { hasText: p.child.name }).locator("input[type=checkbox]").check();
    await page.getByRole("button", { name: "批量驳回" }).click();
    await page.getByLabel("驳回原因").fill("帮扶人春节后外出务工");
    await shot(page, "pairing-reject-dialog-desktop", false);
    await page
      .getByRole("dialog")
      .getByRole("button", { name: /^驳\s*回$/ })
      .click();
    await page.getByText("已驳回 2 条").waitFor();

    const rejected = await proposals("rejected");
    expect(rejected.map((p) => p.id).sort()).toEqual([second!.id, third!.id].sort());
    expect(rejected.every((p) => p.decisionNote === "帮扶人春节后外出务工")).toBe(true);
    expect((await proposals("active")).map((p) => p.id)).toEqual([first!.id]);

    // Whatever is still proposed (the two left, and any re-match of the rejected children) in one go.
    const left = await proposals();
    await page.reload();
    // A rejected child may meanwhile get a new proposal: at least what was left is shown.
    await until(
      "rows of what is left",
      () => rows.count(),
      (n) => n >= left.length,
    );
    await page.locator("[data-testid=proposals] .ant-table-thead input[type=checkbox]").check();
    await page.getByRole("button", { name: "批量通过" }).click();
    await page.getByText(/已通过 \d+ 条/).waitFor();
    const after = await proposals("active");
    for (const p of left) {
      const decided = after.some((a) => a.id === p.id) || !(await proposals()).some((q) => q.id === p.id);
      expect(decided, `${p.child.name} decided`).toBe(true);
    }
    // The registry learns of each approval by its event: 儿童档案 filtered 已结对 lists exactly the paired children.
    const active = (await proposals("active")).map((p) => p.child.name).sort();
    const viaApi = async () =>
      ((await (await stack.api("changling.supervisor", "GET", "/api/v1/children?paired=true&limit=200")).json()) as { items: { name: string }[] }).items
        .map((c) => c.name)
        .sort();
    await until("the registry knows the pairings", viaApi, (names) => JSON.stringify(names) === JSON.stringify(active));
    await page.goto(`${stack.base}/children?paired=true`);
    await page.locator("[data-testid=children-table] .ant-table-row").first().waitFor();
    const listed = await page.locator("[data-testid=children-table] .ant-table-row td:first-child").allInnerTexts();
    expect(listed.sort()).toEqual(active);
    await page.context().close();
  }, 90_000);

  it("帮扶人 shows each helper's load; 未结对儿童 opens a village to its children", async () => {
    const page = await open("changling.supervisor", "/pairing?tab=helpers");
    const row = page.locator("[data-testid=helpers] .ant-table-row", { hasText: "刘桂英" });
    await row.waitFor();
    expect(await row.innerText()).toMatch(/13907316661[\s\S]*结对 \d · 待审批 \d · 上限 2/);
    await shot(page, "pairing-helpers-desktop");
    await page.getByRole("tab", { name: "未结对儿童" }).click();
    const village = page.locator("[data-testid=unpaired] .ant-table-row").first();
    await village.waitFor();
    await village.click();
    await page.locator(".ant-table-expanded-row .ant-list-item").first().waitFor();
    expect(await page.locator(".ant-table-expanded-row").innerText()).toMatch(/未能匹配|待审批/);
    expect((await axeSerious(page)).join("\n")).toBe("");
    await shot(page, "pairing-unpaired-desktop");
    await page.context().close();
  }, 90_000);

  it("on a phone the proposals are a list and every tab fits the screen", async () => {
    const page = await open("changling.supervisor", "/pairing?tab=helpers", phone);
    await page.locator("[data-testid=helpers] .ant-table-row").first().waitFor();
    await shot(page, "pairing-helpers-phone");
    await page.getByRole("tab", { name: "未结对儿童" }).click();
    await page.locator("[data-testid=unpaired] .ant-statistic").first().waitFor();
    await shot(page, "pairing-unpaired-phone");
    await page.getByRole("tab", { name: "待审批建议" }).click();
    await page.locator("[data-testid=proposals]").waitFor();
    await shot(page, "pairing-proposals-phone");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.context().close();
  }, 90_000);

  it("a village director sees proposals without the buttons; an inspector sees helpers without phones", async () => {
    const director = await open("changling.director", "/pairing");
    await director.getByText("结对建议由乡镇儿童督导员或县级管理员审批").waitFor();
    expect(await director.getByRole("button", { name: /^通过/ }).count()).toBe(0);
    expect(await director.getByRole("button", { name: "批量通过" }).count()).toBe(0);
    await director.context().close();

    const inspector = await open("county.inspector", "/pairing?tab=helpers");
    const row = inspector.locator("[data-testid=helpers] .ant-table-row", { hasText: "刘桂英" });
    await row.waitFor();
    expect(await row.innerText()).toContain("无权查看");
    expect(await inspector.locator("[data-testid=helpers]").innerText()).not.toContain("13907316661");
    await inspector.context().close();
  }, 90_000);
});
