#!/usr/bin/env node
/**
 * Redis memory once a 100k-child import's events have all been consumed — the queue
 * side of `bench/redis-memory.mjs` without the services, so it finishes in minutes on a
 * busy machine where the whole-system run did not drain before its deadline.
 *
 * A scratch redis-server of its own (so `used_memory` is this run's only); N
 * `child.registered` envelopes of the real size (the child with guardian and parents'
 * names and phones, built with contracts' `buildEvent`) added to the 5 consuming
 * queues exactly as the relay adds them (job id = event id, `eventJobOptions`), and
 * taken by no-op BullMQ workers as the consumers take them. Reports: before, the peak,
 * when every queue is drained, and what the remaining keys are. Baseline in the same
 * run: an empty Redis with the same queues and workers.
 *
 *   npx turbo run build && node bench/redis-drained.mjs [--rows 100000]
 */
import { Redis } from "ioredis";
import { Queue, Worker } from "bullmq";
import { buildEvent, eventJobOptions } from "../packages/messaging/dist/index.js";
import { subscriptions } from "../packages/contracts/dist/index.js";
import { childSnapshot, startScratchRedis } from "../packages/testing/dist/index.js";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const rows = Number(arg("--rows", "100000"));
const consumers = subscriptions["child.registered"];
const redis = await startScratchRedis();
const client = new Redis(redis.url);
const connection = { host: "127.0.0.1", port: redis.port, maxRetriesPerRequest: null };
const mb = (b) => `${(b / 1024 / 1024).toFixed(1)} MB`;
const info = async () => {
  const text = await client.info("memory");
  const field = (k) => Number(new RegExp(`^${k}:(\\d+)`, "m").exec(text)?.[1] ?? 0);
  return { used: field("used_memory"), peak: field("used_memory_peak"), keys: await client.dbsize() };
};

const queues = consumers.map((s) => new Queue(`${s}.events`, { connection }));
let done = 0;
const workers = consumers.map((s) => new Worker(`${s}.events`, async () => undefined, { connection, concurrency: 50 }));
for (const w of workers) w.on("completed", () => done++);
await Promise.all(queues.map((q) => q.waitUntilReady()));
await Promise.all(workers.map((w) => w.waitUntilReady()));
const before = await info();

const child = (i) =>
  childSnapshot({
    name: `测试儿童${i}`,
    grade: "四年级",
    className: "2班",
    difficultyCategories: ["economic_hardship"],
    guardian: { name: "李大山", relation: "祖父", phone: `139${String(10_000_000 + i).slice(-8)}` },
    parents: [
      { role: "father", name: "李建国", phone: `138${String(20_000_000 + i).slice(-8)}` },
      { role: "mother", name: "王秀英", phone: `137${String(30_000_000 + i).slice(-8)}` },
    ],
  });
const envelope = (i) => {
  const c = child(i);
  return buildEvent(
    "child.registered",
    { subject: c.id, orgUnit: c.villageCode, actor: { kind: "user", id: "bench", name: "县管理员" }, data: { child: c } },
    { producer: "registry" },
  );
};
const sample = JSON.stringify(envelope(0));

const t0 = Date.now();
let peakWaiting = 0;
// The relay publishes in batches as the import commits chunks of 500 rows.
for (let start = 0; start < rows; start += 500) {
  const batch = Array.from({ length: Math.min(500, rows - start) }, (_, k) => envelope(start + k));
  await Promise.all(queues.map((q) => q.addBulk(batch.map((e) => ({ name: e.type, data: e, opts: { ...eventJobOptions, jobId: e.id } })))));
  if (start % 10_000 === 0) {
    const waiting = (await Promise.all(queues.map((q) => q.getWaitingCount()))).reduce((a, b) => a + b, 0);
    peakWaiting = Math.max(peakWaiting, waiting);
  }
}
const published = Date.now();
const atPublished = await info();
while (done < rows * consumers.length) await new Promise((r) => setTimeout(r, 500));
const drainedAt = Date.now();
await new Promise((r) => setTimeout(r, 2000));
const drained = await info();

// What remains, by key kind.
const kinds = new Map();
let cursor = "0";
do {
  const [next, keys] = await client.scan(cursor, "COUNT", 1000);
  cursor = next;
  for (const key of keys) {
    const [, queue, rest = ""] = key.split(":");
    const kind = /^[0-9a-f-]{36}/.test(rest) ? `job hash (${rest.includes(":") ? rest.split(":")[1] : "data"})` : `${rest || queue}`;
    const bytes = Number(await client.memory("USAGE", key)) || 0;
    const k = kinds.get(kind) ?? { count: 0, bytes: 0 };
    kinds.set(kind, { count: k.count + 1, bytes: k.bytes + bytes });
  }
} while (cursor !== "0");

await Promise.all(workers.map((w) => w.close()));
await Promise.all(queues.map((q) => q.close()));
client.disconnect();
await redis.destroy();

console.log(
  `\n# Redis after a ${rows.toLocaleString("en")}-child import's events are consumed (${consumers.length} queues, ${(rows * consumers.length).toLocaleString("en")} jobs)\n`,
);
console.log(
  `envelope ${sample.length} B of JSON; published in ${((published - t0) / 1000).toFixed(0)} s, drained ${((drainedAt - t0) / 1000).toFixed(0)} s after the first publish\n`,
);
console.log("| moment | used_memory | × empty | keys |");
console.log("| --- | --- | --- | --- |");
console.log(`| empty (queues and workers ready) | ${mb(before.used)} | 1.00 | ${before.keys} |`);
console.log(`| every event published | ${mb(atPublished.used)} | ${(atPublished.used / before.used).toFixed(2)} | ${atPublished.keys} |`);
console.log(`| used_memory_peak | ${mb(drained.peak)} | ${(drained.peak / before.used).toFixed(2)} | |`);
console.log(`| every queue drained | ${mb(drained.used)} | ${(drained.used / before.used).toFixed(2)} | ${drained.keys} |`);
console.log(`\npeak waiting jobs sampled: ${peakWaiting.toLocaleString("en")}\n`);
console.log("| remaining key kind | keys | bytes |");
console.log("| --- | --- | --- |");
for (const [kind, k] of [...kinds].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 12)) console.log(`| ${kind} | ${k.count} | ${mb(k.bytes)} |`);
process.exit(0);
