#!/usr/bin/env node
/**
 * Authenticated reads through the gateway beside the same reads straight to
 * the registry, in the same run: a fixed 1,000 requests/s (latency) and an
 * open-throttle run (throughput), with the ratio gateway/direct.
 *
 * Needs the system running (`npm start`; for a fair run
 * `RATE_LIMIT_PER_MINUTE=100000000 LOG_LEVEL=warn npm start`).
 *   node bench/gateway.mjs [--seconds 15] [--rate 1000] [--connections 50]
 * A k6 version of the same scenario is in bench/k6/gateway.js.
 */
import os from "node:os";
import autocannon from "autocannon";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg("--seconds", 15);
const rate = arg("--rate", 1000);
const connections = arg("--connections", 50);
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
// A child to read: the first one on the register (create one if the register is empty).
let list = await (await fetch(`${registry}/api/v1/children?limit=1`, { headers })).json();
if (!list.items?.length) {
  console.error("the register is empty: run the README walk-through or an import first");
  process.exit(1);
}
const path = `/api/v1/children/${list.items[0].id}`;

function run(url, opts) {
  return new Promise((resolve, reject) =>
    autocannon({ url: `${url}${path}`, headers, duration: seconds, connections, ...opts }, (err, r) => (err ? reject(err) : resolve(r))),
  );
}

const rows = [];
for (const [label, opts] of [
  [`fixed ${rate} req/s`, { overallRate: rate }],
  ["max throughput", {}],
]) {
  const direct = await run(registry, opts);
  const through = await run(gateway, opts);
  for (const [target, r] of [["direct registry", direct], ["via gateway", through]]) {
    rows.push({ scenario: label, target, "req/s": Math.round(r.requests.average), "p50 ms": r.latency.p50, "p99 ms": r.latency.p99, non2xx: r.non2xx, errors: r.errors });
  }
  rows.push({ scenario: label, target: "ratio gateway/direct", "req/s": +(through.requests.average / direct.requests.average).toFixed(2) });
}
console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model}, node ${process.version}; ${seconds}s per run, ${connections} connections, GET ${path}`);
console.table(rows);
