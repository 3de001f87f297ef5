import { afterAll, beforeAll, describe, expect, it } from "vitest";
import dayjs from "dayjs";
import { childBody } from "../../../services/registry/test/harness.js";
import { axeSerious, canRunWithActivities, canRunWithHealth, canRunWithVisits, clickUntil, shot, startStack, type Stack } from "./stack.js";

/**
 * 成长档案 on a child's page through the real registry, visits and health: two check-ups drawn
 * against the WS/T curves, a visit, and an award a supervisor records; a teacher not paired with
 * the child does not read it.
 */
let stack: Stack;
const canRunHere = canRunWithVisits && canRunWithHealth && canRunWithActivities;
let childId = "";
const desktop = { width: 1440, height: 900 };
const phone = { width: 390, height: 844 };
const json = async (res: Response) => (await res.json()) as any;
const day = (n: number) => dayjs().subtract(n, "day").format("YYYY-MM-DD");

beforeAll(async () => {
  if (!canRunHere) return;
  stack = await startStack({ visits: true, health: true, activities: true });
  const res = await stack.api("county.admin", "POST", "/api/v1/children", childBody({ seq: 90, name: "周小满", birthDate: "2015-03-07" }));
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  childId = (await json(res)).id;
  // One check-up per child and campaign: a spring and an autumn one.
  for (const [start, end, date, heightCm, weightKg] of [
    [200, 150, 180, 138, 31],
    [30, 0, 5, 141.5, 34],
  ] as const) {
    const campaign = await stack.api("changling.doctor", "POST", "/api/v1/campaigns", {
      name: `儿童体检${start}`,
      orgUnits: ["360999101"],
      startDate: day(start),
      endDate: day(end),
      provider: "长岭乡卫生院",
    });
    if (campaign.status !== 201) throw new Error(`campaign: ${campaign.status} ${await campaign.text()}`);
    const campaignId = (await json(campaign)).id;
    await stack.until(
      "an exam is recorded once the child reaches health",
      async () =>
        (await stack.api("changling.doctor", "POST", "/api/v1/exams", { childId, campaignId, date: day(date), examiner: "李医生", heightCm, weightKg })).status,
      (s) => s === 201,
      { ms: 60_000 },
    );
  }
  await stack.until(
    "a visit is recorded once the child reaches visits",
    async () => (await stack.api("changling.director", "POST", "/api/v1/visit-records", { childId, kind: "home_visit", date: day(2) })).status,
    (s) => s === 201,
    { ms: 60_000 },
  );
  // A session at the village's children's home that the child attended.
  const site = await stack.until(
    "a children's home serves the child once the child reaches activities",
    async () =>
      stack.api("changling.director", "POST", "/api/v1/sites", { kind: "village", orgUnit: "360999101201", name: "长岭村留守儿童之家", childIds: [childId] }),
    (r) => r.status === 201,
    { ms: 60_000 },
  );
  const siteId = (await json(site)).id;
  const session = await stack.api("changling.director", "POST", `/api/v1/sites/${siteId}/sessions`, {
    date: day(3),
    kind: "safety",
    leader: "张主任",
    summary: "防溺水安全教育",
    attendance: [childId],
  });
  if (session.status !== 201) throw new Error(`session: ${session.status} ${await session.text()}`);
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

describe.skipIf(!canRunHere)("成长档案", () => {
  it("shows visits, check-ups on the WS/T curves and awards in one timeline; a supervisor records an award", async () => {
    const page = await stack.open("changling.supervisor", `/children/${childId}`, desktop);
    await page.getByRole("tab", { name: "成长档案" }).click();
    const file = page.getByTestId("growth-file");
    await expect.poll(() => file.getByTestId("growth-item").count()).toBe(4);
    expect(await file.textContent()).toContain("长岭村留守儿童之家 · 安全教育");
    // The charts wait for the reference curves as well as the check-ups: they may come after the timeline.
    for (const chart of ["growth-height", "growth-bmi"]) await expect.poll(() => file.getByTestId(chart).locator("canvas").count(), { message: chart }).toBe(1);
    expect(await file.getByTestId("growth-height").getAttribute("aria-label")).toContain("141.5厘米");

    await file.getByRole("button", { name: /记一笔/ }).click();
    const dialog = page.getByRole("dialog");
    await clickUntil(dialog.getByRole("button", { name: /保\s*存/ }), dialog, "请填写标题");
    await dialog.getByLabel("标题").fill("县小学生作文比赛二等奖");
    await dialog.getByLabel("内容").fill("作文《我的爷爷》");
    await dialog.getByRole("button", { name: /保\s*存/ }).click();
    await expect.poll(() => file.textContent()).toContain("县小学生作文比赛二等奖");
    expect(await file.getByTestId("growth-item").first().textContent()).toContain("获奖");
    await shot(page, "growth-file-desktop");
    expect((await axeSerious(page)).join("\n")).toBe("");
    await page.context().close();

    // On a phone the tabs scroll; the address opens the 成长档案 directly.
    const small = await stack.open("changling.supervisor", `/children/${childId}?tab=growth`, phone);
    await expect.poll(() => small.getByTestId("growth-item").count()).toBe(5);
    await shot(small, "growth-file-phone");
    await small.context().close();
  }, 120_000);

  it("a teacher not paired with the child sees the timeline without the supervisor's award", async () => {
    const entries = await json(await stack.api("changling.teacher", "GET", `/api/v1/children/${childId}/growth-entries`));
    expect(entries.items).toEqual([]);
    const page = await stack.open("changling.teacher", `/children/${childId}`, desktop);
    await page.getByRole("tab", { name: "成长档案" }).click();
    const file = page.getByTestId("growth-file");
    await file.getByRole("button", { name: /记一笔/ }).waitFor();
    await expect.poll(() => file.textContent()).not.toContain("作文比赛");
    await page.context().close();
  }, 60_000);
});
