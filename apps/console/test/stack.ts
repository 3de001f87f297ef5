import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { expect } from "vitest";
import {
  DEMO_PASSWORD,
  freePort,
  postgresBinDir,
  realmFile,
  redisServerBinary,
  startScratchPostgres,
  startScratchRedis,
  type ScratchPostgres,
  type ScratchRedis,
} from "@shouhu/testing";

/**
 * The console's end-to-end stack, for every browser test file: the built gateway
 * (serving apps/console/dist), registry (with its import worker) and dev issuer on free
 * ports — and notifications when asked — scratch PostgreSQL and Redis, and Debian's
 * Chromium. Other services point at a dead port.
 */
export const root = fileURLToPath(new URL("../../..", import.meta.url));
export const shots = path.join(root, "docs/screenshots");
const chromiumPath = "/usr/bin/chromium";
/** The stack's TASK_LINK_SECRET (visits and notifications): a test mints links with it (@shouhu/auth mintTaskLink). */
export const STACK_TASK_LINK_SECRET = "console-stack-task-link-secret-0123456789";
const built = [
  "services/gateway/dist/main.js",
  "services/registry/dist/main.js",
  "packages/dev-issuer/dist/main.js",
  "packages/dev-s3/dist/main.js",
  "apps/console/dist/index.html",
].every((f) => existsSync(path.join(root, f)));
export const canRun = Boolean(built && existsSync(chromiumPath) && postgresBinDir() && redisServerBinary());
/** The stack with the notifications service too (the inbox). */
export const canRunWithNotifications = canRun && existsSync(path.join(root, "services/notifications/dist/main.js"));
/** The stack with the pairing service too (结对帮扶). */
export const canRunWithPairing = canRun && existsSync(path.join(root, "services/pairing/dist/main.js"));

export interface Stack {
  base: string;
  /** The local SMS provider (packages/dev-sms) when asked for with `sms: true`: GET `${sms}messages` lists the texts. */
  sms: string | null;
  /** The scratch PostgreSQL server's base URL (`${pgBase}/shouhu_notifications` …), for seeding. */
  pgBase: string;
  browser: Browser;
  /** A password-grant token for a demo user (API calls the test makes itself). */
  token(username: string): Promise<string>;
  api(username: string, method: string, url: string, body?: unknown): Promise<Response>;
  /**
   * Polls `read` every 300 ms until `ok` holds for its value (returned), or fails after `ms` naming
   * `what`, the last value and the tail of the services' log. `tolerateErrors`: a read that throws
   * (a service still starting) counts as not yet, instead of failing at once.
   */
  until<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, options?: { ms?: number; tolerateErrors?: boolean }): Promise<T>;
  /** A fresh browser context (zh-CN, 1440×900 unless given), signed in as `username`, on `path`. */
  open(username: string, path: string, viewport?: { width: number; height: number }): Promise<Page>;
  log(): string;
  stop(): Promise<void>;
}

/** Services besides the registry a stack may run (each off unless asked for; the gateway answers 503 for the others). */
const optional = ["notifications", "pairing", "reporting", "visits", "health", "activities"] as const;
type Optional = (typeof optional)[number];
/** The stack with reporting too (统计报表); reporting's figures need the visits service for punctuality and concerns. */
export const canRunWithVisits = canRun && existsSync(path.join(root, "services/visits/dist/main.js"));
export const canRunWithHealth = canRun && existsSync(path.join(root, "services/health/dist/main.js"));
export const canRunWithActivities = canRun && existsSync(path.join(root, "services/activities/dist/main.js"));
export const canRunWithReporting = canRun && ["reporting", "visits"].every((s) => existsSync(path.join(root, `services/${s}/dist/main.js`)));

/** `sms`: notifications sends SMS to the local provider (packages/dev-sms), whose receipts come back through the gateway. */
export async function startStack(options: Partial<Record<Optional | "sms", boolean>> = {}): Promise<Stack> {
  let log = "";
  const procs: ChildProcess[] = [];
  const [pgc, redis]: [ScratchPostgres, ScratchRedis] = await Promise.all([startScratchPostgres(), startScratchRedis()]);
  const start = (entry: string, env: Record<string, string>) => {
    const child = spawn(process.execPath, [path.join(root, entry)], {
      cwd: root,
      env: { ...process.env, LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d) => (log += d));
    child.stderr!.on("data", (d) => (log += d));
    procs.push(child);
    return child;
  };
  const waitOk = async (url: string, child: ChildProcess, ms = 90_000) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`exited during start-up:\n${log.slice(-3000)}`);
      try {
        if ((await fetch(url)).ok) return;
      } catch {
        /* not up yet */
      }
      await new Promise((r) => setTimeout(r, 300));
    }
    throw new Error(`${url} not healthy:\n${log.slice(-3000)}`);
  };
  // A start-up that fails half-way stops what it started (services holding ports, scratch databases), then says why.
  let browser: Browser | undefined;
  const dir = mkdtempSync(path.join(os.tmpdir(), "console-test-"));
  const teardown = async () => {
    await browser?.close().catch(() => undefined);
    for (const p of [...procs].reverse()) if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
    await Promise.all(procs.map((p) => (p.exitCode !== null || p.signalCode !== null ? undefined : new Promise((r) => p.once("exit", r)))));
    await redis.destroy();
    pgc.destroy();
    // The realm copy, the S3 objects and the audit journal of this stack only.
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [gw, reg, iss] = await Promise.all([freePort(), freePort(), freePort()]);
    const base = `http://127.0.0.1:${gw}`;
    const issuerUrl = `http://127.0.0.1:${iss}/realms/shouhu`;
    const realm = JSON.parse(readFileSync(realmFile, "utf8"));
    for (const c of realm.clients) if (c.clientId === "shouhu-console") c.redirectUris.push(`${base}/*`);
    writeFileSync(path.join(dir, "realm.json"), JSON.stringify(realm));
    const pg = `postgresql://root@127.0.0.1:${pgc.port}`;
    const common = {
      REDIS_URL: redis.url,
      OIDC_ISSUER_URL: issuerUrl,
      PG_BASE_URL: pg,
      TEST_DATABASE_ADMIN_URL: pgc.url(),
      SHUTDOWN_DRAIN_MS: "200",
      // The admin API clients of the realm export (dev default secrets): accounts API, staff directory.
      KEYCLOAK_ACCOUNTS_SECRET: "shouhu-accounts-secret",
      KEYCLOAK_DIRECTORY_SECRET: "shouhu-directory-secret",
      // One-time task links (issue 22.2): tests may mint their own with STACK_TASK_LINK_SECRET.
      TASK_LINK_SECRET: STACK_TASK_LINK_SECRET,
      PUBLIC_LINK_BASE_URL: base,
    };
    const issuer = start("packages/dev-issuer/dist/main.js", {
      ...common,
      PORT: String(iss),
      REALM_FILE: path.join(dir, "realm.json"),
      ISSUER_PUBLIC_URL: `http://127.0.0.1:${iss}`,
      ISSUER_KEY_FILE: path.join(dir, "key.json"),
      // The stack's own user store: accounts made in one run never reach another.
      DEV_ISSUER_USERS_STORE: path.join(dir, "users.json"),
    });
    await waitOk(`${issuerUrl}/.well-known/openid-configuration`, issuer);
    // Attachments: the embedded S3 server on a free port, objects in the stack's temp dir.
    const s3Port = await freePort();
    const s3 = { S3_ENDPOINT: `http://127.0.0.1:${s3Port}`, S3_BUCKET: "shouhu-attachments", S3_ACCESS_KEY: "stack-key", S3_SECRET_KEY: "stack-secret-key" };
    start("packages/dev-s3/dist/main.js", { ...s3, PORT: String(s3Port), DEV_S3_DIR: path.join(dir, "s3") });
    Object.assign(common, s3); // registry (child attachments) and visits (visit photos)
    const registry = start("services/registry/dist/main.js", { ...common, PORT: String(reg), ROLE: "all", DATABASE_URL: `${pg}/shouhu_registry` });
    await waitOk(`http://127.0.0.1:${reg}/readyz`, registry);
    const dead = "http://127.0.0.1:9";
    let sms: string | null = null;
    const smsEnv: Record<string, string> = { PUBLIC_LINK_BASE_URL: base };
    if (options.sms) {
      const smsPort = await freePort();
      const keys = { SMS_ACCESS_KEY_ID: "stack-sms", SMS_ACCESS_KEY_SECRET: "stack-sms-secret", SMS_CALLBACK_SECRET: "stack-sms-callback" };
      sms = `http://127.0.0.1:${smsPort}/`;
      const child = start("packages/dev-sms/dist/main.js", {
        ...keys,
        PORT: String(smsPort),
        SMS_CALLBACK_URL: `${base}/api/v1/public/sms-receipts`,
        DEV_SMS_RECEIPT_DELAY_MS: "300",
      });
      await waitOk(`${sms}messages`, child);
      Object.assign(smsEnv, keys, {
        SMS_ENDPOINT: sms,
        SMS_TEMPLATE_CODES: JSON.stringify({ letter_home: "SMS_LETTER_HOME" }),
        DISPATCH_POLL_MS: "200",
        QUIET_HOURS: "00:00-00:00",
      }); // a test at any hour sends at once
    }
    const urls = Object.fromEntries(optional.map((name) => [name, dead])) as Record<Optional, string>;
    for (const name of optional.filter((n) => options[n])) {
      const port = await freePort();
      urls[name] = `http://127.0.0.1:${port}`;
      const child = start(`services/${name}/dist/main.js`, {
        ...common,
        ...(name === "notifications" ? smsEnv : {}),
        PORT: String(port),
        ROLE: "all",
        DATABASE_URL: `${pg}/shouhu_${name}`,
      });
      await waitOk(`${urls[name]}/readyz`, child);
    }
    const gateway = start("services/gateway/dist/main.js", {
      ...common,
      PORT: String(gw),
      DATABASE_URL: `${pg}/shouhu_gateway`,
      AUDIT_JOURNAL_DIR: path.join(dir, "audit-journal"),
      REGISTRY_URL: `http://127.0.0.1:${reg}`,
      PAIRING_URL: urls.pairing,
      VISITS_URL: urls.visits,
      HEALTH_URL: urls.health,
      NOTIFICATIONS_URL: urls.notifications,
      REPORTING_URL: urls.reporting,
      ACTIVITIES_URL: urls.activities,
    });
    await waitOk(`${base}/healthz`, gateway);
    browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
    const launched = browser;
    const tokens = new Map<string, string>();
    const token = async (username: string) => {
      if (!tokens.has(username)) {
        const res = await fetch(`${issuerUrl}/protocol/openid-connect/token`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ grant_type: "password", client_id: "shouhu-web", username, password: DEMO_PASSWORD, scope: "openid" }),
        });
        tokens.set(username, ((await res.json()) as { access_token: string }).access_token);
      }
      return tokens.get(username)!;
    };
    return {
      base,
      sms,
      pgBase: pg,
      browser: launched,
      token,
      api: async (username, method, url, body) =>
        fetch(`${base}${url}`, {
          method,
          headers: { authorization: `Bearer ${await token(username)}`, ...(body ? { "content-type": "application/json" } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        }),
      until: async <T>(
        what: string,
        read: () => Promise<T>,
        ok: (v: T) => boolean,
        { ms = 60_000, tolerateErrors = false }: { ms?: number; tolerateErrors?: boolean } = {},
      ): Promise<T> => {
        const deadline = Date.now() + ms;
        for (;;) {
          const v = tolerateErrors ? await read().catch(() => undefined) : await read();
          if ((!tolerateErrors || v !== undefined) && ok(v as T)) return v as T;
          if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)}\n${log.slice(-2000)}`);
          await new Promise((r) => setTimeout(r, 300));
        }
      },
      open: async (username, at, viewport = { width: 1440, height: 900 }) => {
        // Downloads allowed: exports are saved by the tests that make them.
        const ctx = await launched.newContext({ viewport, locale: "zh-CN", acceptDownloads: true });
        const page = await ctx.newPage();
        await signIn(page, base, username, at);
        return page;
      },
      log: () => log,
      stop: teardown,
    };
  } catch (err) {
    await teardown();
    throw err;
  }
}

/** Signs in on the dev issuer's login page and lands on `path`. */
export async function signIn(page: Page, base: string, username: string, path = "/children") {
  await page.goto(`${base}${path}`);
  await page.waitForSelector("#kc-login", { timeout: 30_000 });
  await page.fill("input[name=username]", username);
  await page.fill("input[name=password]", DEMO_PASSWORD);
  await page.click("#kc-login");
  await page.waitForURL(`${base}${path}`, { timeout: 30_000 });
}

/** The pointer moved away (no hover colours) and animations (tabs' ink bar, modals) settled first. */
export async function shot(page: Page, name: string, fullPage = true) {
  await page.mouse.move(0, 0);
  // A full-page shot of a scrolled page draws the fixed header and menu mid-page.
  if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
/** axe-core's serious and critical violations on the page as it is now (WCAG 2 A/AA rules). */
export async function axeSerious(page: Page): Promise<string[]> {
  // No hover colours, and transitions (fades of buttons and tags just rendered) settled: contrast is measured as seen.
  await page.mouse.move(0, 0);
  await page.waitForTimeout(400);
  // Evaluated over CDP: the console's CSP (script-src 'self') rightly refuses an injected <script>.
  await page.evaluate(axeSource);
  const result = (await page.evaluate(() =>
    (window as unknown as { axe: { run: (o: unknown) => Promise<unknown> } }).axe.run({ runOnly: ["wcag2a", "wcag2aa"] }),
  )) as {
    violations: { id: string; impact: string; nodes: { target: string[] }[] }[];
  };
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map(
      (v) =>
        `${v.id}: ${v.nodes
          .map((n) => n.target.join(" "))
          .slice(0, 3)
          .join(", ")}`,
    );
}

/**
 * Picks `option` in an Ant Design Select opened by `trigger`, and waits until the select shows it. On two
 * loaded cores a click can land while the dropdown is still animating in and not register: it is tried again.
 */
export async function choose(page: Page, trigger: Locator, option: string) {
  for (let attempt = 1; ; attempt++) {
    await trigger.click();
    await page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden) .ant-select-item-option", { hasText: option }).first().click();
    const select = trigger.locator("xpath=ancestor-or-self::*[contains(concat(' ', normalize-space(@class), ' '), ' ant-select ')][1]");
    try {
      await expect.poll(() => select.textContent(), { timeout: 5_000 }).toContain(option);
      return;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

/** Clicks `button` until `text` shows in `scope` (a form's check answers the click): a click lost to load is retried. */
export async function clickUntil(button: Locator, scope: Locator, text: string) {
  for (let attempt = 1; ; attempt++) {
    await button.click();
    try {
      await scope.getByText(text).first().waitFor({ timeout: 5_000 });
      return;
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}
