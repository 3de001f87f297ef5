import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pgLib from "pg";
import type { BrowserContext, Page } from "playwright-core";
import { childBody } from "../../../services/registry/test/harness.js";
import { axeSerious, canRunWithVisits, shot, shots, signIn, startStack, type Stack } from "./stack.js";

/**
 * Issue 18 parts 1 and 2 through the real gateway, registry, visits service and dev issuer,
 * in Chromium: a village director opens 我的走访 on a phone (overdue in red, with days),
 * loses the network, records a visit — "1 条待同步" — reloads the page offline (the service
 * worker serves the app, IndexedDB the caseload and the queue), gets the network back and
 * the record is stored once; the same queued record sent again stores nothing new; a
 * record for a child who left the programme meanwhile comes back with the reason and
 * stays until read; signing out deletes the device's offline data.
 */
let stack: Stack;
const desktop = { width: 1440, height: 900 };
const phone = { width: 390, height: 844 };
const ids: Record<string, string> = {};

const until = <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000) => stack.until(what, read, ok, { ms });

const json = async <T>(res: Response) => (await res.json()) as T;
const records = async (childId: string) =>
  (await json<{ items: { id: string; kind: string }[] }>(await stack.api("changling.director", "GET", `/api/v1/visit-records?childId=${childId}`))).items;
const openItems = async (childId: string) =>
  (await json<{ items: { kind: string }[] }>(await stack.api("changling.director", "GET", `/api/v1/visit-items?childId=${childId}&view=open`))).items ?? [];

beforeAll(async () => {
  if (!canRunWithVisits) return;
  stack = await startStack({ visits: true });
  const names = ["周小雨", "吴浩然", "郑佳怡"];
  for (let i = 0; i < names.length; i++) {
    const res = await stack.api("county.admin", "POST", "/api/v1/children", childBody({ seq: 60 + i, name: names[i], birthDate: `201${4 + i}-0${i + 1}-15` }));
    if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
    ids[names[i]!] = (await json<{ id: string }>(res)).id;
  }
  for (const id of Object.values(ids))
    await until(
      "items in the visits service",
      () => openItems(id),
      (items) => items.length > 0,
    );
  // Two visits already late: the call with 周小雨's parents by 3 days, 吴浩然's home visit by 12.
  const pg = new pgLib.Client({ connectionString: `${stack.pgBase}/shouhu_visits` });
  await pg.connect();
  await pg.query(`UPDATE due_items SET due_date = (now() AT TIME ZONE 'Asia/Shanghai')::date - 3 WHERE child_id = $1 AND kind = 'parent_call'`, [
    ids["周小雨"],
  ]);
  await pg.query(`UPDATE due_items SET due_date = (now() AT TIME ZONE 'Asia/Shanghai')::date - 12 WHERE child_id = $1 AND kind = 'home_visit'`, [
    ids["吴浩然"],
  ]);
  await pg.query(`UPDATE due_items SET due_date = (now() AT TIME ZONE 'Asia/Shanghai')::date + 3 WHERE child_id = $1 AND kind = 'home_visit'`, [ids["郑佳怡"]]);
  await pg.end();
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

async function open(username: string, path: string, viewport = phone): Promise<{ ctx: BrowserContext; page: Page }> {
  const ctx = await stack.browser.newContext({ viewport, locale: "zh-CN" });
  const page = await ctx.newPage();
  await signIn(page, stack.base, username, path);
  return { ctx, page };
}

/** Toasts (已同步 …) gone: antd keeps one open while the pointer rests on it, over the header's buttons. */
async function noToast(page: Page) {
  await page.mouse.move(200, 800);
  await page
    .locator(".ant-message-notice")
    .first()
    .waitFor({ state: "detached", timeout: 10_000 })
    .catch(() => undefined);
}

/** The queue as stored in IndexedDB (read without the app's code). */
const queueOf = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<{ id: string; status: string; body: Record<string, unknown>; message?: string }[]>((resolve, reject) => {
        const req = indexedDB.open("shouhu-offline");
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const all = req.result.transaction("queue").objectStore("queue").getAll();
          all.onsuccess = () => {
            req.result.close();
            resolve(all.result);
          };
        };
      }),
  );

describe.skipIf(!canRunWithVisits)("走访 on a phone, offline", () => {
  it("serves the service worker and the manifest at the root with the right types, sw.js never long-cached", async () => {
    const sw = await fetch(`${stack.base}/sw.js`);
    expect(sw.status).toBe(200);
    expect(sw.headers.get("content-type")).toMatch(/javascript/);
    expect(sw.headers.get("cache-control")).toBe("no-cache");
    const manifest = await fetch(`${stack.base}/manifest.webmanifest`);
    expect(manifest.headers.get("content-type")).toMatch(/application\/manifest\+json/);
    const m = (await manifest.json()) as { start_url: string; display: string; icons: { sizes: string }[] };
    expect(m).toMatchObject({ start_url: "/visits", display: "standalone" });
    expect(m.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(["192x192", "512x512"]));
    const index = await (await fetch(`${stack.base}/visits`)).text();
    expect(index).toContain('rel="manifest"');
  });

  it("records two visits offline (one after an offline reload), syncs each once; a replay stores nothing new; sign-out wipes the device", async () => {
    const { ctx, page } = await open("changling.director", "/visits");
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    const overdue = page.getByTestId("overdue-item");
    await overdue.filter({ hasText: "周小雨 · 与父母通话" }).getByText("已逾期 3 天").waitFor();
    await overdue.filter({ hasText: "吴浩然 · 家访" }).getByText("已逾期 12 天").waitFor();
    await page.getByTestId("due-item").filter({ hasText: "郑佳怡 · 家访" }).waitFor();
    // Overdue first, most overdue on top, in red.
    expect(await overdue.first().innerText()).toContain("吴浩然");
    expect(
      await overdue
        .first()
        .locator("span", { hasText: "已逾期" })
        .evaluate((e) => getComputedStyle(e).color),
    ).toBe("rgb(207, 19, 34)");
    expect((await axeSerious(page)).join("\n")).toBe("");
    await shot(page, "visits-mine-phone");
    // The page is controlled by the service worker before the network goes.
    await until("controlled", () => page.evaluate(() => Boolean(navigator.serviceWorker.controller)), Boolean, 15_000).catch(async () => {
      await page.reload();
      await overdue.first().waitFor();
    });

    await ctx.setOffline(true);
    await overdue
      .filter({ hasText: "周小雨" })
      .getByRole("button", { name: /^登\s*记$/ })
      .click();
    await page.getByRole("heading", { name: "走访记录" }).waitFor();
    await page.getByText("当前离线：保存后记录留在本机").waitFor();
    // A 亲情电话: who spoke and whether it got through (issue 22.3), then how it went.
    await page.getByText("母亲", { exact: true }).click();
    await page.getByText("已接通", { exact: true }).click();
    await page.getByLabel("生活情况").fill("祖父照料，饮食正常");
    await page.getByLabel("聊了什么、孩子的情绪").fill("想念妈妈，情绪稳定");
    await shot(page, "visits-form-offline-phone");
    await page.getByRole("button", { name: /保\s*存/ }).click();
    await page.getByTestId("pending-count").filter({ hasText: "1 条待同步" }).waitFor();
    const [queued] = await queueOf(page);
    expect(queued).toMatchObject({ status: "pending", body: { childId: ids["周小雨"], kind: "parent_call", call: { with: ["mother"], connected: true } } });
    // A UUIDv7 made on the phone: the API lists records by id, newest first.
    expect(queued!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(Math.abs(parseInt(queued!.id.replace(/-/g, "").slice(0, 12), 16) - Date.now())).toBeLessThan(120_000);

    // Offline reload: the service worker serves the app, IndexedDB the caseload and the queue.
    await page.reload();
    await page.getByTestId("offline-caseload").waitFor();
    await page.getByTestId("pending-count").filter({ hasText: "1 条待同步" }).waitFor();
    await overdue.filter({ hasText: "吴浩然" }).waitFor();
    await page.getByTestId("sync-indicator").click();
    await page.getByTestId("sync-panel").getByText("周小雨 · 与父母通话").waitFor();
    await shot(page, "visits-offline-queue-phone", false);
    await page.keyboard.press("Escape");
    expect(await records(ids["周小雨"]!)).toEqual([]);

    // A second visit after the offline reload, still offline: a talk with 周小雨 from her line in 我的儿童.
    await page.getByText(/^我的儿童/).click();
    await page
      .getByTestId("caseload-child")
      .filter({ hasText: "周小雨" })
      .getByRole("button", { name: /^登\s*记$/ })
      .click();
    await page.getByRole("heading", { name: "走访记录" }).waitFor();
    await page.getByText("谈心", { exact: true }).click();
    await page.getByLabel("情绪心理").fill("愿意说学校里的事");
    await page.getByRole("button", { name: /保\s*存/ }).click();
    await page.getByTestId("pending-count").filter({ hasText: "2 条待同步" }).waitFor();
    const queue = await queueOf(page);
    expect(queue.map((q) => q.body.kind).sort()).toEqual(["parent_call", "talk"]);

    // Back online: both synced by themselves, each stored once, under the phone's ids.
    await ctx.setOffline(false);
    await page.getByTestId("pending-count").waitFor({ state: "detached", timeout: 30_000 });
    await until(
      "two records",
      () => records(ids["周小雨"]!),
      (r) => r.length === 2,
    );
    expect((await records(ids["周小雨"]!)).map((r) => r.id).sort()).toEqual(queue.map((q) => q.id).sort());

    // The same queue again (answers lost on the way back): the server has both, nothing new.
    await page.evaluate(
      (entries) =>
        new Promise<void>((resolve) => {
          const req = indexedDB.open("shouhu-offline");
          req.onsuccess = () => {
            const tx = req.result.transaction("queue", "readwrite");
            for (const entry of entries) tx.objectStore("queue").put(entry);
            tx.oncomplete = () => {
              req.result.close();
              window.dispatchEvent(new Event("shouhu:offline-changed"));
              resolve();
            };
          };
        }),
      queue.map((q) => ({ ...q, status: "pending" })),
    );
    await page.getByTestId("pending-count").filter({ hasText: "2 条待同步" }).waitFor();
    await noToast(page);
    await page.getByTestId("sync-indicator").click();
    await page.getByTestId("sync-panel").getByRole("button", { name: "立即同步" }).click();
    await page.getByTestId("sync-panel").getByText("服务器已有这条记录，未重复登记").first().waitFor();
    await shot(page, "visits-sync-results-phone", false);
    await page.keyboard.press("Escape");
    expect(await records(ids["周小雨"]!)).toHaveLength(2);
    expect(await queueOf(page)).toEqual([]);
    // And straight to the API: 200, the stored record, replayed.
    const again = await stack.api("changling.director", "POST", "/api/v1/visit-records", queued!.body);
    expect(again.status).toBe(200);
    expect(await json<{ id: string; replayed: boolean }>(again)).toMatchObject({ id: queued!.id, replayed: true });

    // History of the child on the phone.
    await page.goto(`${stack.base}/visits/child/${ids["周小雨"]}`);
    await page.getByTestId("visit-record").filter({ hasText: "与父母通话" }).getByText("祖父照料，饮食正常").waitFor();
    expect((await axeSerious(page)).join("\n")).toBe("");
    await shot(page, "visits-child-history-phone");

    // Sign-out deletes the offline store.
    expect(await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name))).toContain("shouhu-offline");
    await page.getByTestId("current-user").click();
    await page.getByRole("menuitem", { name: "退出登录" }).click();
    await page.waitForSelector("#kc-login", { timeout: 30_000 });
    await page.goto(`${stack.base}/favicon.svg`);
    expect(await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name))).not.toContain("shouhu-offline");
    await ctx.close();
  }, 180_000);

  it("a child who left the programme while the record waited: the reason is shown and the record kept until read; the cache expires after 7 days", async () => {
    const { ctx, page } = await open("changling.director", "/visits");
    await page.getByTestId("due-item").filter({ hasText: "郑佳怡" }).waitFor();
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await ctx.setOffline(true);
    await page
      .getByTestId("due-item")
      .filter({ hasText: "郑佳怡" })
      .getByRole("button", { name: /^登\s*记$/ })
      .click();
    await page.getByLabel("儿童本人").check();
    await page.getByRole("button", { name: /保\s*存/ }).click();
    await page.getByTestId("pending-count").filter({ hasText: "1 条待同步" }).waitFor();

    // Meanwhile the township exits the child (she moved away).
    const exit = await stack.api("changling.supervisor", "POST", `/api/v1/children/${ids["郑佳怡"]}/status`, { status: "exited", reason: "moved_away" });
    expect(exit.status, await exit.clone().text()).toBe(200);
    await until(
      "the visits service knows",
      () => openItems(ids["郑佳怡"]!),
      (items) => items.length === 0,
    );

    await ctx.setOffline(false);
    await page.getByTestId("pending-count").waitFor({ state: "detached", timeout: 30_000 });
    // The panel opens by itself with the reason.
    const conflict = page.getByTestId("sync-conflict");
    await conflict.filter({ hasText: "郑佳怡已退出关爱对象" }).waitFor();
    expect((await queueOf(page)).map((q) => q.status)).toEqual(["conflict"]);
    expect(await records(ids["郑佳怡"]!)).toEqual([]);
    await shot(page, "visits-sync-conflict-phone", false);
    await page.getByTestId("sync-panel").getByRole("button", { name: "知道了" }).click();
    await until(
      "dismissed",
      () => queueOf(page),
      (q) => q.length === 0,
    );
    await page.keyboard.press("Escape");

    // The cached caseload expires: 8 days later, offline, it is deleted rather than shown.
    await page.evaluate(
      (at) =>
        new Promise<void>((resolve) => {
          const req = indexedDB.open("shouhu-offline");
          req.onsuccess = () => {
            const tx = req.result.transaction("meta", "readwrite");
            tx.objectStore("meta").put({ key: "cachedAt", value: at });
            tx.oncomplete = () => {
              req.result.close();
              resolve();
            };
          };
        }),
      Date.now() - 8 * 86_400_000,
    );
    await ctx.setOffline(true);
    await page.reload();
    await page.getByText("本机的离线资料已超过 7 天，已清除").waitFor();
    expect(await page.getByTestId("overdue-item").count()).toBe(0);
    const left = await page.evaluate(
      () =>
        new Promise<number>((resolve) => {
          const req = indexedDB.open("shouhu-offline");
          req.onsuccess = () => {
            const count = req.result.transaction("children").objectStore("children").count();
            count.onsuccess = () => {
              req.result.close();
              resolve(count.result);
            };
          };
        }),
    );
    expect(left).toBe(0);
    await ctx.close();
  }, 120_000);

  it("desktop: 我的走访, the form with 发现问题 raising a concern, and the child's 走访 tab", async () => {
    const { ctx, page } = await open("changling.director", "/visits", desktop);
    await page.getByTestId("overdue-item").filter({ hasText: "吴浩然" }).waitFor();
    await shot(page, "visits-mine-desktop");
    await page
      .getByTestId("overdue-item")
      .filter({ hasText: "吴浩然" })
      .getByRole("button", { name: /^登\s*记$/ })
      .click();
    await page.getByLabel("生活情况").fill("家中无人做饭，孩子独自在家");
    await page.getByTestId("concern-switch").click();
    await page.getByLabel("问题类别").click();
    await page.getByTitle("监护缺失").click();
    await page.getByLabel("问题描述").fill("祖母住院，孩子连续三天独自在家");
    expect((await axeSerious(page)).join("\n")).toBe("");
    await shot(page, "visits-form-desktop");
    await page.getByRole("button", { name: /保\s*存/ }).click();
    await page.getByText("已登记，发现的问题已上报").waitFor();
    const concerns = await json<{ items: { childId: string; category: string }[] }>(
      await stack.api("changling.director", "GET", `/api/v1/concerns?childId=${ids["吴浩然"]}`),
    );
    expect(concerns.items.map((c) => c.category)).toEqual(["neglect"]);
    await page.goto(`${stack.base}/children/${ids["吴浩然"]}`);
    await page.getByRole("tab", { name: "走访" }).click();
    await page.getByTestId("visit-record").filter({ hasText: "家访" }).waitFor();
    await shot(page, "visits-child-tab-desktop");

    // A record the server cannot be reached for stays pending; signing out asks first, since it would delete it.
    await page.route("**/api/v1/visit-records", (route) => (route.request().method() === "POST" ? route.abort("internetdisconnected") : route.continue()));
    await page.goto(`${stack.base}/visits/new?childId=${ids["吴浩然"]}&kind=talk`);
    await page.getByLabel("情绪心理").fill("开朗");
    await page.getByRole("button", { name: /保\s*存/ }).click();
    await page.getByTestId("pending-count").filter({ hasText: "1 条待同步" }).waitFor();
    await page.getByRole("button", { name: "退出登录" }).click();
    const confirm = page.getByRole("dialog").filter({ hasText: "还有 1 条走访记录未同步" });
    await confirm.waitFor();
    await shot(page, "visits-signout-pending-desktop", false);
    await confirm.getByRole("button", { name: "先不退出" }).click();
    expect((await queueOf(page)).map((q) => q.status)).toEqual(["pending"]);
    await page.unroute("**/api/v1/visit-records");
    await page.getByTestId("sync-indicator").click();
    await page.getByRole("button", { name: "立即同步" }).click();
    await page.getByTestId("pending-count").waitFor({ state: "detached" });
    expect((await records(ids["吴浩然"]!)).map((r) => r.kind).sort()).toEqual(["home_visit", "talk"]);
    await ctx.close();

    // The printed 联系卡 carries a QR code of the child's 走访 page; 扫码 (or pasting the link) opens it.
    const card = await open("changling.director", `/print/cards/${ids["吴浩然"]}`, desktop);
    const qr = card.page.getByTestId("qr-code");
    expect(await qr.getAttribute("data-value")).toBe(`${stack.base}/visits/child/${ids["吴浩然"]}`);
    await card.page.getByTestId("contact-card").screenshot({ path: `${shots}/visits-contact-card-qr-desktop.png` });
    await card.ctx.close();
    const scan = await open("changling.director", "/visits/scan", phone);
    await scan.page.getByLabel("联系卡链接或儿童编号").fill(`${stack.base}/visits/child/${ids["吴浩然"]}`);
    expect((await axeSerious(scan.page)).join("\n")).toBe("");
    await shot(scan.page, "visits-scan-phone");
    await scan.page.getByRole("button", { name: /^打\s*开$/ }).click();
    await scan.page.waitForURL(`${stack.base}/visits/child/${ids["吴浩然"]}`);
    await scan.page.getByRole("heading", { name: "吴浩然 · 走访记录" }).waitFor();
    await scan.ctx.close();

    // The same pages on a desktop: a child's history and 扫码.
    const wide = await open("changling.director", `/visits/child/${ids["吴浩然"]}`, desktop);
    await wide.page.getByTestId("visit-record").filter({ hasText: "谈心" }).waitFor();
    await shot(wide.page, "visits-child-history-desktop");
    await wide.page.goto(`${stack.base}/visits/scan`);
    await wide.page.getByLabel("联系卡链接或儿童编号").waitFor();
    await shot(wide.page, "visits-scan-desktop");
    await wide.ctx.close();

    const form = await open("changling.director", `/visits/new?childId=${ids["吴浩然"]}&kind=talk`, phone);
    await form.page.getByTestId("concern-switch").click();
    await form.page.getByLabel("问题描述").waitFor();
    await shot(form.page, "visits-form-phone");
    await form.ctx.close();
  }, 120_000);
});
