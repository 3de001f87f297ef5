import { fileURLToPath } from "node:url";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { describe, expect } from "vitest";
import { createLogger } from "@shouhu/kit";
import { createTokenVerifier, operationalRoles } from "@shouhu/auth";
import { createPrismaAdapter } from "@shouhu/db";
import { until, type TestIssuer } from "@shouhu/testing";
import { serviceTest } from "@shouhu/testing/vitest";
import { PrismaClient } from "../src/generated/prisma/client.js";
import { buildGatewayApp } from "../src/app.js";
import { opsQueueNames, opsRequestAllowed } from "../src/routes/ops.js";

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const connection = { url: REDIS_URL };

/** The file's gateway, with Bull Board mounted, on the fixtures' database, issuer and queue prefix. */
const test = serviceTest("gateway_ops", migrationsDir).extend("gateway", { scope: "file" }, async ({ db, issuer, prefix }, { onCleanup }) => {
  const prisma = new PrismaClient({ adapter: createPrismaAdapter(db.url) });
  const redis = new Redis(REDIS_URL);
  const gateway = await buildGatewayApp({
    prisma,
    verifier: createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web"] }),
    redis,
    logger: createLogger("gateway-ops-test", "silent"),
    upstreams: [],
    corsOrigins: [],
    rateLimitPerMinute: 1000,
    rateLimitNamespace: `${prefix}-rl-`,
    ops: { connection, prefix },
  });
  await gateway.ready();
  onCleanup(async () => {
    await gateway.close();
    const q = queue(prefix);
    await q.obliterate({ force: true }).catch(() => undefined);
    await q.close();
    redis.disconnect();
    await prisma.$disconnect();
  });
  return gateway;
});
const queue = (prefix: string) => new Queue("notifications.events", { connection, prefix });

const bearer = async (issuer: TestIssuer, username: string) => (await issuer.as(username)).authorization;
const cookieOf = (setCookie: string | string[] | undefined) => String(setCookie).split(";")[0]!;

describe("Bull Board for the ops role", () => {
  test("lists every queue of the deployment: events, dead letters and jobs", () => {
    const names = opsQueueNames();
    for (const name of ["registry.events", "reporting.events", "reporting.events.dead", "registry.import", "notifications.deliver"])
      expect(names).toContain(name);
  });

  test("an ops token holds no application role (every child route refuses it) and the realm role ops", async ({ issuer }) => {
    const verifier = createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web"] });
    const principal = await verifier.verify((await bearer(issuer, "county.ops")).slice("Bearer ".length));
    expect(principal.roles).toEqual([]);
    expect(operationalRoles(principal)).toEqual(["ops"]);
    expect(operationalRoles(await verifier.verify((await bearer(issuer, "county.admin")).slice("Bearer ".length)))).toEqual([]);
  });

  test("gives an ops user a cookie for /ops only (HttpOnly, SameSite=Strict, as long as the token), and refuses others", async ({ gateway, issuer }) => {
    const ok = await gateway.inject({ method: "POST", url: "/api/v1/ops/session", headers: { authorization: await bearer(issuer, "county.ops") } });
    expect(ok.statusCode).toBe(200);
    const setCookie = String(ok.headers["set-cookie"]);
    expect(setCookie).toMatch(/^shouhu_ops=[\w-]+\.[\w-]+\.[\w-]+; Path=\/ops; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect(ok.json()).toMatchObject({ url: "/ops/queues/" });
    for (const user of ["county.admin", "changling.supervisor", "county.inspector"]) {
      const denied = await gateway.inject({ method: "POST", url: "/api/v1/ops/session", headers: { authorization: await bearer(issuer, user) } });
      expect(denied.statusCode, user).toBe(403);
      expect(denied.json().error.message).toBe("只有运维人员可以查看队列");
      expect(denied.headers["set-cookie"]).toBeUndefined();
    }
    expect((await gateway.inject({ method: "POST", url: "/api/v1/ops/session" })).statusCode).toBe(401);
  });

  test("serves the board only with an ops cookie: none → 401, another role's token as cookie → 403, a forged token → 401", async ({ gateway, issuer }) => {
    expect((await gateway.inject({ url: "/ops/queues/" })).statusCode).toBe(401);
    const admin = (await bearer(issuer, "county.admin")).slice("Bearer ".length);
    expect((await gateway.inject({ url: "/ops/queues/", headers: { cookie: `shouhu_ops=${admin}` } })).statusCode).toBe(403);
    const [h, p] = admin.split(".");
    expect((await gateway.inject({ url: "/ops/queues/", headers: { cookie: `shouhu_ops=${h}.${p}.forged` } })).statusCode).toBe(401);
    const session = await gateway.inject({ method: "POST", url: "/api/v1/ops/session", headers: { authorization: await bearer(issuer, "county.ops") } });
    const page = await gateway.inject({ url: "/ops/queues/", headers: { cookie: cookieOf(session.headers["set-cookie"]) } });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
    expect(page.body).toContain("守护 · 队列运维");
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.headers["cache-control"]).toBe("no-store");
  });

  test("shows job payloads scrubbed of names, ID numbers and phones; allows retries and nothing that loses or reorders events", async ({
    gateway,
    issuer,
    prefix,
  }) => {
    const q = queue(prefix);
    await q.add(
      "child.registered",
      {
        type: "child.registered",
        data: { child: { name: "王小明", idNumber: "360999201201011234", guardian: { name: "王大山", phone: "13907310001" }, villageCode: "360999101201" } },
      },
      { jobId: "ops-e1" },
    );
    // One failed job to retry: a worker that throws once.
    const failing = new Worker("notifications.events", async () => Promise.reject(new Error("处理失败")), { connection, prefix, autorun: true });
    await until("the job to fail", async () => (await q.getJobState("ops-e1")) === "failed");
    await failing.close();

    const session = await gateway.inject({ method: "POST", url: "/api/v1/ops/session", headers: { authorization: await bearer(issuer, "county.ops") } });
    const cookie = cookieOf(session.headers["set-cookie"]);
    const list = await gateway.inject({ url: "/ops/queues/api/queues?activeQueue=notifications.events&status=failed&page=1", headers: { cookie } });
    expect(list.statusCode).toBe(200);
    const text = list.body;
    expect(text).toContain("notifications.events");
    expect(text).toContain("ops-e1");
    for (const secret of ["王小明", "王大山", "360999201201011234", "13907310001"]) expect(text).not.toContain(secret);
    const one = await gateway.inject({ url: "/ops/queues/api/queues/notifications.events/ops-e1", headers: { cookie } });
    expect(one.statusCode).toBe(200);
    for (const secret of ["王小明", "360999201201011234", "13907310001"]) expect(one.body).not.toContain(secret);

    for (const [method, url] of [
      ["PUT", "/ops/queues/api/queues/notifications.events/clean/failed"],
      ["PUT", "/ops/queues/api/queues/notifications.events/empty"],
      ["PUT", "/ops/queues/api/queues/notifications.events/obliterate"],
      ["PUT", "/ops/queues/api/queues/notifications.events/ops-e1/clean"],
      ["PATCH", "/ops/queues/api/queues/notifications.events/ops-e1/update-data"],
      ["POST", "/ops/queues/api/queues/notifications.events/add"],
      ["PUT", "/ops/queues/api/queues/pause"],
    ] as const) {
      const res = await gateway.inject({ method, url, headers: { cookie }, payload: {} });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error?.message, res.body).toBe("运维人员只能查看和重试任务");
    }
    expect(await q.getJobState("ops-e1")).toBe("failed");

    const retry = await gateway.inject({ method: "PUT", url: "/ops/queues/api/queues/notifications.events/ops-e1/retry", headers: { cookie } });
    expect(retry.statusCode).toBeLessThan(300);
    expect(["waiting", "prioritized"]).toContain(await q.getJobState("ops-e1"));
    await q.close();
  });

  test("lets through only reads and the two retry routes", () => {
    expect(opsRequestAllowed("GET", "/ops/queues/api/queues")).toBe(true);
    expect(opsRequestAllowed("PUT", "/ops/queues/api/queues/visits.events/retry/failed")).toBe(true);
    expect(opsRequestAllowed("PUT", "/ops/queues/api/queues/visits.events/abc/retry")).toBe(true);
    expect(opsRequestAllowed("PUT", "/ops/queues/api/queues/visits.events/abc/promote")).toBe(false);
    expect(opsRequestAllowed("PUT", "/ops/queues/api/queues/visits.events/retry/failed/x")).toBe(false);
    expect(opsRequestAllowed("DELETE", "/ops/queues/api/queues/visits.events/abc/retry")).toBe(false);
  });
});
