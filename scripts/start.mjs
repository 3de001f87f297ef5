#!/usr/bin/env node
// `npm start`: brings the whole system up on this machine with its defaults —
// PostgreSQL and Redis (started if installed but stopped), a build, the
// development issuer, every service and the gateway — and stops them on Ctrl-C.
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";
import pgClient from "pg";
import { ensureInfra } from "./ensure-infra.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const env = (name, fallback) => process.env[name] ?? fallback;

const issuerPort = env("ISSUER_PORT", "8081");
const issuerUrl = env("OIDC_ISSUER_URL", `http://127.0.0.1:${issuerPort}/realms/shouhu`);
const redisUrl = env("REDIS_URL", "redis://127.0.0.1:6379");
const pg = env("PG_BASE_URL", "postgresql://root@127.0.0.1:5432");
// Attachments: the embedded S3 server (packages/dev-s3) stands in for MinIO, objects under .run/s3.
const s3Port = env("S3_PORT", "9000");
const s3 = {
  S3_ENDPOINT: env("S3_ENDPOINT", `http://127.0.0.1:${s3Port}`),
  S3_BUCKET: env("S3_BUCKET", "shouhu-attachments"),
  S3_ACCESS_KEY: env("S3_ACCESS_KEY", "shouhu-dev"),
  S3_SECRET_KEY: env("S3_SECRET_KEY", "shouhu-dev-secret"),
};
// SMS: the local provider (packages/dev-sms) stands in for Alibaba Cloud; its texts at http://127.0.0.1:9010/, and its
// signed receipts come back through the gateway like a real provider's status push.
const smsPort = env("SMS_PORT", "9010");
const gatewayPort = env("GATEWAY_PORT", "3000");
const sms = {
  SMS_ACCESS_KEY_ID: env("SMS_ACCESS_KEY_ID", "shouhu-dev-sms"),
  SMS_ACCESS_KEY_SECRET: env("SMS_ACCESS_KEY_SECRET", "shouhu-dev-sms-secret"),
  SMS_CALLBACK_SECRET: env("SMS_CALLBACK_SECRET", "shouhu-dev-sms-callback"),
};
// One-time task links in SMS (issue 22.2): visits verifies what notifications mints; links open the console's public page.
const taskLinks = {
  TASK_LINK_SECRET: env("TASK_LINK_SECRET", "shouhu-dev-task-link-secret-not-for-production"),
  PUBLIC_LINK_BASE_URL: env("PUBLIC_LINK_BASE_URL", `http://127.0.0.1:${gatewayPort}`),
};
// The demo users (password Shouhu@2026) live outside the production realm export; this is a dev run.
const devUsersFile = env("DEV_USERS_FILE", path.join(root, "infra/keycloak/dev/shouhu-users-0.json"));

/** The same server as `base`, as another role (trust auth on this machine: no password). */
function runtimeUrl(base, role, db) {
  const url = new URL(`${base}/${db}`);
  url.username = role;
  url.password = "";
  return url.toString();
}

/** The gateway serves requests as a role that may only read and append the audit trail. */
async function ensureRole(role) {
  const client = new pgClient.Client({ connectionString: `${pg}/postgres` });
  await client.connect();
  try {
    await client.query(`DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN CREATE ROLE "${role}" LOGIN; END IF; END$$`);
  } finally {
    await client.end();
  }
}

/** Each process: name, entry point, env, health URL. Order matters: issuer first, gateway last. */
const processes = [
  {
    name: "issuer",
    entry: "packages/dev-issuer/dist/main.js",
    env: {
      PORT: issuerPort,
      ISSUER_PUBLIC_URL: issuerUrl.replace(/\/realms\/shouhu$/, ""),
      ISSUER_KEY_FILE: path.join(root, ".run/issuer-key.json"),
      DEV_USERS_FILE: devUsersFile,
    },
    health: `${issuerUrl}/.well-known/openid-configuration`,
  },
  {
    name: "s3",
    entry: "packages/dev-s3/dist/main.js",
    env: { PORT: s3Port, DEV_S3_DIR: path.join(root, ".run/s3"), ...s3 },
    // Any answer will do: every S3 request without a signature is refused (403).
    health: `${s3.S3_ENDPOINT}/`,
    anyAnswer: true,
  },
  {
    name: "sms",
    entry: "packages/dev-sms/dist/main.js",
    env: { PORT: smsPort, ...sms, SMS_CALLBACK_URL: `http://127.0.0.1:${gatewayPort}/api/v1/public/sms-receipts` },
    health: `http://127.0.0.1:${smsPort}/messages`,
  },
  {
    name: "registry",
    entry: "services/registry/dist/main.js",
    env: { PORT: env("REGISTRY_PORT", "3001"), ROLE: "all", DATABASE_URL: `${pg}/shouhu_registry`, ...s3 },
    health: `http://127.0.0.1:${env("REGISTRY_PORT", "3001")}/readyz`,
  },
  {
    name: "pairing",
    entry: "services/pairing/dist/main.js",
    env: { PORT: env("PAIRING_PORT", "3002"), ROLE: "all", DATABASE_URL: `${pg}/shouhu_pairing` },
    health: `http://127.0.0.1:${env("PAIRING_PORT", "3002")}/readyz`,
  },
  {
    name: "visits",
    entry: "services/visits/dist/main.js",
    env: { PORT: env("VISITS_PORT", "3003"), ROLE: "all", DATABASE_URL: `${pg}/shouhu_visits`, ...s3, ...taskLinks },
    health: `http://127.0.0.1:${env("VISITS_PORT", "3003")}/readyz`,
  },
  {
    name: "health",
    entry: "services/health/dist/main.js",
    env: { PORT: env("HEALTH_PORT", "3004"), ROLE: "all", DATABASE_URL: `${pg}/shouhu_health` },
    health: `http://127.0.0.1:${env("HEALTH_PORT", "3004")}/readyz`,
  },
  {
    name: "activities",
    entry: "services/activities/dist/main.js",
    env: { PORT: env("ACTIVITIES_PORT", "3007"), ROLE: "all", DATABASE_URL: `${pg}/shouhu_activities`, ...s3 },
    health: `http://127.0.0.1:${env("ACTIVITIES_PORT", "3007")}/readyz`,
  },
  {
    name: "notifications",
    entry: "services/notifications/dist/main.js",
    env: {
      PORT: env("NOTIFICATIONS_PORT", "3005"),
      ROLE: "all",
      DATABASE_URL: `${pg}/shouhu_notifications`,
      // The staff directory comes from the issuer's admin API (the realm's dev default secret).
      KEYCLOAK_DIRECTORY_SECRET: env("SHOUHU_DIRECTORY_SECRET", "shouhu-directory-secret"),
      ...sms,
      SMS_ENDPOINT: env("SMS_ENDPOINT", `http://127.0.0.1:${smsPort}/`),
      SMS_TEMPLATE_CODES: env(
        "SMS_TEMPLATE_CODES",
        JSON.stringify({ letter_home: "SMS_LETTER_HOME", visit_due_link: "SMS_VISIT_DUE_LINK", visit_overdue_link: "SMS_VISIT_OVERDUE_LINK" }),
      ),
      // Links in SMS (letters home, task links) open the console here.
      ...taskLinks,
    },
    health: `http://127.0.0.1:${env("NOTIFICATIONS_PORT", "3005")}/readyz`,
  },
  {
    name: "reporting",
    entry: "services/reporting/dist/main.js",
    env: { PORT: env("REPORTING_PORT", "3006"), ROLE: "all", DATABASE_URL: `${pg}/shouhu_reporting` },
    health: `http://127.0.0.1:${env("REPORTING_PORT", "3006")}/readyz`,
  },
  {
    name: "gateway",
    entry: "services/gateway/dist/main.js",
    env: {
      PORT: env("GATEWAY_PORT", "3000"),
      // The accounts API signs in to the issuer's admin API as shouhu-accounts (the realm's dev default secret).
      KEYCLOAK_ACCOUNTS_SECRET: env("SHOUHU_ACCOUNTS_SECRET", "shouhu-accounts-secret"),
      DATABASE_URL: `${pg}/shouhu_gateway`,
      DATABASE_RUNTIME_URL: runtimeUrl(pg, "shouhu_gateway_app", "shouhu_gateway"),
      REGISTRY_URL: `http://127.0.0.1:${env("REGISTRY_PORT", "3001")}`,
      PAIRING_URL: `http://127.0.0.1:${env("PAIRING_PORT", "3002")}`,
      VISITS_URL: `http://127.0.0.1:${env("VISITS_PORT", "3003")}`,
      HEALTH_URL: `http://127.0.0.1:${env("HEALTH_PORT", "3004")}`,
      NOTIFICATIONS_URL: `http://127.0.0.1:${env("NOTIFICATIONS_PORT", "3005")}`,
      REPORTING_URL: `http://127.0.0.1:${env("REPORTING_PORT", "3006")}`,
      ACTIVITIES_URL: `http://127.0.0.1:${env("ACTIVITIES_PORT", "3007")}`,
    },
    health: `http://127.0.0.1:${env("GATEWAY_PORT", "3000")}/readyz`,
  },
];

const children = [];
let stopping = false;

/**
 * Forwards the stop to every child (gateway first, so no request reaches a service
 * that is already gone), waits for each to finish its graceful shutdown, and exits
 * only after all have: nothing outlives `npm start`. A child still running after
 * its grace period (SHUTDOWN_GRACE_MS, default 25 s) plus 5 s is killed.
 */
function stopAll(code) {
  if (stopping) return;
  stopping = true;
  const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
  for (const child of [...running].reverse()) child.kill("SIGTERM");
  const graceMs = Number(env("SHUTDOWN_GRACE_MS", "25000")) + 5000;
  const killer = setTimeout(() => {
    for (const child of running)
      if (child.exitCode === null && child.signalCode === null) {
        console.error(`[start] pid ${child.pid} still running after ${graceMs / 1000}s; killing it`);
        child.kill("SIGKILL");
      }
  }, graceMs);
  Promise.all(running.map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once("exit", r))))).then(() => {
    clearTimeout(killer);
    console.log("[start] every process has stopped");
    process.exit(code);
  });
}

async function waitHealthy(name, url, child, timeoutMs = 60_000, anyAnswer = false) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} during start-up (see its log above)`);
    try {
      const res = await fetch(url);
      if (res.ok || (anyAnswer && res.status < 500)) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${name} did not become healthy at ${url} within ${timeoutMs / 1000}s`);
}

function prefixLines(name, stream, out) {
  let buf = "";
  stream.on("data", (chunk) => {
    buf += chunk;
    const lines = buf.split("\n");
    buf = lines.pop() ?? "";
    for (const line of lines) out.write(`[${name}] ${line}\n`);
  });
}

process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));
process.on("SIGHUP", () => stopAll(0));

await ensureInfra({ log: (m) => console.log(`[start] ${m}`) });
await ensureRole("shouhu_gateway_app");

if (process.env.SKIP_BUILD !== "1") {
  console.log("[start] building (turbo run build)…");
  const build = spawnSync("npx", ["turbo", "run", "build", "--output-logs=errors-only"], { cwd: root, stdio: "inherit" });
  if (build.status !== 0) {
    console.error("[start] build failed");
    process.exit(build.status ?? 1);
  }
}

for (const p of processes) {
  if (stopping) break;
  const child = spawn(process.execPath, [path.join(root, p.entry)], {
    cwd: root,
    env: { ...process.env, REDIS_URL: redisUrl, OIDC_ISSUER_URL: issuerUrl, LOG_LEVEL: env("LOG_LEVEL", "info"), ...p.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  prefixLines(p.name, child.stdout, process.stdout);
  prefixLines(p.name, child.stderr, process.stderr);
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`[start] ${p.name} stopped (code ${code}, signal ${signal}); stopping everything`);
      stopAll(1);
    }
  });
  try {
    await waitHealthy(p.name, p.health, child, undefined, p.anyAnswer);
    console.log(`[start] ${p.name} is up`);
  } catch (err) {
    console.error(`[start] ${err.message}`);
    stopAll(1);
    break;
  }
}

if (!stopping) {
  console.log(`
[start] 守护 Shouhu is running:
  gateway   http://127.0.0.1:${env("GATEWAY_PORT", "3000")}   (API docs: /api/docs)
  registry  http://127.0.0.1:${env("REGISTRY_PORT", "3001")}
  pairing   http://127.0.0.1:${env("PAIRING_PORT", "3002")}
  visits    http://127.0.0.1:${env("VISITS_PORT", "3003")}
  health    http://127.0.0.1:${env("HEALTH_PORT", "3004")}
  notifications http://127.0.0.1:${env("NOTIFICATIONS_PORT", "3005")}
  reporting http://127.0.0.1:${env("REPORTING_PORT", "3006")}
  activities http://127.0.0.1:${env("ACTIVITIES_PORT", "3007")}
  issuer    ${issuerUrl}
  s3        ${s3.S3_ENDPOINT}   (attachments; objects in .run/s3)
  sms       http://127.0.0.1:${smsPort}/   (the texts sent; receipts go back to the gateway)
  demo users: county.admin, changling.supervisor, changling.director, changling.doctor, county.inspector … password Shouhu@2026
  Ctrl-C stops everything.`);
}
