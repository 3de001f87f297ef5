#!/usr/bin/env node
// Makes sure PostgreSQL and Redis are reachable before tests or `npm start`:
// starts them when installed but stopped, and says exactly what is missing
// (and how to install it) when they are not installed. Node built-ins only.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const pgUrl = new URL(process.env.TEST_DATABASE_ADMIN_URL ?? "postgresql://root@127.0.0.1:5432/postgres");
const redisUrl = new URL(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const pgHost = pgUrl.hostname;
const pgPort = Number(pgUrl.port || 5432);
const redisHost = redisUrl.hostname;
const redisPort = Number(redisUrl.port || 6379);
const local = (h) => h === "127.0.0.1" || h === "localhost" || h === "::1";

function reachable(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

async function waitFor(host, port, seconds) {
  for (let i = 0; i < seconds * 4; i++) {
    if (await reachable(host, port)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

const has = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;

class MissingError extends Error {}

function missing(what, pkg) {
  return new MissingError(
    `${what} is not reachable and not installed. Install it with: sudo apt-get install -y ${pkg}  (or point ${what === "PostgreSQL" ? "TEST_DATABASE_ADMIN_URL" : "REDIS_URL"} at a running server)`,
  );
}

function psqlAsPostgres(sql) {
  return spawnSync("su", ["postgres", "-c", `psql -v ON_ERROR_STOP=1 -qAtc ${JSON.stringify(sql)}`], { encoding: "utf8" });
}

async function ensurePostgres(log) {
  if (await reachable(pgHost, pgPort)) return;
  if (!local(pgHost)) throw new Error(`PostgreSQL at ${pgHost}:${pgPort} is not reachable`);
  if (!has("pg_ctlcluster") && !has("pg_ctl")) throw missing("PostgreSQL", "postgresql");
  const versions = existsSync("/etc/postgresql") ? readdirSync("/etc/postgresql").sort() : [];
  const version = versions.at(-1);
  if (!version) throw missing("PostgreSQL", "postgresql");
  log(`starting PostgreSQL ${version} (cluster main)…`);
  const r = spawnSync("pg_ctlcluster", ["--skip-systemctl-redirect", version, "main", "start"], { stdio: "inherit" });
  if (r.status !== 0 && !(await reachable(pgHost, pgPort))) throw new Error(`could not start PostgreSQL ${version}: pg_ctlcluster exited ${r.status}`);
  if (!(await waitFor(pgHost, pgPort, 30))) throw new Error("PostgreSQL did not come up within 30 s");
}

/** A fresh Debian install has only the `postgres` role, with password auth on TCP. */
function ensurePostgresRole(log) {
  const user = decodeURIComponent(pgUrl.username || "root");
  const probe = spawnSync("psql", ["-h", pgHost, "-p", String(pgPort), "-U", user, "-d", "postgres", "-qAtc", "SELECT 1"], {
    encoding: "utf8",
    env: { ...process.env, PGCONNECT_TIMEOUT: "3" },
  });
  if (probe.status === 0) return;
  if (!local(pgHost) || process.getuid?.() !== 0) {
    throw new Error(`cannot connect to PostgreSQL as ${user}: ${probe.stderr.trim()}`);
  }
  log(`creating PostgreSQL superuser role ${user} and allowing local trust auth (development/CI machines only)…`);
  const create = psqlAsPostgres(
    `DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='${user}') THEN CREATE ROLE "${user}" SUPERUSER LOGIN; END IF; END$$;`,
  );
  if (create.status !== 0) throw new Error(`could not create role ${user}: ${create.stderr}`);
  const hba = psqlAsPostgres("SHOW hba_file").stdout.trim();
  if (hba) {
    execFileSync("sh", [
      "-c",
      `grep -q '^host all all 127.0.0.1/32 trust' ${hba} || sed -i '1i host all all 127.0.0.1/32 trust\\nhost all all ::1/128 trust' ${hba}`,
    ]);
    psqlAsPostgres("SELECT pg_reload_conf()");
  }
  // psql as `root` defaults to a database named root; fails harmlessly if it exists.
  spawnSync("su", ["postgres", "-c", `createdb -O ${user} ${user}`], { stdio: "ignore" });
}

async function ensureRedis(log) {
  if (!(await reachable(redisHost, redisPort))) {
    if (!local(redisHost)) throw new Error(`Redis at ${redisHost}:${redisPort} is not reachable`);
    if (!has("redis-server")) throw missing("Redis", "redis-server");
    const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), "../.run/redis");
    mkdirSync(dir, { recursive: true });
    log(`starting redis-server on ${redisPort} (AOF everysec, noeviction, data in .run/redis)…`);
    const r = spawnSync(
      "redis-server",
      [
        "--daemonize",
        "yes",
        "--bind",
        "127.0.0.1",
        "--port",
        String(redisPort),
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--maxmemory-policy",
        "noeviction",
        "--dir",
        dir,
        "--logfile",
        path.join(dir, "redis.log"),
      ],
      { stdio: "inherit" },
    );
    if (r.status !== 0) throw new Error(`redis-server exited ${r.status}`);
    if (!(await waitFor(redisHost, redisPort, 15))) throw new Error("Redis did not come up within 15 s");
  }
  // BullMQ loses jobs under any eviction policy but noeviction.
  if (has("redis-cli")) {
    const policy = spawnSync("redis-cli", ["-h", redisHost, "-p", String(redisPort), "config", "get", "maxmemory-policy"], { encoding: "utf8" })
      .stdout.split("\n")[1]
      ?.trim();
    if (policy && policy !== "noeviction") {
      const set = spawnSync("redis-cli", ["-h", redisHost, "-p", String(redisPort), "config", "set", "maxmemory-policy", "noeviction"], { encoding: "utf8" });
      log(
        set.status === 0
          ? `set Redis maxmemory-policy ${policy} → noeviction (BullMQ requires it)`
          : `WARNING: Redis maxmemory-policy is ${policy}; BullMQ requires noeviction`,
      );
    }
  }
}

export async function ensureInfra({ log = (m) => console.log(`[infra] ${m}`) } = {}) {
  await ensurePostgres(log);
  if (has("psql")) ensurePostgresRole(log);
  await ensureRedis(log);
  log(`PostgreSQL ${pgHost}:${pgPort} and Redis ${redisHost}:${redisPort} are reachable`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  ensureInfra().catch((err) => {
    console.error(`[infra] ${err.message}`);
    process.exit(1);
  });
}
