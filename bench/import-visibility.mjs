#!/usr/bin/env node
// How soon a township import is visible in every read model (issue 20's target: a
// 10,000-child import in every read model within 30 s after the import completes).
//
//   npx turbo run build && node bench/import-visibility.mjs [--rows 10000] [--load 0]
//
// Brings up a throwaway copy of the whole system (scripts/lib/system.mjs: its own
// PostgreSQL and Redis, the dev issuer, every service and the gateway, ports 4600–4607),
// uploads a generated township register through the gateway and, from the moment the
// import reports `completed`, polls each consuming service's `children` table until it
// holds every accepted child. `--load N` runs N township-day clients (reads, child
// registrations, edits) through the gateway meanwhile. Prints the import's own duration
// (the baseline), each read model's lag after it, and the ratio lag / import.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createSystem, generateRegister, requireBuilt, root, SERVICES, sleep } from "../scripts/lib/system.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const ROWS = arg("rows", 10_000);
const LOAD = arg("load", 0);
const DEADLINE_MS = arg("deadline", 600) * 1000;
const startedAt = new Date();
const log = (m) => console.log(`[visibility ${((Date.now() - startedAt.getTime()) / 1000).toFixed(1).padStart(6)}s] ${m}`);

requireBuilt("visibility");
const tmp = mkdtempSync(path.join(os.tmpdir(), "shouhu-visibility-"));
const PORTS = {
  gateway: 4600,
  registry: 4601,
  pairing: 4602,
  visits: 4603,
  health: 4604,
  notifications: 4605,
  reporting: 4606,
  issuer: 4607,
  activities: 4608,
};
const sys = createSystem({
  ports: PORTS,
  tmp,
  log,
  onUnexpectedExit: (name, code, signal) => log(`!! ${name} exited by itself (code ${code}, signal ${signal})`),
});
const readModels = SERVICES.filter((s) => s !== "registry");
let stop = false;
let exitCode = 1;

const countChildren = (service) => sys.withDb(`shouhu_${service}`, async (c) => Number((await c.query("SELECT count(*) AS n FROM children")).rows[0].n));

/** A township-day client: list, read, register and edit children, the overview, due visits. */
async function client(w, token, stats) {
  const headers = { authorization: `Bearer ${token}` };
  let i = w;
  while (!stop) {
    const op = i++ % 5;
    const t0 = performance.now();
    let res;
    try {
      if (op === 0) res = await fetch(`${sys.gateway}/api/v1/children?limit=20`, { headers });
      else if (op === 1) res = await fetch(`${sys.gateway}/api/v1/reports/overview`, { headers });
      else if (op === 2) res = await fetch(`${sys.gateway}/api/v1/visit-items?limit=20`, { headers });
      else if (op === 3) res = await fetch(`${sys.gateway}/api/v1/helpers?limit=20`, { headers });
      else res = await fetch(`${sys.gateway}/api/v1/notifications/messages?limit=20`, { headers });
      await res.arrayBuffer();
      stats.push({ ms: performance.now() - t0, status: res.status });
    } catch {
      stats.push({ ms: performance.now() - t0, status: 0 });
    }
    await sleep(50);
  }
}

try {
  await sys.startInfra();
  await sys.up();
  const xlsx = path.join(tmp, "register.xlsx");
  generateRegister(ROWS, xlsx);
  const before = Object.fromEntries(await Promise.all(SERVICES.map(async (s) => [s, await countChildren(s)])));
  const token = await sys.token("county.admin");
  const stats = [];
  const clients = Array.from({ length: LOAD }, (_, w) => client(w, token, stats));
  if (LOAD) await sleep(5000);

  const form = new FormData();
  form.append("file", new Blob([readFileSync(xlsx)]), "register.xlsx");
  const t0 = Date.now();
  const up = await fetch(`${sys.gateway}/api/v1/imports`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: form });
  if (up.status !== 202) throw new Error(`upload: ${up.status} ${await up.text()}`);
  const batch = await up.json();
  let status;
  for (;;) {
    const res = await fetch(`${sys.gateway}/api/v1/imports/${batch.id}`, { headers: { authorization: `Bearer ${await sys.token("county.admin")}` } });
    status = await res.json();
    if (status.status === "completed" || status.status === "failed") break;
    if (Date.now() - t0 > DEADLINE_MS) throw new Error(`import not finished in ${DEADLINE_MS / 1000} s`);
    await sleep(200);
  }
  const importMs = Date.now() - t0;
  if (status.status !== "completed") throw new Error(`import ${status.status}: ${JSON.stringify(status).slice(0, 300)}`);
  const target = status.acceptedRows;
  log(`import completed in ${(importMs / 1000).toFixed(1)} s: ${target} accepted, ${status.rejectedRows} rejected`);

  const lag = {};
  const done = t0 + importMs;
  while (readModels.some((s) => lag[s] === undefined) && Date.now() - done < DEADLINE_MS) {
    for (const s of readModels) {
      if (lag[s] !== undefined) continue;
      if ((await countChildren(s)) - before[s] >= target) {
        lag[s] = Date.now() - done;
        log(`${s}: all ${target} children ${(lag[s] / 1000).toFixed(1)} s after the import completed`);
      }
    }
    await sleep(250);
  }
  stop = true;
  await Promise.all(clients);

  const lines = [
    `import of ${ROWS} rows (${target} accepted) through the gateway, ${LOAD ? `${LOAD} township-day clients running` : "no other load"}; ${os.cpus().length} × ${os.cpus()[0]?.model}, load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
    "| read model | children visible after the import completed (s) | × the import's own duration |",
    "| --- | --: | --: |",
    `| (baseline) registry: the import itself | ${(importMs / 1000).toFixed(1)} | 1.00 |`,
    ...readModels.map(
      (s) =>
        `| ${s} | ${lag[s] === undefined ? `not within ${DEADLINE_MS / 1000}` : (lag[s] / 1000).toFixed(1)} | ${lag[s] === undefined ? "–" : (lag[s] / importMs).toFixed(2)} |`,
    ),
  ];
  if (LOAD) {
    const ms = stats.map((s) => s.ms).sort((a, b) => a - b);
    const p = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]?.toFixed(0);
    lines.push(
      `township-day clients: ${stats.length} requests, p50 ${p(0.5)} ms, p95 ${p(0.95)} ms, p99 ${p(0.99)} ms, non-2xx ${stats.filter((s) => s.status < 200 || s.status >= 300).length}`,
    );
  }
  console.log(`\n${lines.join("\n")}\n`);
  const slowest = Math.max(...readModels.map((s) => lag[s] ?? Infinity));
  console.log(`slowest read model: ${Number.isFinite(slowest) ? `${(slowest / 1000).toFixed(1)} s` : "not reached"} (target ${LOAD ? 60 : 30} s)`);
  exitCode = Number.isFinite(slowest) ? 0 : 1;
} catch (err) {
  console.error(`[visibility] ${err.stack ?? err}; logs kept in ${sys.keepLogs("visibility", startedAt)}`);
  exitCode = 2;
} finally {
  stop = true;
  await sys.down();
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(exitCode);
