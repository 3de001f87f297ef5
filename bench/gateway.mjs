#!/usr/bin/env node
/**
 * Authenticated reads through the gateway beside the same reads straight to
 * the registry, in the same run:
 *  - latency at a steady rate (default 1,000 requests/s): an OPEN-loop schedule,
 *    one request every 1/rate s whatever the answers (k6's constant-arrival-rate,
 *    as bench/k6/gateway.js), each latency measured from the moment the request
 *    was due, so a stall is counted against every request it delays;
 *  - throughput with the throttle open (autocannon, closed loop), and the ratio
 *    gateway/direct.
 * Each target is warmed up first (JIT, connection pools, token caches).
 *
 * Needs the system running (`npm start`; for a fair run
 * `RATE_LIMIT_PER_MINUTE=100000000 LOG_LEVEL=warn npm start`).
 *   node bench/gateway.mjs [--seconds 15] [--rate 1000] [--connections 50] [--warmup 3]
 * URLs: GATEWAY_URL, REGISTRY_URL, OIDC_ISSUER_URL (defaults: the npm start ports).
 *
 * Why not autocannon for the steady rate: its `overallRate` gives each connection
 * a quota per second that it spends at once at the start of each second (1,000
 * requests in a burst, then silence), and its coordinated-omission correction
 * then assumes 1 ms between requests; the p99 it prints is of neither.
 */
import http from "node:http";
import os from "node:os";
import autocannon from "autocannon";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg("--seconds", 15);
const rate = arg("--rate", 1000);
const connections = arg("--connections", 50);
const warmup = arg("--warmup", 3);
const gateway = process.env.GATEWAY_URL ?? "http://127.0.0.1:3000";
const registry = process.env.REGISTRY_URL ?? "http://127.0.0.1:3001";
const issuer = process.env.OIDC_ISSUER_URL ?? "http://127.0.0.1:8081/realms/shouhu";

async function token(username) {
  const res = await fetch(`${issuer}/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "password", client_id: "shouhu-web", username, password: "Shouhu@2026" }),
  }).catch(() => null);
  if (!res?.ok) {
    console.error(`cannot get a token from ${issuer}: is the system running (npm start)?`);
    process.exit(1);
  }
  return (await res.json()).access_token;
}

const access = await token("county.admin");
const headers = { authorization: `Bearer ${access}` };
// A child to read: the first one on the register.
const list = await (await fetch(`${registry}/api/v1/children?limit=1`, { headers })).json();
if (!list.items?.length) {
  console.error("the register is empty: run the README walk-through or an import first");
  process.exit(1);
}
const path = `/api/v1/children/${list.items[0].id}`;

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);
const round = (ms) => Math.round(ms * 10) / 10;
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(" ");

/** Open loop: request i is due at start + i/rate; latency = end − due. */
function steady(base, { rate, seconds }) {
  const url = new URL(`${base}${path}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const total = Math.round(rate * seconds);
  const latencies = [];
  let started = 0;
  let finished = 0;
  let non2xx = 0;
  let errors = 0;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const done = () => {
      if (++finished < total) return;
      agent.destroy();
      latencies.sort((a, b) => a - b);
      const wall = (performance.now() - t0) / 1000;
      resolve({ rps: finished / wall, p50: percentile(latencies, 50), p90: percentile(latencies, 90), p99: percentile(latencies, 99), max: latencies.at(-1), non2xx, errors });
    };
    const fire = (due) => {
      const req = http.request(url, { agent, headers }, (res) => {
        if (res.statusCode < 200 || res.statusCode >= 300) non2xx++;
        res.resume();
        res.on("end", () => {
          latencies.push(performance.now() - due);
          done();
        });
      });
      req.on("error", () => {
        errors++;
        done();
      });
      req.end();
    };
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) * rate) / 1000) + 1);
      while (started < due) fire(t0 + (started++ * 1000) / rate);
      if (started < total) setTimeout(tick, 1);
    };
    tick();
  });
}

function closed(base, opts) {
  return new Promise((resolve, reject) =>
    autocannon({ url: `${base}${path}`, headers, connections, ...opts }, (err, r) =>
      err ? reject(err) : resolve({ rps: r.requests.average, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, non2xx: r.non2xx, errors: r.errors }),
    ),
  );
}

const rows = [];
const record = (scenario, target, r, loadBefore) =>
  rows.push({ scenario, target, "req/s": Math.round(r.rps), "p50 ms": round(r.p50), "p90 ms": round(r.p90), "p99 ms": round(r.p99), "max ms": round(r.max), non2xx: r.non2xx, errors: r.errors, "load avg before": loadBefore });

for (const [target, base] of [["direct registry", registry], ["via gateway", gateway]]) {
  if (warmup > 0) await closed(base, { duration: warmup });
}
const results = {};
for (const [label, run] of [
  [`steady ${rate} req/s (open loop)`, (base) => steady(base, { rate, seconds })],
  ["max throughput (closed loop)", (base) => closed(base, { duration: seconds })],
]) {
  for (const [target, base] of [["direct registry", registry], ["via gateway", gateway]]) {
    const before = load();
    const r = await run(base);
    results[`${label}/${target}`] = r;
    record(label, target, r, before);
  }
  rows.push({ scenario: label, target: "ratio gateway/direct", "req/s": +(results[`${label}/via gateway`].rps / results[`${label}/direct registry`].rps).toFixed(2) });
}
console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, node ${process.version}; ${seconds}s per run, ${connections} connections, GET ${path}; load average now ${load()}`);
console.table(rows);
