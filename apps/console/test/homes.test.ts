import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import sharp from "sharp";
import { childBody } from "../../../services/registry/test/harness.js";
import { axeSerious, canRunWithActivities, shot, startStack, type Stack } from "./stack.js";

/**
 * 儿童之家 and 安全教育 through the real gateway, registry, activities and dev issuer. Children
 * registered in 长岭村 reach activities by their events; the village director sets up the
 * village's home (API), records a session on a phone with attendance ticked, and the site
 * page shows it with the counts; a township campaign (防溺水) shows who is not reached and
 * the director records two children reached; reporting counts the session per township, kind and
 * month (shown under the list). Roles without the pages get no menu entry.
 */
let stack: Stack;
const desktop = { width: 1440, height: 900 };
const phone = { width: 390, height: 844 };
const ids: Record<string, string> = {};
let siteId = "";
let campaignId = "";
const json = async (res: Response) => (await res.json()) as any;

beforeAll(async () => {
  if (!canRunWithActivities) return;
  stack = await startStack({ activities: true, reporting: true });
  for (const [i, c] of [
    { name: "刘思远", birthDate: "2016-03-15", sex: "male" },
    { name: "陈雨桐", birthDate: "2015-08-02", sex: "female" },
    { name: "黄小宝", birthDate: "2017-05-20", sex: "male" },
  ].entries()) {
    const res = await stack.api("county.admin", "POST", "/api/v1/children", childBody({ seq: 90 + i, ...c }));
    if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
    ids[c.name] = (await json(res)).id;
  }
  await stack.until(
    "children reach activities",
    async () => (await json(await stack.api("changling.director", "GET", "/api/v1/sites/candidates?orgUnit=360999101201"))).items?.length,
    (n) => n === 3,
    { ms: 60_000 },
  );
  const site = await stack.api("changling.director", "POST", "/api/v1/sites", {
    kind: "village",
    orgUnit: "360999101201",
    name: "长岭村留守儿童之家",
    room: "村委会二楼活动室",
    equipment: ["电脑", "亲情电话", "图书"],
    openingHours: "周六、周日 9:00–17:00",
    adults: [{ name: "张主任", duty: "管理员", phone: "13907300201" }],
    rules: ["心理咨询", "健康教育", "代理家长"],
    plan: "2026–2028年：每月不少于4次活动。",
    childIds: Object.values(ids),
  });
  if (site.status !== 201) throw new Error(`site: ${site.status} ${await site.text()}`);
  siteId = (await json(site)).id;
  const campaign = await stack.api("changling.supervisor", "POST", "/api/v1/safety-campaigns", {
    title: "2027年暑期防溺水专题教育",
    topic: "防溺水",
    orgUnit: "360999101",
    deadline: "2027-07-01",
  });
  if (campaign.status !== 201) throw new Error(`campaign: ${campaign.status} ${await campaign.text()}`);
  campaignId = (await json(campaign)).id;
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

const open = (username: string, path: string, viewport = desktop): Promise<Page> => stack.open(username, path, viewport);

describe.skipIf(!canRunWithActivities)("儿童之家", () => {
  it("records a session on a phone with attendance; the site page shows it with counts (desktop and phone)", async () => {
    const page = await open("changling.director", `/homes/${siteId}/session`, phone);
    await page.getByText("登记活动 · 长岭村留守儿童之家").waitFor();
    await page.getByRole("button", { name: /保\s*存/ }).click();
    await page.getByText("请填写活动情况").waitFor();
    await page.getByText("安全教育", { exact: true }).click();
    await page.getByRole("checkbox", { name: "刘思远" }).check();
    await page.getByRole("checkbox", { name: "陈雨桐" }).check();
    await page.getByLabel("活动情况（文字记录）").fill("防溺水安全教育：观看视频，讲解“六不”，每人复述一遍。");
    await shot(page, "homes-session-phone");
    await page.getByRole("button", { name: /保\s*存/ }).click();
    await page.locator("[data-testid=sessions]").getByText("签到：刘思远、陈雨桐").waitFor();
    await page.locator("[data-testid=site-stats]").getByText("安全教育").waitFor();
    // 每次活动均有照片: a photo taken on the phone goes under the session, as a thumbnail.
    const photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: "#5a8" } })
      .jpeg()
      .toBuffer();
    await page.getByTestId("session-photo-input").first().setInputFiles({ name: "防溺水.jpg", mimeType: "image/jpeg", buffer: photo });
    await page.getByTestId("session-photos").first().getByRole("button", { name: "下载 防溺水.jpg" }).waitFor();
    await shot(page, "homes-site-phone");
    await page.context().close();

    const desk = await open("changling.director", `/homes/${siteId}`, desktop);
    await desk.locator("[data-testid=sessions]").getByText("防溺水安全教育", { exact: false }).waitFor();
    expect((await axeSerious(desk)).join("\n")).toBe("");
    await shot(desk, "homes-site-desktop");
    // activity.recorded reaches reporting: counted per township, kind and month under the list.
    await stack.until(
      "the session reaches reporting",
      async () => (await json(await stack.api("changling.director", "GET", "/api/v1/reports/activities"))).rows?.length,
      (n) => n === 1,
      { ms: 60_000 },
    );
    await desk.getByRole("menuitem", { name: "儿童之家" }).click();
    await desk.locator("[data-testid=sites]").getByText("长岭村留守儿童之家").waitFor();
    await desk.locator("[data-testid=activity-stats]").getByText("长岭乡").waitFor();
    await shot(desk, "homes-list-desktop");
    await desk.context().close();

    const form = await open("changling.director", "/homes/new", phone);
    await form.getByRole("checkbox", { name: /黄小宝/ }).waitFor();
    await shot(form, "homes-new-phone");
    await form.context().close();
  }, 120_000);

  it("a campaign page shows who is not reached; the village director records two children (desktop and phone)", async () => {
    const page = await open("changling.director", `/safety/${campaignId}`, desktop);
    const list = page.locator("[data-testid=safety-children]");
    await list.getByText("黄小宝").waitFor();
    await page.getByLabel("选择 刘思远").check();
    await page.getByLabel("选择 陈雨桐").check();
    await page.getByRole("button", { name: /登记已完成（2）/ }).click();
    await page.locator("[data-testid=safety-total]").getByText("未覆盖", { exact: false }).waitFor();
    await stack.until(
      "two reached",
      async () => (await list.getByRole("row").count()) - 1,
      (n) => n === 1,
    );
    expect((await axeSerious(page)).join("\n")).toBe("");
    await shot(page, "safety-progress-desktop");
    await page.context().close();

    const ph = await open("changling.supervisor", "/safety", phone);
    await ph.locator("[data-testid=safety-campaigns]").getByText("2/3 名儿童").waitFor();
    await shot(ph, "safety-list-phone");
    await ph.context().close();
  }, 90_000);

  it("health workers have neither page in the menu, and the API refuses them", async () => {
    const page = await open("changling.doctor", "/", desktop);
    await page.getByRole("menu").first().waitFor();
    expect(await page.getByRole("menuitem", { name: "儿童之家" }).count()).toBe(0);
    expect(await page.getByRole("menuitem", { name: "安全教育" }).count()).toBe(0);
    await page.context().close();
    expect((await stack.api("changling.doctor", "GET", "/api/v1/sites")).status).toBe(403);
    expect((await stack.api("changling.doctor", "GET", "/api/v1/safety-campaigns")).status).toBe(403);
  }, 60_000);
});
