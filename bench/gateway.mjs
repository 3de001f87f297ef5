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
 * A third target, a bare proxy (bench/bare-proxy.mjs: forwards and nothing else),
 * measures what any HTTP hop costs here, so the gateway's own share is visible.
 * Runs alternate direct / gateway / bare `--rounds` times (this machine's speed
 * drifts by ±30 % within minutes; ratios are taken within a round).
 *   node bench/gateway.mjs [--seconds 15] [--rate 1000] [--connections 50] [--warmup 3] [--rounds 1] [--only steady|max] [--target direct|gateway|bare]
 * URLs: GATEWAY_URL, REGISTRY_URL, OIDC_ISSUER_URL (defaults: the npm start ports); GATEWAY_B_URL
 * adds a second gateway (another build) to every round, so an A/B shares the machine's moments.
 *
 * Why not autocannon for the steady rate: its `overallRate` gives each connection
 * a quota per second that it spends at once at the start of each second (1,000
 * requests in a burst, then silence), and its coordinated-omission correction
 * then assumes 1 ms between requests; the p99 it prints is of neither.
 */
import { fork } from "node:child_process";
import net from "node:net";
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
const rounds = arg("--rounds", 1);
const option = (name) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const only = option("--only");
const onlyTarget = option("--target");
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

// Tokens live 5 minutes (the realm's access-token lifespan) and a run of several
// rounds lasts longer: a fresh one before each measured run, so none is answered 401.
const headers = { authorization: `Bearer ${await token("county.admin")}` };
const freshToken = async () => void (headers.authorization = `Bearer ${await token("county.admin")}`);
// A child to read: the first one on the register.
const list = await (await fetch(`${registry}/api/v1/children?limit=1`, { headers })).json();
if (!list.items?.length) {
  console.error("the register is empty: run the README walk-through or an import first");
  process.exit(1);
}
const path = `/api/v1/children/${list.items[0].id}`;

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);
const round = (ms) => Math.round(ms * 10) / 10;
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");
/** CPU time the hypervisor gave to other guests (/proc/stat "steal"), as a share of the run: this VM's noise. */
const cpuTimes = async () => {
  const fs = await import("node:fs");
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return { steal: f[7] ?? 0, total: f.reduce((a, b) => a + b, 0) };
};
const stealSince = async (before) => {
  const now = await cpuTimes();
  return `${Math.round((100 * (now.steal - before.steal)) / Math.max(1, now.total - before.total))} %`;
};

/**
 * Open loop: request i is due at start + i/rate; latency = end − due (a request
 * waiting for a free connection is late, and counted so). Raw keep-alive sockets
 * and one prebuilt request: node:http's client costs ~3× the CPU per request,
 * taken from the same two cores as the servers under test.
 */
function steady(base, { rate, seconds }) {
  const url = new URL(`${base}${path}`);
  const request = Buffer.from(`GET ${url.pathname} HTTP/1.1\r\nhost: ${url.host}\r\nauthorization: ${headers.authorization}\r\n\r\n`);
  const total = Math.round(rate * seconds);
  const latencies = [];
  const waiting = []; // due times of requests for which no connection was free
  const idle = [];
  let started = 0;
  let finished = 0;
  let non2xx = 0;
  let errors = 0;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const sockets = [];
    const finish = (conn, ok, status) => {
      if (ok) latencies.push(performance.now() - conn.due);
      else errors++;
      if (ok && (status < 200 || status >= 300)) non2xx++;
      conn.due = undefined;
      if (++finished === total) {
        for (const s of sockets) s.destroy();
        latencies.sort((a, b) => a - b);
        const wall = (performance.now() - t0) / 1000;
        resolve({
          rps: finished / wall,
          p50: percentile(latencies, 50),
          p90: percentile(latencies, 90),
          p99: percentile(latencies, 99),
          max: latencies.at(-1),
          non2xx,
          errors,
        });
        return;
      }
      if (waiting.length) send(conn, waiting.shift());
      else idle.push(conn);
    };
    const send = (conn, due) => {
      conn.due = due;
      conn.buf = Buffer.alloc(0);
      conn.socket.write(request);
    };
    // A connection whose answer cannot be framed (no content-length) or that the
    // server closes mid-request counts an error and is replaced by a fresh socket.
    const attach = (conn) => {
      const socket = net.connect(Number(url.port), url.hostname);
      conn.socket = socket;
      conn.buf = Buffer.alloc(0);
      socket.setNoDelay(true);
      socket.on("data", (chunk) => {
        conn.buf = conn.buf.length ? Buffer.concat([conn.buf, chunk]) : chunk;
        const end = conn.buf.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = conn.buf.subarray(0, end).toString("latin1");
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
        if (Number.isNaN(length)) {
          socket.destroy();
          return;
        }
        if (conn.buf.length < end + 4 + length) return;
        finish(conn, true, Number(head.slice(9, 12)));
      });
      socket.on("error", () => undefined);
      socket.on("close", () => {
        if (finished >= total || conn.socket !== socket) return;
        const lost = conn.due !== undefined;
        attach(conn);
        if (lost) finish(conn, false, 0);
      });
      sockets.push(socket);
    };
    const open = () => {
      const conn = { socket: undefined, due: undefined, buf: undefined };
      attach(conn);
      return conn;
    };
    for (let i = 0; i < connections; i++) idle.push(open());
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
      while (started < due) {
        const at = t0 + (started++ * 1000) / rate;
        const conn = idle.pop();
        if (conn) send(conn, at);
        else waiting.push(at);
      }
      if (started < total) setTimeout(tick, 1);
    };
    tick();
  });
}

function closed(base, opts) {
  return new Promise((resolve, reject) =>
    autocannon({ url: `${base}${path}`, headers, connections, ...opts }, (err, r) =>
      err
        ? reject(err)
        : resolve({
            rps: r.requests.average,
            p50: r.latency.p50,
            p90: r.latency.p90,
            p99: r.latency.p99,
            max: r.latency.max,
            non2xx: r.non2xx,
            errors: r.errors,
          }),
    ),
  );
}

const rows = [];
const record = (scenario, target, r, loadBefore, steal) =>
  rows.push({
    scenario,
    target,
    "req/s": Math.round(r.rps),
    "p50 ms": round(r.p50),
    "p90 ms": round(r.p90),
    "p99 ms": round(r.p99),
    "max ms": round(r.max),
    non2xx: r.non2xx,
    errors: r.errors,
    "load avg before": loadBefore,
    "cpu stolen": steal,
  });

const bareProxy = fork(new URL("./bare-proxy.mjs", import.meta.url), ["3199", registry], { stdio: "inherit" });
process.on("exit", () => bareProxy.kill());
await new Promise((resolve) => bareProxy.once("message", resolve));
// GATEWAY_B_URL: a second gateway (another build of it) measured in the same rounds, for an A/B.
const gatewayB = process.env.GATEWAY_B_URL;
const targets = [
  ["direct registry", registry],
  ["via gateway", gateway],
  ...(gatewayB ? [["via gateway B", gatewayB]] : []),
  ["via bare proxy (floor)", "http://127.0.0.1:3199"],
].filter(([t]) => !onlyTarget || t.includes(onlyTarget));
for (const [, base] of targets) {
  if (warmup > 0) await closed(base, { duration: warmup });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const ratios = {};
for (const [label, run] of [
  [`steady ${rate} req/s (open loop)`, (base) => steady(base, { rate, seconds })],
  ["max throughput (closed loop)", (base) => closed(base, { duration: seconds })],
].filter(([l]) => !only || l.startsWith(only))) {
  for (let round = 1; round <= rounds; round++) {
    const results = {};
    for (const [target, base] of targets) {
      await freshToken(); // before the sampling starts: the token request is not part of the run
      const before = load();
      const cpuBefore = await cpuTimes();
      const r = await run(base);
      results[target] = r;
      record(rounds > 1 ? `${label} #${round}` : label, target, r, before, await stealSince(cpuBefore));
    }
    if (!results["direct registry"]) continue;
    // A round in which any answer was not 2xx measured something else (errors are cheap): no ratio from it.
    const failed = Object.entries(results).filter(([, r]) => r.non2xx || r.errors);
    if (failed.length) {
      rows.push({ scenario: rounds > 1 ? `${label} #${round}` : label, target: `no ratio: non-2xx or errors via ${failed.map(([t]) => t).join(", ")}` });
      continue;
    }
    for (const [target, name] of [
      ["via gateway", "gateway/direct"],
      ["via gateway B", "gateway B/direct"],
      ["via bare proxy (floor)", "bare proxy/direct"],
    ]) {
      if (!results[target]) continue;
      const ratio = results[target].rps / results["direct registry"].rps;
      (ratios[`${label}|${name}`] ??= []).push(ratio);
      rows.push({ scenario: rounds > 1 ? `${label} #${round}` : label, target: `ratio ${name}`, "req/s": +ratio.toFixed(2) });
    }
  }
}
if (rounds > 1)
  for (const [key, xs] of Object.entries(ratios)) {
    const [scenario, name] = key.split("|");
    rows.push({ scenario: `${scenario} (median of ${xs.length})`, target: `ratio ${name}`, "req/s": +median(xs).toFixed(2) });
  }
bareProxy.kill("SIGTERM");
console.log(
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, node ${process.version}; ${seconds}s per run, ${connections} connections, GET ${path}; load average now ${load()}`,
);
console.table(rows);
