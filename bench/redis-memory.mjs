#!/usr/bin/env node
/**
 * Redis memory during and after a large import that flows through the whole
 * system: a generated register of N rows (default 100,000) uploaded through the
 * gateway, imported by the registry worker, its outbox events published by the
 * relay to every consuming service's queue and consumed there. Samples Redis
 * `INFO memory` (used_memory, its peak), key count and each queue's backlog every
 * 2 s, and reports: before, when the import is done, the peak, and after every
 * queue and outbox has drained — with a breakdown of what the remaining bytes are.
 *
 * Needs a running system (`npm start`) on a Redis of its own: used_memory is the
 * whole server's, so a Redis shared with other work measures that work too.
 *
 *   REDIS_URL=redis://127.0.0.1:4479 PG_BASE_URL=postgresql://root@127.0.0.1:4432 \
 *   GATEWAY_URL=http://127.0.0.1:4400 OIDC_ISSUER_URL=http://127.0.0.1:4481/realms/shouhu \
 *   node bench/redis-memory.mjs [--rows 100000] [--timeout-min 30]
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const rows = Number(arg("--rows", "100000"));
const timeoutMs = Number(arg("--timeout-min", "30")) * 60_000;
const root = fileURLToPath(new URL("..", import.meta.url));
const gateway = process.env.GATEWAY_URL ?? "http://127.0.0.1:3000";
const issuer = process.env.OIDC_ISSUER_URL ?? "http://127.0.0.1:8081/realms/shouhu";
const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const pgBase = process.env.PG_BASE_URL ?? "postgresql://root@127.0.0.1:5432";
const services = ["registry", "pairing", "visits", "health", "notifications", "reporting"];

if (new URL(redisUrl).port === "6379" || new URL(redisUrl).port === "") {
  console.warn("warning: REDIS_URL is the default Redis; if anything else uses it, used_memory includes that too");
}

const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
await redis.connect();
const pools = Object.fromEntries(services.map((s) => [s, new pg.Pool({ connectionString: `${pgBase}/shouhu_${s}`, max: 1 })]));
for (const pool of Object.values(pools)) pool.on("error", () => {}); // a dropped idle connection is retried on the next sample

const mb = (bytes) => (bytes / 2 ** 20).toFixed(1);

async function memory() {
  const info = await redis.info("memory");
  const field = (name) => Number(info.match(new RegExp(`^${name}:(\\d+)`, "m"))?.[1] ?? NaN);
  return { used: field("used_memory"), peak: field("used_memory_peak"), rss: field("used_memory_rss") };
}

/** Every key, by scanning (the bench's Redis is its own, so this is the system's key space). */
async function allKeys() {
  const keys = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  return keys;
}

/** BullMQ queues (any prefix) with their backlog and kept finished jobs. */
async function queues() {
  const metas = (await allKeys()).filter((k) => k.endsWith(":meta"));
  const out = [];
  for (const meta of metas) {
    const base = meta.slice(0, -":meta".length);
    const [wait, active, paused, prioritized, delayed, completed, failed, events] = await Promise.all([
      redis.llen(`${base}:wait`),
      redis.llen(`${base}:active`),
      redis.llen(`${base}:paused`),
      redis.zcard(`${base}:prioritized`),
      redis.zcard(`${base}:delayed`),
      redis.zcard(`${base}:completed`),
      redis.zcard(`${base}:failed`),
      redis.xlen(`${base}:events`).catch(() => 0),
    ]);
    out.push({ queue: base, backlog: wait + active + paused + prioritized, delayed, completed, failed, events });
  }
  return out.sort((a, b) => a.queue.localeCompare(b.queue));
}

async function outboxPending() {
  let total = 0;
  for (const [service, pool] of Object.entries(pools)) {
    try {
      const { rows: r } = await pool.query("SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL");
      total += r[0].n;
    } catch (err) {
      if (err.code !== "42P01" && err.code !== "3D000") throw new Error(`${service}: ${err.message}`); // no outbox table / database: nothing pending
    }
  }
  return total;
}

async function sample() {
  const [mem, dbsize, qs, pending] = await Promise.all([memory(), redis.dbsize(), queues(), outboxPending()]);
  return {
    at: Date.now(),
    ...mem,
    dbsize,
    queues: qs,
    backlog: qs.reduce((s, q) => s + q.backlog, 0),
    delayed: qs.reduce((s, q) => s + q.delayed, 0),
    pending,
  };
}

const line = (label, s) =>
  `${label.padEnd(26)} used_memory ${mb(s.used).padStart(7)} MB  rss ${mb(s.rss).padStart(7)} MB  keys ${String(s.dbsize).padStart(7)}  backlog ${String(s.backlog).padStart(7)}  delayed ${String(s.delayed).padStart(5)}  outbox pending ${s.pending}`;

async function token() {
  const res = await fetch(`${issuer}/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "password", client_id: "shouhu-web", username: "county.admin", password: "Shouhu@2026" }),
  });
  if (!res.ok) throw new Error(`cannot get a token from ${issuer} (${res.status}): is the system running?`);
  return (await res.json()).access_token;
}

const before = await sample();
console.log(line("before", before));

const file = `${os.tmpdir()}/shouhu-redis-bench-register-${rows}.xlsx`;
if (!existsSync(file)) {
  console.log(`generating a ${rows}-row register workbook → ${file}`);
  execFileSync("npx", ["tsx", "--conditions=source", "services/registry/samples/generate-register.ts", "--rows", String(rows), "--out", file, "--clean"], {
    cwd: root,
    stdio: "inherit",
  });
}
const content = readFileSync(file);

const form = new FormData();
form.append("file", new Blob([content], { type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" }), `redis-bench-${rows}.xlsx`);
const t0 = Date.now();
const upload = await fetch(`${gateway}/api/v1/imports`, { method: "POST", headers: { authorization: `Bearer ${await token()}` }, body: form });
const batch = await upload.json();
if (upload.status !== 202 && upload.status !== 200) throw new Error(`upload: ${upload.status} ${JSON.stringify(batch)}`);
if (batch.duplicateUpload) console.warn("warning: this workbook was imported before; its children already exist, so few events will flow");
console.log(`uploaded ${mb(content.length)} MB → batch ${batch.id} (${upload.status})`);

let peak = before;
let imported;
let drained;
let quiet = 0;
let lastPrint = 0;
const deadline = Date.now() + timeoutMs;
while (Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 2000));
  const s = await sample();
  if (s.used > peak.used) peak = s;
  if (!imported) {
    const res = await fetch(`${gateway}/api/v1/imports/${batch.id}`, { headers: { authorization: `Bearer ${await token()}` } });
    const b = await res.json();
    if (b.status === "failed") throw new Error(`import failed: ${b.error}`);
    if (b.status === "completed") {
      imported = { ...s, batch: b };
      console.log(`import completed in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${b.acceptedRows} accepted, ${b.rejectedRows} rejected`);
      console.log(line("import done", s));
    }
  }
  if (Date.now() - lastPrint > 20_000) {
    lastPrint = Date.now();
    console.log(line(`t+${((Date.now() - t0) / 1000).toFixed(0)} s`, s));
  }
  // Drained: import done, nothing waiting or running in any queue and nothing unpublished, three samples running.
  quiet = imported && s.backlog === 0 && s.pending === 0 ? quiet + 1 : 0;
  if (quiet >= 3) {
    drained = s;
    break;
  }
}
if (!drained) throw new Error(`not drained within ${timeoutMs / 60_000} min`);

// What the remaining bytes are: sizes by key kind (the part after the queue name).
const kinds = new Map();
for (const key of await allKeys()) {
  const bytes = (await redis.memory("USAGE", key, "SAMPLES", "0")) ?? 0;
  const parts = key.split(":");
  const kind = parts.length >= 3 ? (/^[0-9a-f-]{36}$|^\d+$/.test(parts.at(-1)) ? "job hash" : parts.at(-1)) : "other";
  const k = kinds.get(kind) ?? { keys: 0, bytes: 0 };
  k.keys += 1;
  k.bytes += bytes;
  kinds.set(kind, k);
}

console.log(
  `\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}, node ${process.version}`,
);
console.log(`rows: ${rows}; import + relay + consumers drained in ${((drained.at - t0) / 1000).toFixed(0)} s\n`);
console.log(line("before", before));
console.log(line("import done", imported));
console.log(line(`peak (t+${((peak.at - t0) / 1000).toFixed(0)} s)`, peak));
console.log(line("drained", drained));
console.log(`used_memory_peak (server's own): ${mb(drained.peak)} MB`);
console.log("\nqueues after drain (kept finished jobs are bounded by removeOnComplete/removeOnFail):");
for (const q of drained.queues)
  console.log(
    `  ${q.queue.padEnd(44)} completed ${String(q.completed).padStart(6)}  failed ${String(q.failed).padStart(5)}  delayed ${String(q.delayed).padStart(4)}  events stream ${q.events}`,
  );
console.log("\nbytes by key kind after drain (MEMORY USAGE):");
for (const [kind, k] of [...kinds].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 12))
  console.log(`  ${kind.padEnd(20)} ${String(k.keys).padStart(7)} keys  ${mb(k.bytes).padStart(7)} MB`);

await redis.quit();
for (const pool of Object.values(pools)) await pool.end();
