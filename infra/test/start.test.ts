import { spawn, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, postgresBinDir, redisServerBinary, startScratchPostgres, startScratchRedis, type ScratchPostgres, type ScratchRedis } from "@shouhu/testing";

// `npm start` as a person runs it (the built system, SKIP_BUILD since `npm test` has
// just built it), on a PostgreSQL cluster and Redis of its own and free ports: it comes
// up, and SIGTERM stops every process it started before it exits itself.
const root = fileURLToPath(new URL("../..", import.meta.url));
const built = existsSync(`${root}/services/gateway/dist/main.js`) && existsSync(`${root}/packages/dev-issuer/dist/main.js`);

let pgc: ScratchPostgres | undefined;
let redis: ScratchRedis | undefined;
/** What this file started, stopped even when an assertion failed half-way (they would hold their ports). */
let started: { start: ReturnType<typeof spawn>; pids: number[] } | undefined;

afterAll(async () => {
  if (started) {
    for (const pid of started.pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* already gone */
      }
    }
    if (started.start.exitCode === null) started.start.kill("SIGKILL");
  }
  await redis?.destroy();
  pgc?.destroy();
});

const running = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.skipIf(!built || !postgresBinDir() || !redisServerBinary())("npm start", () => {
  it("brings the whole system up, and on SIGTERM stops every child before it exits", async () => {
    [pgc, redis] = await Promise.all([startScratchPostgres(), startScratchRedis()]);
    const names = [
      "GATEWAY_PORT",
      "REGISTRY_PORT",
      "PAIRING_PORT",
      "VISITS_PORT",
      "HEALTH_PORT",
      "NOTIFICATIONS_PORT",
      "REPORTING_PORT",
      "ACTIVITIES_PORT",
      "ISSUER_PORT",
      "S3_PORT",
      "SMS_PORT",
    ];
    const ports = Object.fromEntries(await Promise.all(names.map(async (n) => [n, String(await freePort())])));
    const start = spawn(process.execPath, ["scripts/start.mjs"], {
      cwd: root,
      env: {
        ...process.env,
        ...ports,
        SKIP_BUILD: "1",
        PG_BASE_URL: `postgresql://root@127.0.0.1:${pgc.port}`,
        TEST_DATABASE_ADMIN_URL: pgc.url(),
        REDIS_URL: redis.url,
        LOG_LEVEL: "warn",
        SHUTDOWN_DRAIN_MS: "200",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    started = { start, pids: [] };
    let out = "";
    start.stdout!.on("data", (d) => (out += d));
    start.stderr!.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => start.once("exit", (code) => resolve(code)));
    const deadline = Date.now() + 150_000;
    while (!out.includes("守护 Shouhu is running")) {
      if (start.exitCode !== null || Date.now() > deadline) throw new Error(`npm start did not come up:\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const pids = execFileSync("pgrep", ["-P", String(start.pid)], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map(Number);
    started.pids = pids;
    // Eight services, the dev issuer, the local S3 and the local SMS provider.
    expect(pids).toHaveLength(11);
    const ready = await fetch(`http://127.0.0.1:${ports.GATEWAY_PORT}/readyz`);
    expect(ready.status).toBe(200);

    start.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(pids.filter(running)).toEqual([]);
    expect(out).toContain("every process has stopped");
  }, 200_000);
});
