#!/usr/bin/env node
// `npm run chaos [-- --short] [-- --record]`: the fault-injection suite of docs/RELIABILITY.md.
//
// Brings up a throwaway copy of the whole system — its own PostgreSQL cluster (initdb
// into a temp dir), its own redis-server with AOF, the dev issuer, every service and
// the gateway on ports 4500–4508 — drives steady authenticated traffic and an import
// through the gateway, and injects faults in turn: kill -9 of each service (the
// registry mid-import), Redis restarted from its AOF, PostgreSQL stopped with
// `-m immediate`, SIGTERM of a service. Then it counts: every event in each
// producer's outbox is in every subscribed consumer's inbox exactly once, no process
// died that was not killed on purpose, every client-visible failure was a 503.
// It never touches the dev system, builds nothing (run `npx turbo run build` first),
// stops by itself within its time bound and removes every process and temp dir, also
// on failure or Ctrl-C. Exit code 0 only when every check holds.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createSystem, requireBuilt, root, SERVICES, sleep } from "../lib/system.mjs";

const args = process.argv.slice(2);
const short = args.includes("--short");
const record = args.includes("--record");
const startedAt = new Date();

// ── bounds ─────────────────────────────────────────────────────────────────────────
const T = short
  ? { phase: 4_000, outage: 3_000, importRows: 2_000, importResume: 75_000, settle: 60_000, total: 10 * 60_000, workers: 2 }
  : { phase: 10_000, outage: 5_000, importRows: 6_000, importResume: 240_000, settle: 180_000, total: 14 * 60_000, workers: 3 };

const PORTS = {
  gateway: 4500,
  registry: 4501,
  pairing: 4502,
  visits: 4503,
  health: 4504,
  notifications: 4505,
  reporting: 4506,
  issuer: 4507,
  activities: 4508,
};
const GATEWAY = `http://127.0.0.1:${PORTS.gateway}`;
const log = (m) => console.log(`[chaos ${((Date.now() - startedAt.getTime()) / 1000).toFixed(1).padStart(6)}s] ${m}`);

requireBuilt("chaos");
const { subscriptions } = await import(path.join(root, "packages/contracts/dist/index.js"));

// ── cleanup, whatever happens ──────────────────────────────────────────────────────
const tmp = mkdtempSync(path.join(os.tmpdir(), "shouhu-chaos-"));
const cleanups = [];
let cleaned = false;
async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  stopTraffic = true;
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (err) {
      console.error(`[chaos] cleanup: ${err.message}`);
    }
  }
  rmSync(tmp, { recursive: true, force: true });
}
let interrupted = false;
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`[chaos] ${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}
let sys = null;
const keepLogs = () => sys?.keepLogs("chaos", startedAt) ?? null;
const watchdog = setTimeout(() => {
  console.error(`[chaos] time bound of ${T.total / 60_000} min exceeded in phase "${phase}": cleaning up; logs kept in ${keepLogs()}`);
  void cleanup().finally(() => process.exit(3));
}, T.total);
watchdog.unref();

// ── the system: throwaway PostgreSQL and Redis (AOF), issuer, services, gateway (scripts/lib/system.mjs) ──
let phase = "start-up";
sys = createSystem({
  ports: PORTS,
  tmp,
  redis: { appendonly: true },
  log,
  onUnexpectedExit: (name, code, signal) => {
    sys.procs.get(name).unexpected.at(-1).phase = phase;
    log(`!! ${name} exited by itself in phase "${phase}" (code ${code}, signal ${signal}); restarting it`);
  },
});
const procs = sys.procs;
const restartProc = (name, signal) => sys.restartProc(name, signal);
cleanups.push(() => sys.down());
// ── traffic ────────────────────────────────────────────────────────────────────────
let stopTraffic = false;
/** phase → { total, ok2xx, c4xx: {status: n}, s503, other5xx: {status: n}, net: n } */
const stats = new Map();
const phases = [];
function statFor(name) {
  if (!stats.has(name)) {
    stats.set(name, { total: 0, ok: 0, c4xx: {}, s503: 0, other5xx: {}, net: 0, netKinds: {} });
    phases.push(name);
  }
  return stats.get(name);
}
function count(status, err) {
  const s = statFor(phase);
  s.total++;
  if (err) {
    s.net++;
    const kind = err.cause?.code ?? err.name ?? "error";
    s.netKinds[kind] = (s.netKinds[kind] ?? 0) + 1;
  } else if (status < 400) s.ok++;
  else if (status === 503) s.s503++;
  else if (status < 500) s.c4xx[status] = (s.c4xx[status] ?? 0) + 1;
  else s.other5xx[status] = (s.other5xx[status] ?? 0) + 1;
}

let token = null;
let tokenAt = 0;
async function auth() {
  // The realm's tokens live 5 minutes; the issuer itself is never faulted.
  if (!token || Date.now() - tokenAt > 120_000) {
    token = await sys.token("county.admin");
    tokenAt = Date.now();
  }
  return { authorization: `Bearer ${token}` };
}

/** A valid GB 11643 resident ID in the demo county, unique per sequence number. */
function residentId(n) {
  const day = new Date(Date.UTC(2012, 0, 1) + (n % 2000) * 86_400_000).toISOString().slice(0, 10).replaceAll("-", "");
  const seq = String(500 + Math.floor(n / 2000)).padStart(3, "0"); // 500+: clear of the import file's sequence range
  const body = `360999${day}${seq}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((acc, d, i) => acc + Number(d) * w[i], 0);
  return {
    id: body + "10X98765432"[sum % 11],
    birthDate: `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`,
    sex: Number(seq) % 2 === 1 ? "male" : "female",
  };
}
let childSeq = 0;
const registered = [];
function childBody() {
  const { id, birthDate, sex } = residentId(childSeq++);
  return {
    idNumber: id,
    name: "混沌测",
    sex,
    birthDate,
    villageCode: "360999101201",
    address: "长岭村3组",
    schoolId: "S360999101001",
    grade: "四年级",
    className: "2班",
    leftBehindType: "both_parents_away",
    riskLevel: "medium",
    guardians: [{ name: "李大山", relation: "祖父", phone: "13907310001", age: 68, health: "良好" }],
    parents: [{ role: "father", name: "李建国", phone: "13800000001", workProvince: "广东省", workCity: "东莞市" }],
  };
}

async function call(method, url, body) {
  let headers;
  try {
    headers = await auth();
  } catch (err) {
    count(0, err);
    return null;
  }
  try {
    const res = await fetch(`${GATEWAY}${url}`, {
      method,
      headers: body ? { ...headers, "content-type": "application/json" } : headers,
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(15_000),
    });
    count(res.status);
    const text = await res.text();
    return { status: res.status, json: () => JSON.parse(text) };
  } catch (err) {
    count(0, err);
    return null;
  }
}

async function trafficWorker(w) {
  let i = w;
  while (!stopTraffic) {
    const op = i++ % 8;
    if (op === 0 || op === 4) {
      const res = await call("POST", "/api/v1/children", childBody());
      if (res?.status === 201 || res?.status === 200) registered.push(res.json());
    } else if (op === 1 && registered.length) {
      const c = registered[Math.floor(Math.random() * registered.length)];
      const got = await call("GET", `/api/v1/children/${c.id}`);
      if (got?.status === 200) await call("PATCH", `/api/v1/children/${c.id}`, { grade: op % 2 ? "五年级" : "六年级", revision: got.json().revision });
    } else if (op === 2) await call("GET", "/api/v1/children?limit=20");
    else if (op === 3) await call("GET", "/api/v1/reports/overview");
    else if (op === 5) await call("GET", "/api/v1/visit-items?limit=20");
    else if (op === 6) await call("GET", "/api/v1/helpers?limit=20");
    else await call("GET", "/api/v1/notifications/messages?limit=20");
    await sleep(40);
  }
}

// ── events: outbox vs inbox, exactly once ──────────────────────────────────────────
const withDb = (name, fn) => sys.withDb(name, fn);
async function countEvents() {
  const produced = []; // { id, type, producer, published }
  const inbox = new Map(); // consumer → Map(event_id → rows)
  for (const s of SERVICES) {
    await withDb(`shouhu_${s}`, async (c) => {
      // Not every service both produces and consumes (a pure consumer has no outbox).
      const {
        rows: [has],
      } = await c.query("SELECT to_regclass('outbox') IS NOT NULL AS outbox, to_regclass('inbox') IS NOT NULL AS inbox");
      if (has.outbox) {
        const { rows: out } = await c.query("SELECT id::text, type, published_at IS NOT NULL AS published FROM outbox");
        for (const r of out) produced.push({ ...r, producer: s });
      }
      if (has.inbox) {
        const { rows: inb } = await c.query("SELECT event_id::text AS id, count(*)::int AS n FROM inbox GROUP BY event_id");
        inbox.set(s, new Map(inb.map((r) => [r.id, r.n])));
      }
    });
  }
  const rows = new Map(); // `${type} → ${consumer}` → { expected, present, missing, duplicated }
  let unpublished = 0;
  for (const e of produced) {
    if (!e.published) unpublished++;
    for (const consumer of subscriptions[e.type] ?? []) {
      const key = `${e.type}\t${consumer}`;
      const r = rows.get(key) ?? { type: e.type, consumer, expected: 0, present: 0, missing: 0, duplicated: 0 };
      r.expected++;
      const n = inbox.get(consumer)?.get(e.id) ?? 0;
      if (n >= 1) r.present++;
      if (n === 0) r.missing++;
      if (n > 1) r.duplicated++;
      rows.set(key, r);
    }
  }
  const known = new Set(produced.map((e) => e.id));
  let strangers = 0;
  for (const m of inbox.values()) for (const id of m.keys()) if (!known.has(id)) strangers++;
  return {
    produced: produced.length,
    unpublished,
    rows: [...rows.values()].sort((a, b) => a.type.localeCompare(b.type) || a.consumer.localeCompare(b.consumer)),
    strangers,
  };
}

async function importStatus(id) {
  const res = await call("GET", `/api/v1/imports/${id}`);
  return res?.status === 200 ? res.json() : null;
}

// ── the run ────────────────────────────────────────────────────────────────────────
const faults = []; // { phase, what, detail }
let exitCode = 1;
let report = "";
try {
  await sys.startInfra();
  log(`temp dir ${tmp}; PostgreSQL on ${sys.pg.port}, Redis (AOF) on ${sys.redis.port}, HTTP ${PORTS.gateway}–${PORTS.issuer}${short ? " (short run)" : ""}`);
  await sys.up();

  // The register workbook for the import, generated before any fault (tsx, from source).
  const xlsx = path.join(tmp, "register.xlsx");
  const gen = spawnSync(
    process.execPath,
    ["--import", "tsx", "services/registry/samples/generate-register.ts", "--rows", String(T.importRows), "--out", xlsx, "--clean"],
    { cwd: root, encoding: "utf8" },
  );
  if (gen.status !== 0) throw new Error(`generate-register: ${gen.stderr}`);

  const workers = Array.from({ length: T.workers }, (_, w) => trafficWorker(w));
  const run = async (name, ms) => {
    phase = name;
    statFor(name);
    log(`phase: ${name}`);
    await sleep(ms);
  };

  await run("baseline", T.phase);

  // kill -9 the registry mid-import.
  phase = "import, kill -9 registry mid-import";
  statFor(phase);
  log(`phase: ${phase}`);
  const form = new FormData();
  form.append("file", new Blob([readFileSync(xlsx)]), "chaos-register.xlsx");
  const up = await fetch(`${GATEWAY}/api/v1/imports`, { method: "POST", headers: await auth(), body: form });
  count(up.status);
  if (up.status !== 202) throw new Error(`import upload: ${up.status} ${await up.text()}`);
  const batch = await up.json();
  const importT0 = Date.now();
  let seen = null;
  // Killed once a chunk has been committed, so the resume starts from a chunk, not from the top.
  for (let i = 0; i < 1200; i++) {
    seen = await importStatus(batch.id);
    if (seen && ((seen.status === "running" && seen.processedRows > 0) || seen.status === "completed" || seen.status === "failed")) break;
    await sleep(100);
  }
  let importResult;
  if (seen?.status !== "running") {
    importResult = { killedMidImport: false, note: `import was ${seen?.status ?? "unknown"} before the kill` };
    await restartProc("registry", "SIGKILL");
  } else {
    const before = seen.processedRows;
    const killedAt = Date.now();
    const stopped = await restartProc("registry", "SIGKILL");
    const backAt = Date.now();
    faults.push({
      phase,
      what: "kill -9 registry",
      detail: `${before} of ${T.importRows} rows processed at the kill; back ready in ${((backAt - killedAt) / 1000).toFixed(1)} s (${stopped.signal})`,
    });
    let done = null;
    let resumedAt = null;
    while (Date.now() - killedAt < T.importResume) {
      const s = await importStatus(batch.id);
      // Resumed: the first chunk committed after the kill (the worker picked the stalled job up again).
      if (!resumedAt && s && s.processedRows > before) resumedAt = Date.now();
      if (s && (s.status === "completed" || s.status === "failed")) {
        done = s;
        break;
      }
      await sleep(1000);
    }
    importResult = done
      ? {
          killedMidImport: true,
          status: done.status,
          accepted: done.acceptedRows,
          rejected: done.rejectedRows,
          resumeSeconds: (Date.now() - killedAt) / 1000,
          resumedAfterBackSeconds: resumedAt ? (resumedAt - backAt) / 1000 : null,
        }
      : { killedMidImport: true, status: "not finished", resumeSeconds: null, note: `not finished ${T.importResume / 1000} s after the kill` };
  }
  importResult.totalSeconds = (Date.now() - importT0) / 1000;
  log(`import: ${JSON.stringify(importResult)}`);

  for (const name of ["pairing", "visits", "health", "activities", "notifications", "reporting", "gateway"]) {
    phase = `kill -9 ${name}`;
    statFor(phase);
    log(`phase: ${phase}`);
    const t0 = Date.now();
    const stopped = await restartProc(name, "SIGKILL");
    faults.push({ phase, what: phase, detail: `ready again after ${((Date.now() - t0) / 1000).toFixed(1)} s (${stopped.signal})` });
    await sleep(T.phase / 2);
  }

  phase = "Redis restart from AOF";
  statFor(phase);
  log(`phase: ${phase}`);
  // kill -9: what the OS had of the AOF survives a process crash; the restart reloads it (no RDB is written).
  await sys.redis.kill();
  await sleep(T.outage);
  await sys.redis.start();
  faults.push({ phase, what: "redis kill -9, restart from its AOF", detail: `down ${T.outage / 1000} s` });
  await sleep(T.phase);

  phase = "PostgreSQL stop -m immediate, start";
  statFor(phase);
  log(`phase: ${phase}`);
  sys.pg.stop("immediate");
  await sleep(T.outage);
  await sys.pg.start();
  faults.push({ phase, what: "pg_ctl stop -m immediate; start", detail: `down ${T.outage / 1000} s` });
  await sleep(T.phase);

  phase = "SIGTERM registry, restart";
  statFor(phase);
  log(`phase: ${phase}`);
  const t0 = Date.now();
  const term = await restartProc("registry", "SIGTERM");
  faults.push({
    phase,
    what: "SIGTERM registry",
    detail: `exited with code ${term.code}${term.signal ? ` signal ${term.signal}` : ""} after ${(term.ms / 1000).toFixed(1)} s; ready again after ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  });
  await sleep(T.phase);

  await run("after faults", T.phase);
  stopTraffic = true;
  await Promise.all(workers);

  // Let the relays and consumers finish, bounded; then count.
  phase = "settle";
  log(`settling (up to ${T.settle / 1000} s): waiting for every outbox row to be published and every inbox to hold it`);
  const settleT0 = Date.now();
  let events = await countEvents();
  while (Date.now() - settleT0 < T.settle && (events.unpublished > 0 || events.rows.some((r) => r.missing > 0))) {
    await sleep(3000);
    events = await countEvents();
  }
  const settleSeconds = (Date.now() - settleT0) / 1000;

  // Processes: alive, and no exits but the deliberate ones.
  const procRows = [...procs.values()].map((p) => ({
    name: p.def.name,
    pid: p.pid,
    alive: p.child.exitCode === null && p.child.signalCode === null,
    deliberate: p.deliberate,
    unexpected: p.unexpected,
  }));

  // ── verdicts ──
  const missing = events.rows.reduce((a, r) => a + r.missing, 0);
  const dup = events.rows.reduce((a, r) => a + r.duplicated, 0);
  const expected = events.rows.reduce((a, r) => a + r.expected, 0);
  const badStatus = [...stats.entries()].map(([name, s]) => ({
    name,
    // A client cannot reach a gateway that is itself killed: refused connections are expected there only.
    bad: Object.values(s.other5xx).reduce((a, b) => a + b, 0) + (name === "kill -9 gateway" ? 0 : s.net),
  }));
  const checks = [
    [
      "every produced event in every subscribed inbox",
      missing === 0 && events.unpublished === 0,
      `${expected - missing}/${expected} deliveries present, ${missing} missing, ${events.unpublished} outbox rows unpublished (settled in ${settleSeconds.toFixed(0)} s)`,
    ],
    ["no event twice", dup === 0, `${dup} duplicated`],
    [
      "no process died except those killed on purpose",
      procRows.every((p) => p.alive && p.unexpected.length === 0),
      procRows
        .filter((p) => p.unexpected.length)
        .map((p) => `${p.name} ×${p.unexpected.length} (${p.unexpected.map((u) => `${u.phase}: code ${u.code}${u.signal ? ` ${u.signal}` : ""}`).join("; ")})`)
        .join(", ") || "none",
    ],
    [
      "every client-visible failure a 503",
      badStatus.every((b) => b.bad === 0),
      badStatus
        .filter((b) => b.bad)
        .map((b) => `${b.name}: ${b.bad}`)
        .join(", ") || "none",
    ],
    [
      "crashed import resumed within 60 s and finished",
      importResult.status === "completed" && (importResult.resumedAfterBackSeconds ?? Infinity) <= 60,
      importResult.resumeSeconds
        ? `${importResult.status} ${importResult.resumeSeconds.toFixed(0)} s after the kill; first chunk after the restart ${importResult.resumedAfterBackSeconds?.toFixed(0) ?? "?"} s after the registry was ready again`
        : (importResult.note ?? importResult.status),
    ],
  ];

  // ── the table ──
  const fmt = (o) =>
    Object.entries(o)
      .map(([k, v]) => `${k}×${v}`)
      .join(" ") || "0";
  const lines = [];
  lines.push(`### Chaos run ${startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC${short ? " (--short)" : ""}`);
  lines.push("");
  lines.push(
    `Commit ${spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim()}, ${os.cpus().length} cores, ${T.workers} traffic workers, import of ${T.importRows} rows, total ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s.`,
  );
  lines.push("");
  lines.push("| check | result | detail |");
  lines.push("|---|---|---|");
  for (const [name, ok, detail] of checks) lines.push(`| ${name} | ${ok ? "PASS" : "**FAIL**"} | ${detail} |`);
  lines.push("");
  lines.push("| phase | requests | 2xx/3xx | 4xx | 503 | other 5xx | no response |");
  lines.push("|---|---:|---:|---|---:|---|---|");
  for (const name of phases) {
    const s = stats.get(name);
    lines.push(`| ${name} | ${s.total} | ${s.ok} | ${fmt(s.c4xx)} | ${s.s503} | ${fmt(s.other5xx)} | ${s.net ? `${s.net} (${fmt(s.netKinds)})` : "0"} |`);
  }
  lines.push("");
  lines.push("| fault | detail |");
  lines.push("|---|---|");
  for (const f of faults) lines.push(`| ${f.what} | ${f.detail} |`);
  lines.push("");
  lines.push("| process | final pid | alive | deliberate restarts | exits on its own |");
  lines.push("|---|---:|---|---:|---|");
  for (const p of procRows)
    lines.push(
      `| ${p.name} | ${p.pid} | ${p.alive ? "yes" : "**no**"} | ${p.deliberate} | ${p.unexpected.length ? `**${p.unexpected.length}**: ${p.unexpected.map((u) => u.phase).join("; ")}` : "0"} |`,
    );
  lines.push("");
  lines.push(`Events: ${events.produced} produced, ${expected} deliveries expected by the routing table, ${events.strangers} inbox rows with no outbox row.`);
  lines.push("");
  lines.push("| event → consumer | expected | present | missing | twice |");
  lines.push("|---|---:|---:|---:|---:|");
  for (const r of events.rows)
    lines.push(`| ${r.type} → ${r.consumer} | ${r.expected} | ${r.present} | ${r.missing ? `**${r.missing}**` : 0} | ${r.duplicated} |`);
  report = lines.join("\n");
  console.log(`\n${report}\n`);
  exitCode = checks.every(([, ok]) => ok) ? 0 : 1;
  if (exitCode) log(`FAILED checks; service logs kept in ${keepLogs()}`);
  if (record) {
    const doc = path.join(root, "docs/RELIABILITY.md");
    const text = readFileSync(doc, "utf8");
    const marker = "<!-- chaos runs: newest first -->";
    writeFileSync(doc, text.includes(marker) ? text.replace(marker, `${marker}\n\n${report}\n`) : `${text}\n${marker}\n\n${report}\n`);
    log(`recorded in docs/RELIABILITY.md`);
  }
} catch (err) {
  console.error(`[chaos] aborted in phase "${phase}": ${err.stack ?? err}`);
  console.error(`[chaos] service logs kept in ${keepLogs()}`);
  exitCode = 2;
} finally {
  await cleanup();
  clearTimeout(watchdog);
}
process.exit(exitCode);
