// A throwaway copy of the whole system for the chaos suite and end-to-end benchmarks:
// its own PostgreSQL cluster and redis-server (@shouhu/testing scratch helpers, temp
// dirs, free ports), the dev issuer, every service and the gateway as child processes
// of the built `dist/` on the ports given. Never touches the dev system; builds nothing.
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SERVICES = ["registry", "pairing", "visits", "health", "activities", "notifications", "reporting"];
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Exits with code 2 when a built entry point is missing (run `npx turbo run build` first). */
export function requireBuilt(tag) {
  for (const p of [
    "packages/dev-issuer/dist/main.js",
    "packages/testing/dist/index.js",
    "packages/contracts/dist/index.js",
    ...SERVICES.map((s) => `services/${s}/dist/main.js`),
    "services/gateway/dist/main.js",
  ]) {
    if (!existsSync(path.join(root, p))) {
      console.error(`[${tag}] ${p} is missing: build first (npx turbo run build)`);
      process.exit(2);
    }
  }
}

/**
 * @param {{ ports: Record<string, number>, tmp: string, redis?: object, log?: (m: string) => void, onUnexpectedExit?: (name: string, code: number|null, signal: string|null) => void, env?: Record<string,string> }} options
 */
/** A generated township register of `rows` children (services/registry/samples), written to `out`. */
export function generateRegister(rows, out) {
  const gen = spawnSync(
    process.execPath,
    ["--import", "tsx", "services/registry/samples/generate-register.ts", "--rows", String(rows), "--out", out, "--clean"],
    { cwd: root, encoding: "utf8" },
  );
  if (gen.status !== 0) throw new Error(`generate-register: ${gen.stderr}`);
  return out;
}

export function createSystem(options) {
  const { ports, tmp } = options;
  const log = options.log ?? (() => {});
  const issuerUrl = `http://127.0.0.1:${ports.issuer}/realms/shouhu`;
  const gateway = `http://127.0.0.1:${ports.gateway}`;
  const logDir = path.join(tmp, "logs");
  mkdirSync(logDir, { recursive: true });
  const serviceUrls = Object.fromEntries(SERVICES.map((s) => [`${s.toUpperCase()}_URL`, `http://127.0.0.1:${ports[s]}`]));
  const defs = [
    {
      name: "issuer",
      entry: "packages/dev-issuer/dist/main.js",
      env: {
        PORT: String(ports.issuer),
        ISSUER_PUBLIC_URL: issuerUrl.replace(/\/realms\/shouhu$/, ""),
        ISSUER_KEY_FILE: path.join(tmp, "issuer-key.json"),
        // This throwaway system's own user store (accounts made through the admin API).
        DEV_ISSUER_USERS_STORE: path.join(tmp, "issuer-users.json"),
        // A realm whose console client accepts this system's gateway as redirect target (the browser bench signs in).
        ...(options.realmFile ? { REALM_FILE: options.realmFile } : {}),
      },
      health: `${issuerUrl}/.well-known/openid-configuration`,
    },
    ...SERVICES.map((s) => ({
      name: s,
      entry: `services/${s}/dist/main.js`,
      // notifications syncs its staff directory from the issuer's admin API (the realm's dev default secret).
      env: {
        PORT: String(ports[s]),
        ROLE: "all",
        ...(s === "notifications" ? { KEYCLOAK_DIRECTORY_SECRET: "shouhu-directory-secret" } : {}),
        // One-time task links (issue 22.2): minted by notifications, verified by visits, opened on this system's gateway.
        ...(s === "notifications" || s === "visits" ? { TASK_LINK_SECRET: "shouhu-system-task-link-secret-0123456789", PUBLIC_LINK_BASE_URL: gateway } : {}),
      },
      database: `shouhu_${s}`,
      health: `http://127.0.0.1:${ports[s]}/readyz`,
    })),
    {
      name: "gateway",
      entry: "services/gateway/dist/main.js",
      // The audit journal with the rest of this throwaway system: never replayed into another's database.
      env: {
        PORT: String(ports.gateway),
        AUDIT_JOURNAL_DIR: path.join(tmp, "audit-journal"),
        KEYCLOAK_ACCOUNTS_SECRET: "shouhu-accounts-secret",
        ...serviceUrls,
      },
      database: "shouhu_gateway",
      health: `${gateway}/readyz`,
    },
  ];
  /** name → { def, child, pid, deliberate: number (planned restarts), unexpected: [{code, signal}] } */
  const procs = new Map();
  const sys = {
    gateway,
    issuerUrl,
    logDir,
    procs,
    pg: null,
    redis: null,
    pgBase: "",
    redisUrl: "",
    stopped: false,

    async startInfra() {
      const { startScratchPostgres, startScratchRedis } = await import(path.join(root, "packages/testing/dist/index.js"));
      sys.pg = await startScratchPostgres();
      sys.redis = await startScratchRedis(options.redis ?? {});
      sys.pgBase = sys.pg.url("").replace(/\/$/, "");
      sys.redisUrl = sys.redis.url;
    },

    spawnProc(def) {
      const out = createWriteStream(path.join(logDir, `${def.name}.log`), { flags: "a" });
      const child = spawn(process.execPath, [path.join(root, def.entry)], {
        cwd: root,
        env: {
          ...process.env,
          REDIS_URL: sys.redisUrl,
          OIDC_ISSUER_URL: issuerUrl,
          LOG_LEVEL: process.env.LOG_LEVEL ?? "warn",
          ...options.env,
          ...def.env,
          ...(def.database ? { DATABASE_URL: `${sys.pgBase}/${def.database}` } : {}),
        },
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stdout.pipe(out);
      child.stderr.pipe(out);
      const p = procs.get(def.name) ?? { def, deliberate: 0, unexpected: [] };
      p.child = child;
      p.pid = child.pid;
      p.expectingExit = false;
      procs.set(def.name, p);
      child.once("exit", (code, signal) => {
        if (p.child !== child || p.expectingExit || sys.stopped) return;
        // Not stopped by us: recorded, and the process is brought back so the run goes on.
        p.unexpected.push({ code, signal });
        options.onUnexpectedExit?.(def.name, code, signal);
        setTimeout(() => {
          if (!sys.stopped) sys.spawnProc(def);
        }, 1000);
      });
      return p;
    },

    // 90 s by default; a loaded machine (benchmarks side by side) may need SYSTEM_READY_TIMEOUT_S.
    async waitReady(name, timeoutMs = Number(process.env.SYSTEM_READY_TIMEOUT_S ?? 90) * 1000) {
      const p = procs.get(name);
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        try {
          const res = await fetch(p.def.health, { signal: AbortSignal.timeout(2000) });
          if (res.ok) return;
        } catch {
          /* not up yet */
        }
        await sleep(300);
      }
      throw new Error(`${name} not ready at ${p.def.health} within ${timeoutMs / 1000}s (log: ${path.join(logDir, `${name}.log`)})`);
    },

    /** Issuer first, the services side by side (each migrates its own database), gateway last. */
    async up() {
      const bringUp = async (def) => {
        sys.spawnProc(def);
        await sys.waitReady(def.name);
        log(`${def.name} up (pid ${procs.get(def.name).pid})`);
      };
      await bringUp(defs[0]);
      await Promise.all(defs.slice(1, -1).map(bringUp));
      await bringUp(defs.at(-1));
    },

    async stopProc(name, signal) {
      const p = procs.get(name);
      p.expectingExit = true;
      const child = p.child;
      const exited = new Promise((res) =>
        child.exitCode !== null || child.signalCode !== null ? res([child.exitCode, child.signalCode]) : child.once("exit", (c, s) => res([c, s])),
      );
      child.kill(signal);
      const t0 = Date.now();
      const result = await Promise.race([exited, sleep(40_000).then(() => null)]);
      if (!result) {
        child.kill("SIGKILL");
        await exited;
        return { code: null, signal: "SIGKILL (after 40 s)", ms: Date.now() - t0 };
      }
      return { code: result[0], signal: result[1], ms: Date.now() - t0 };
    },

    async restartProc(name, signal) {
      const stopped = await sys.stopProc(name, signal);
      const p = procs.get(name);
      p.deliberate++;
      sys.spawnProc(p.def);
      await sys.waitReady(name);
      return stopped;
    },

    /** Services first (gateway last-started, first stopped), then Redis, then PostgreSQL. */
    async down() {
      sys.stopped = true;
      const all = [...procs.values()].reverse();
      for (const p of all) p.expectingExit = true;
      await Promise.all(
        all.map(async (p) => {
          const c = p.child;
          if (c.exitCode !== null || c.signalCode !== null) return;
          const exited = new Promise((res) => c.once("exit", res));
          c.kill("SIGTERM");
          if (!(await Promise.race([exited.then(() => true), sleep(8000).then(() => false)]))) {
            c.kill("SIGKILL");
            await exited;
          }
        }),
      );
      await sys.redis?.destroy();
      sys.pg?.destroy();
    },

    async withDb(name, fn) {
      const c = new pg.Client({ connectionString: `${sys.pgBase}/${name}`, connectionTimeoutMillis: 5000 });
      c.on("error", () => {});
      await c.connect();
      try {
        return await fn(c);
      } finally {
        await c.end().catch(() => {});
      }
    },

    /** A token for a demo user (password grant on the dev issuer). */
    /** Uploads a register .xlsx through the gateway as the county admin and waits for the import to end; its last status. */
    async importRegister(file) {
      const form = new FormData();
      form.append("file", new Blob([readFileSync(file)]), "register.xlsx");
      const headers = async () => ({ authorization: `Bearer ${await sys.token("county.admin")}` });
      const up = await fetch(`${gateway}/api/v1/imports`, { method: "POST", headers: await headers(), body: form });
      const batch = await up.json();
      if (up.status !== 202) throw new Error(`upload: ${up.status} ${JSON.stringify(batch)}`);
      for (;;) {
        const status = await (await fetch(`${gateway}/api/v1/imports/${batch.id}`, { headers: await headers() })).json();
        if (status.status === "completed" || status.status === "failed") return status;
        await sleep(500);
      }
    },
    async token(username = "county.admin") {
      const res = await fetch(`${issuerUrl}/protocol/openid-connect/token`, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "password", client_id: "shouhu-web", username, password: "Shouhu@2026" }),
      });
      if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`);
      return (await res.json()).access_token;
    },

    /** Copies the services' logs out of the temp dir (kept when something failed). */
    keepLogs(tag, startedAt) {
      try {
        const keep = path.join(os.tmpdir(), `shouhu-${tag}-logs-${startedAt.toISOString().replace(/[:.]/g, "-")}`);
        mkdirSync(keep, { recursive: true });
        for (const f of readdirSync(logDir)) writeFileSync(path.join(keep, f), readFileSync(path.join(logDir, f)));
        return keep;
      } catch {
        return null;
      }
    },
  };
  return sys;
}
