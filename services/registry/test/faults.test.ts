import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  freePort,
  postgresBinDir,
  redisServerBinary,
  startScratchPostgres,
  startScratchRedis,
  startTestIssuer,
  until,
  type ScratchPostgres,
  type ScratchRedis,
  type TestIssuer,
} from "@shouhu/testing";

// The real registry process (ROLE=all: API, relay, consumer, workers) on a PostgreSQL
// cluster and a Redis of its own, which this test stops and starts: the process must
// outlive both, answer 503 with Retry-After meanwhile, and heal by itself.
const binaries = postgresBinDir() && redisServerBinary();

let pgc: ScratchPostgres;
let redis: ScratchRedis;
let issuer: TestIssuer;
let child: ChildProcess;
let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let base: string;
let token: string;

const get = async (path: string) => {
  try {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json().catch(() => null)) as Record<string, unknown> | null };
  } catch (err) {
    return { status: 0, retryAfter: null, body: { error: String(err) } };
  }
};
const alive = () => child.exitCode === null && child.signalCode === null;

describe.skipIf(!binaries)("registry survives PostgreSQL and Redis restarts and shuts down gracefully", () => {
  beforeAll(async () => {
    [pgc, redis, issuer] = await Promise.all([startScratchPostgres(), startScratchRedis(), startTestIssuer()]);
    token = await issuer.token("changling.supervisor");
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, ["--import", "tsx", "--conditions=source", fileURLToPath(new URL("../src/main.ts", import.meta.url))], {
      env: {
        ...process.env,
        DATABASE_URL: pgc.url("shouhu_registry"),
        REDIS_URL: redis.url,
        PORT: String(port),
        OIDC_ISSUER_URL: issuer.issuerUrl,
        QUEUE_PREFIX: "faults",
        LOG_LEVEL: "silent",
        SHUTDOWN_DRAIN_MS: "1500",
      },
      stdio: "ignore",
    });
    exit = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    await until("the registry is ready", async () => (await get("/readyz")).status === 200, 60_000);
  }, 90_000);

  afterAll(async () => {
    if (child && alive()) child.kill("SIGKILL");
    await issuer?.close();
    await redis?.destroy();
    pgc?.destroy();
  });

  it("PostgreSQL stopped with -m immediate: the process lives, answers 503 + Retry-After, and is ready again by itself", async () => {
    expect((await get("/api/v1/children?limit=1")).status).toBe(200);
    pgc.stop("immediate");
    const during = await get("/api/v1/children?limit=1");
    expect(during.status).toBe(503);
    expect(during.retryAfter).toBe("5");
    expect((during.body as { error: { code: string } }).error.code).toBe("SERVICE_UNAVAILABLE");
    expect((await get("/readyz")).status).toBe(503);
    await new Promise((r) => setTimeout(r, 1000));
    expect(alive()).toBe(true);

    await pgc.start();
    await until("ready after PostgreSQL is back", async () => (await get("/readyz")).status === 200, 30_000);
    expect((await get("/api/v1/children?limit=1")).status).toBe(200);
    expect(alive()).toBe(true);
  });

  it("Redis killed: reads and writes that need only PostgreSQL go on; the outbox is relayed once Redis is back", async () => {
    await redis.kill();
    await until("not ready without Redis", async () => (await get("/readyz")).status === 503, 10_000);
    expect((await get("/api/v1/children?limit=1")).status).toBe(200);
    const res = await fetch(`${base}/api/v1/children`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({
        idNumber: "360999201503070021",
        name: "李小花",
        sex: "female",
        birthDate: "2015-03-07",
        villageCode: "360999101201",
        leftBehindType: "both_parents_away",
        riskLevel: "medium",
        guardians: [{ name: "李大山", relation: "祖父", phone: "13907310001" }],
      }),
    });
    expect(res.status).toBe(201);
    const db = new pg.Client({ connectionString: pgc.url("shouhu_registry") });
    await db.connect();
    try {
      const pending = async () => (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL")).rows[0]!.n;
      expect(await pending()).toBeGreaterThan(0);
      await redis.start();
      await until("ready after Redis is back", async () => (await get("/readyz")).status === 200, 30_000);
      await until("the outbox relayed", async () => (await pending()) === 0, 30_000);
    } finally {
      await db.end();
    }
    expect(alive()).toBe(true);
  });

  it("SIGTERM: not ready at once, requests still answered while draining, then exit 0", async () => {
    child.kill("SIGTERM");
    await until("not ready while draining", async () => (await get("/readyz")).status === 503, 5_000);
    expect((await get("/api/v1/children?limit=1")).status).toBe(200);
    const { code, signal } = await exit;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });
});
