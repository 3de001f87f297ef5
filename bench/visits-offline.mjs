#!/usr/bin/env node
// 走访 on a phone over a slow network (issue 18's benchmark), in Debian's Chromium:
//  1. the installed app (service worker active, app shell precached) opened again on a
//     slow 3G profile: navigation → the due-visits list shown, against the 3 s target, and
//     beside it the same open without throttling and the list's own API call on slow 3G;
//  2. 50 visit records queued offline on the phone, then the network back (slow 3G): time
//     until the phone's queue is empty and the server holds all 50, against the same 50
//     records posted straight to the API (unthrottled, one at a time) as the baseline.
//
//   npx turbo run build && node bench/visits-offline.mjs [--rows 300] [--rounds 5] [--records 50]
//
// Slow 3G is Chrome DevTools' preset: 2,000 ms round trip, 400 kbit/s (×0.8) each way.
// Brings up a throwaway system (scripts/lib/system.mjs, ports 4710–4717), imports a
// generated register so 长岭村's director has a caseload. Nothing is asserted: it prints figures.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { createSystem, generateRegister, requireBuilt, root, sleep } from "../scripts/lib/system.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROWS = arg("rows", 300);
const ROUNDS = arg("rounds", 5);
const RECORDS = arg("records", 50);
const SLOW_3G = { offline: false, latency: 2000, downloadThroughput: (400 * 1024 * 0.8) / 8, uploadThroughput: (400 * 1024 * 0.8) / 8 };
const startedAt = Date.now();
const log = (m) => console.log(`[visits-offline ${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s] ${m}`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

requireBuilt("visits-offline-bench");
const { chromium } = await import("playwright-core");
const { DEMO_PASSWORD } = await import(path.join(root, "packages/testing/dist/index.js"));
const tmp = mkdtempSync(path.join(os.tmpdir(), "shouhu-visits-bench-"));
const PORTS = {
  gateway: 4710,
  registry: 4711,
  pairing: 4712,
  visits: 4713,
  health: 4714,
  notifications: 4715,
  reporting: 4716,
  issuer: 4717,
  activities: 4718,
};
const realm = JSON.parse(readFileSync(path.join(root, "infra/keycloak/shouhu-realm.json"), "utf8"));
for (const c of realm.clients) if (c.clientId === "shouhu-console") c.redirectUris.push(`http://127.0.0.1:${PORTS.gateway}/*`);
const realmFile = path.join(tmp, "realm.json");
writeFileSync(realmFile, JSON.stringify(realm));
const sys = createSystem({ ports: PORTS, tmp, log, realmFile });
let browser;

/** A UUIDv7 (time-ordered), as the phone makes its record ids. */
function uuidv7(at = Date.now()) {
  const b = crypto.getRandomValues(new Uint8Array(16));
  const t = BigInt(at);
  for (let i = 0; i < 6; i++) b[i] = Number((t >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

try {
  await sys.startInfra();
  await sys.up();
  await sys.importRegister(generateRegister(ROWS, path.join(tmp, "register.xlsx")));
  const auth = async (user) => ({ authorization: `Bearer ${await sys.token(user)}` });
  // The director's caseload: their village's children and their open visit items.
  let items = [];
  for (let i = 0; i < 240 && items.length === 0; i++) {
    items = (await (await fetch(`${sys.gateway}/api/v1/visit-items?view=open&limit=200`, { headers: await auth("changling.director") })).json()).items ?? [];
    if (items.length === 0) await sleep(500);
  }
  // A month's visiting as a director meets it: a third of the items overdue, a third due this week.
  const pgc = new pg.Client({ connectionString: `${sys.pgBase}/shouhu_visits` });
  await pgc.connect();
  await pgc.query(`UPDATE due_items SET due_date = (now() AT TIME ZONE 'Asia/Shanghai')::date - (1 + abs(hashtext(id::text)) % 20)
                    WHERE abs(hashtext(id::text)) % 3 = 0`);
  await pgc.query(`UPDATE due_items SET due_date = (now() AT TIME ZONE 'Asia/Shanghai')::date + (abs(hashtext(id::text)) % 6)
                    WHERE abs(hashtext(id::text)) % 3 = 1`);
  await pgc.end();
  const children = (await (await fetch(`${sys.gateway}/api/v1/children?limit=100`, { headers: await auth("changling.director") })).json()).items;
  log(`changling.director: ${children.length} children on the first page, ${items.length} open visit items`);
  if (items.length === 0 || children.length === 0) throw new Error("the director has no caseload");

  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "zh-CN", isMobile: true, hasTouch: true });
  const page = await ctx.newPage();
  await page.goto(`${sys.gateway}/visits`);
  await page.waitForSelector("#kc-login");
  await page.fill("input[name=username]", "changling.director");
  await page.fill("input[name=password]", DEMO_PASSWORD);
  await page.click("#kc-login");
  await page.waitForURL(`${sys.gateway}/visits`);
  // Installed: the service worker has precached the app and controls the page.
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
  for (let i = 0; i < 3 && !(await page.evaluate(() => Boolean(navigator.serviceWorker.controller))); i++) await page.reload();
  const list = "[data-testid=overdue-item], [data-testid=due-item]";
  await page.locator(list).first().waitFor({ timeout: 60_000 });
  const cdp = await ctx.newCDPSession(page);
  await cdp.send("Network.enable");

  const openOnce = async () => {
    const t0 = performance.now();
    await page.goto(`${sys.gateway}/visits`, { waitUntil: "commit" });
    await page.locator(list).first().waitFor({ timeout: 120_000 });
    return performance.now() - t0;
  };
  // Once: a device with nothing saved yet (just signed in), on slow 3G: every byte of the list comes over the air.
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        const req = indexedDB.deleteDatabase("shouhu-offline");
        req.onsuccess = req.onerror = req.onblocked = () => resolve(undefined);
      }),
  );
  await cdp.send("Network.emulateNetworkConditions", SLOW_3G);
  const coldSlow = await openOnce();
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  log(`open with nothing saved on the device, slow 3G: ${coldSlow.toFixed(0)} ms`);
  const opens = [];
  for (let r = 0; r < ROUNDS; r++) {
    await cdp.send("Network.emulateNetworkConditions", SLOW_3G);
    const slow = await openOnce();
    // The list's own data on slow 3G, from the page (same throttling, same token).
    const apiSlow = await page.evaluate(async () => {
      const t = performance.now();
      const token = Object.entries(sessionStorage).find(([k]) => k.startsWith("oidc.user:"))?.[1];
      const access = token ? JSON.parse(token).access_token : "";
      await (await fetch("/api/v1/visit-items?view=open&limit=200", { headers: { authorization: `Bearer ${access}` } })).arrayBuffer();
      return performance.now() - t;
    });
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    const fast = await openOnce();
    opens.push({ slow, fast, apiSlow });
    log(`open ${r + 1}: slow 3G ${slow.toFixed(0)} ms (its visit-items call ${apiSlow.toFixed(0)} ms); unthrottled ${fast.toFixed(0)} ms`);
  }

  // 50 records made offline, queued on the phone as the form queues them (same store, same shape).
  const owner = "changling.director";
  const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
  const kinds = ["home_visit", "parent_call", "talk", "guardian_contact"];
  const make = (i) => {
    const child = children[i % children.length];
    return { id: uuidv7(Date.now() + i), childId: child.id, kind: kinds[i % kinds.length], date: today, findings: { mood: "情绪稳定", metWith: "祖父母" } };
  };
  const baselineBodies = Array.from({ length: RECORDS }, (_, i) => make(i));
  const t0 = performance.now();
  for (const body of baselineBodies) {
    const res = await fetch(`${sys.gateway}/api/v1/visit-records`, {
      method: "POST",
      headers: { ...(await auth(owner)), "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.status !== 201) throw new Error(`baseline post: ${res.status} ${await res.text()}`);
  }
  const baselineMs = performance.now() - t0;

  await ctx.setOffline(true);
  const bodies = Array.from({ length: RECORDS }, (_, i) => make(i + RECORDS));
  await page.evaluate(
    ({ owner, entries }) =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open("shouhu-offline");
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const tx = req.result.transaction("queue", "readwrite");
          for (const e of entries) tx.objectStore("queue").put(e);
          tx.oncomplete = () => {
            req.result.close();
            window.dispatchEvent(new Event("shouhu:offline-changed"));
            resolve(undefined);
          };
        };
      }),
    {
      owner,
      entries: bodies.map((body, i) => ({
        id: body.id,
        owner,
        body,
        childName: children[(i + RECORDS) % children.length].name,
        queuedAt: Date.now(),
        status: "pending",
        attempts: 0,
      })),
    },
  );
  await page
    .getByTestId("pending-count")
    .filter({ hasText: `${RECORDS} 条待同步` })
    .waitFor({ timeout: 30_000 });
  await cdp.send("Network.emulateNetworkConditions", SLOW_3G);
  const t1 = performance.now();
  await ctx.setOffline(false);
  await page.getByTestId("pending-count").waitFor({ state: "detached", timeout: 600_000 });
  const syncMs = performance.now() - t1;
  await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  const stored = (await (await fetch(`${sys.gateway}/api/v1/visit-records?limit=500`, { headers: await auth(owner) })).json()).items.map((r) => r.id);
  const arrived = bodies.filter((b) => stored.includes(b.id)).length;
  log(`sync of ${RECORDS} queued records on slow 3G: ${syncMs.toFixed(0)} ms, ${arrived}/${RECORDS} on the server; baseline ${baselineMs.toFixed(0)} ms`);

  const m = (k) => median(opens.map((x) => x[k]));
  console.log(
    [
      "",
      `## 走访 on a phone, slow 3G (2,000 ms RTT, 320 kbit/s); ${ROUNDS} opens, medians; ${os.cpus().length} × ${os.cpus()[0]?.model}, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
      "",
      "| measure | value | baseline | ratio |",
      "| --- | --- | --- | --- |",
      `| installed app opened → due-visits list shown, slow 3G | ${m("slow").toFixed(0)} ms | target 3,000 ms | ${(m("slow") / 3000).toFixed(2)} |`,
      `| … the same, unthrottled | ${m("fast").toFixed(0)} ms | slow 3G ${m("slow").toFixed(0)} ms | ${(m("slow") / m("fast")).toFixed(1)} |`,
      `| … the list's own API call on slow 3G (the fresh list replaces the saved one when it arrives) | ${m("apiSlow").toFixed(0)} ms | – | – |`,
      `| first open on a device with nothing saved yet, slow 3G (once) | ${coldSlow.toFixed(0)} ms | target 3,000 ms | ${(coldSlow / 3000).toFixed(2)} |`,
      `| ${RECORDS} queued records synced (network back, slow 3G), ${arrived}/${RECORDS} stored once | ${syncMs.toFixed(0)} ms | ${RECORDS} posts straight to the API, unthrottled: ${baselineMs.toFixed(0)} ms | ${(syncMs / baselineMs).toFixed(1)} |`,
      "",
    ].join("\n"),
  );
} catch (err) {
  console.error(`[visits-offline] ${err.stack ?? err}; logs kept in ${sys.keepLogs("visits-offline", new Date(startedAt))}`);
  process.exitCode = 1;
} finally {
  await browser?.close();
  await sys.down();
  rmSync(tmp, { recursive: true, force: true });
}
