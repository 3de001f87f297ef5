#!/usr/bin/env node
// The console as a county admin meets it (issue 17's benchmark):
//  1. JavaScript transferred for the first screen after sign-in (工作台), compressed as
//     sent, against the 500 KB gzip target;
//  2. time from clicking 儿童档案 to the first rows of the children list with 10,000
//     children in the jurisdiction, and a cold load of /children, each against the
//     baseline of the same first page read straight from the API through the gateway.
//
//   npx turbo run build && node bench/console-first-screen.mjs [--rows 10000] [--rounds 5] [--settle 60]
//
// Brings up a throwaway system (scripts/lib/system.mjs, ports 4700–4707), imports a
// generated township register of --rows children through the gateway, and drives
// Debian's Chromium (playwright-core). Nothing is asserted: it prints figures.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createSystem, generateRegister, requireBuilt, root, sleep } from "../scripts/lib/system.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROWS = arg("rows", 10_000);
const ROUNDS = arg("rounds", 5);
const SETTLE_S = arg("settle", 60);
const startedAt = Date.now();
const log = (m) => console.log(`[console-bench ${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)}s] ${m}`);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

requireBuilt("console-bench");
const { chromium } = await import("playwright-core");
const { DEMO_PASSWORD } = await import(path.join(root, "packages/testing/dist/index.js"));
const tmp = mkdtempSync(path.join(os.tmpdir(), "shouhu-console-bench-"));
const PORTS = {
  gateway: 4700,
  registry: 4701,
  pairing: 4702,
  visits: 4703,
  health: 4704,
  notifications: 4705,
  reporting: 4706,
  issuer: 4707,
  activities: 4708,
};
const realm = JSON.parse(readFileSync(path.join(root, "infra/keycloak/shouhu-realm.json"), "utf8"));
for (const c of realm.clients) if (c.clientId === "shouhu-console") c.redirectUris.push(`http://127.0.0.1:${PORTS.gateway}/*`);
const realmFile = path.join(tmp, "realm.json");
writeFileSync(realmFile, JSON.stringify(realm));
const sys = createSystem({ ports: PORTS, tmp, log, realmFile });
let browser;

try {
  await sys.startInfra();
  await sys.up();
  const status = await sys.importRegister(generateRegister(ROWS, path.join(tmp, "register.xlsx")));
  const counts = await (
    await fetch(`${sys.gateway}/api/v1/children/counts`, { headers: { authorization: `Bearer ${await sys.token("county.admin")}` } })
  ).json();
  log(`import ${status.status}: ${status.acceptedRows} accepted; county admin's jurisdiction holds ${counts.active} active children`);

  // The import's events keep every consumer busy for a while: browse once they are through (--settle s).
  await sleep(SETTLE_S * 1000);
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    // A fresh context each round: nothing cached, as for a person signing in on a new machine.
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: "zh-CN" });
    const page = await ctx.newPage();
    // Every script the gateway sends on the way to the first screen, from a cold cache: the app
    // shell loads before sign-in (it starts the OIDC redirect) and comes from the cache after it,
    // so both phases count; the issuer's login page is not the console's.
    let phase = "before";
    const js = { before: [], after: [] };
    page.on("requestfinished", async (req) => {
      if (req.resourceType() !== "script" || !req.url().startsWith(sys.gateway)) return;
      const at = phase;
      const sizes = await req.sizes().catch(() => null);
      if (sizes) js[at].push(sizes.responseBodySize + sizes.responseHeadersSize);
    });
    await page.goto(`${sys.gateway}/`);
    await page.waitForSelector("#kc-login");
    await page.fill("input[name=username]", "county.admin");
    await page.fill("input[name=password]", DEMO_PASSWORD);
    phase = "after";
    const t0 = Date.now();
    await page.click("#kc-login");
    await page.waitForURL(`${sys.gateway}/`);
    // Statistic writes 10,000 with a separator; any digit means the count has arrived.
    await page.waitForFunction(() => /\d/.test(document.querySelector("[data-testid=count-active]")?.textContent ?? ""), null, { timeout: 60_000 });
    const firstScreenMs = Date.now() - t0;
    await page.waitForLoadState("networkidle");
    const sum = (xs) => xs.reduce((a, b) => a + b, 0);
    const jsBytes = sum(js.before) + sum(js.after);
    const jsAfterBytes = sum(js.after);
    const scripts = js.before.length + js.after.length;

    // Client-side navigation, as staff move: click the menu, wait for rows.
    const t1 = performance.now();
    await page.getByRole("menuitem", { name: "儿童档案" }).click();
    await page.locator("[data-testid=children-table] .ant-table-row").first().waitFor({ timeout: 60_000 });
    const listMs = performance.now() - t1;
    // A cold load of /children (the app shell from cache, token from the session).
    const t2 = performance.now();
    await page.reload();
    await page.locator("[data-testid=children-table] .ant-table-row").first().waitFor({ timeout: 60_000 });
    const reloadMs = performance.now() - t2;
    // Baseline: the same first page straight from the API, through the gateway, same token.
    const token = await sys.token("county.admin");
    const t3 = performance.now();
    const res = await fetch(`${sys.gateway}/api/v1/children?limit=20`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    const apiMs = performance.now() - t3;
    rounds.push({ jsBytes, jsAfterBytes, scripts, firstScreenMs, listMs, reloadMs, apiMs });
    log(
      `round ${r + 1}: first screen ${firstScreenMs} ms, ${scripts} scripts ${(jsBytes / 1024).toFixed(1)} KB (${(jsAfterBytes / 1024).toFixed(1)} KB after sign-in); list ${listMs.toFixed(0)} ms, reload ${reloadMs.toFixed(0)} ms, API ${apiMs.toFixed(1)} ms`,
    );
    await ctx.close();
  }
  const m = (k) => median(rounds.map((x) => x[k]));
  console.log(
    [
      "",
      `## console: ${counts.active} children in the county admin's jurisdiction; ${ROUNDS} rounds, medians; ${os.cpus().length} × ${os.cpus()[0]?.model}, load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}`,
      "",
      "| measure | value | baseline | ratio |",
      "| --- | --- | --- | --- |",
      `| JS transferred to reach the first screen, cold cache (compressed as sent, ${m("scripts")} files) | ${(m("jsBytes") / 1024).toFixed(1)} KB | target 500 KB | ${(m("jsBytes") / 1024 / 500).toFixed(2)} |`,
      `| … of which after the sign-in redirect (工作台's own chunks) | ${(m("jsAfterBytes") / 1024).toFixed(1)} KB | – | – |`,
      `| sign-in click → 工作台 counts shown | ${m("firstScreenMs").toFixed(0)} ms | – | – |`,
      `| 儿童档案 clicked → first rows shown | ${m("listMs").toFixed(0)} ms | API first page ${m("apiMs").toFixed(1)} ms | ${(m("listMs") / m("apiMs")).toFixed(1)} |`,
      `| /children reloaded → first rows shown | ${m("reloadMs").toFixed(0)} ms | API first page ${m("apiMs").toFixed(1)} ms | ${(m("reloadMs") / m("apiMs")).toFixed(1)} |`,
      "",
    ].join("\n"),
  );
} catch (err) {
  console.error(`[console-bench] ${err.stack ?? err}; logs kept in ${sys.keepLogs("console-bench", new Date(startedAt))}`);
  process.exitCode = 1;
} finally {
  await browser?.close();
  await sys.down();
  rmSync(tmp, { recursive: true, force: true });
}
