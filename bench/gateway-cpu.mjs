#!/usr/bin/env node
/**
 * What each gateway build costs per proxied read, in CPU time rather than latency: the
 * gateway process's user+system time (/proc/<pid>/stat) and the audit database's commits
 * (pg_stat_database.xact_commit) over a fixed number of reads, builds alternating in
 * rounds. On a machine shared with other work, latency and throughput swing with the
 * neighbours' load; CPU spent per request much less.
 *   TARGETS="old=http://127.0.0.1:3410:PID,new=http://127.0.0.1:3420:PID" node bench/gateway-cpu.mjs [--requests 20000] [--connections 20] [--rounds 3]
 * Also REGISTRY_URL, OIDC_ISSUER_URL, AUDIT_DATABASE_URL (default the npm start ones).
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import autocannon from "autocannon";
import pg from "pg";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const requests = arg("--requests", 20000);
const connections = arg("--connections", 20);
const rounds = arg("--rounds", 3);
const registry = process.env.REGISTRY_URL ?? "http://127.0.0.1:3001";
const issuer = process.env.OIDC_ISSUER_URL ?? "http://127.0.0.1:8081/realms/shouhu";
const auditDb = process.env.AUDIT_DATABASE_URL ?? "postgresql://root@127.0.0.1:5432/shouhu_gateway";
const targets = (process.env.TARGETS ?? "")
  .split(",")
  .filter(Boolean)
  .map((t) => {
    const [name, rest] = t.split("=");
    const i = rest.lastIndexOf(":");
    return { name, url: rest.slice(0, i), pid: Number(rest.slice(i + 1)) };
  });
if (!targets.length) {
  console.error('set TARGETS="name=http://host:port:pid,…"');
  process.exit(2);
}

const token = async () => {
  const res = await fetch(`${issuer}/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "password", client_id: "shouhu-web", username: "county.admin", password: "Shouhu@2026" }),
  });
  return (await res.json()).access_token;
};
const ticks = 100; // USER_HZ on Linux
const cpuSeconds = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) / ticks; // utime, stime
};
const db = new pg.Client({ connectionString: auditDb });
await db.connect();
const commits = async () => Number((await db.query("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")).rows[0].xact_commit);

let headers = { authorization: `Bearer ${await token()}` };
const list = await (await fetch(`${registry}/api/v1/children?limit=1`, { headers })).json();
const path = `/api/v1/children/${list.items[0].id}`;
const run = (url, amount) =>
  new Promise((resolve, reject) => autocannon({ url: `${url}${path}`, headers, connections, amount }, (err, r) => (err ? reject(err) : resolve(r))));

for (const t of targets) await run(t.url, 3000); // warm-up: JIT, pools, token cache
const rows = [];
for (let round = 1; round <= rounds; round++) {
  for (const t of targets) {
    headers = { authorization: `Bearer ${await token()}` };
    const cpu0 = cpuSeconds(t.pid);
    const c0 = await commits();
    const load = os.loadavg()[0].toFixed(1);
    const r = await run(t.url, requests);
    const cpu = cpuSeconds(t.pid) - cpu0;
    const c = (await commits()) - c0;
    rows.push({
      round,
      build: t.name,
      "req/s": Math.round(r.requests.average),
      non2xx: r.non2xx,
      "gateway CPU µs/req": Math.round((cpu * 1e6) / requests),
      "audit commits /1000 req": Math.round((c * 1000) / requests),
      "load avg": load,
    });
  }
}
await db.end();
console.log(`${requests} reads per run, ${connections} connections, GET ${path}`);
console.table(rows);
