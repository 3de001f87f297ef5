import http from "node:http";
import Fastify, { type FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { createPrismaAdapter } from "@shouhu/db";
import { createTestDatabase, startScratchRedis, testPrefix, until } from "@shouhu/testing";
import { PrismaClient } from "../src/generated/prisma/client.js";
import { buildGatewayApp } from "../src/app.js";
import type { AuditWriter } from "../src/audit/writer.js";
import { childBody, startRegistry, type Harness } from "../../registry/test/harness.js";
import { gatewayTest } from "./harness.js";

let registry: Harness;
let registryUrl: string;
let prisma: PrismaClient;
let redis: Redis;
let gateway: ServiceApp & { audit: AuditWriter };
let fake: FastifyInstance;
let fakeUrl: string;
const seenByFake: { headers: Record<string, unknown> }[] = [];
const namespace = `${testPrefix("gw")}-rl-`;

async function gatewayWith(upstreams: { name: string; url: string; prefixes: string[] }[], extra: Partial<Parameters<typeof buildGatewayApp>[0]> = {}) {
  const app = await buildGatewayApp({
    prisma,
    verifier: createTokenVerifier({ issuerUrl: registry.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] }),
    redis,
    logger: createLogger("gateway-test", "silent"),
    upstreams,
    corsOrigins: ["https://shouhu.example.gov.cn"],
    rateLimitPerMinute: 1000,
    rateLimitNamespace: namespace,
    timeoutMs: 2000,
    ...extra,
  });
  await app.ready();
  return app;
}

gatewayTest("gateway").beforeAll(async ({ prisma: testPrisma, redis: testRedis }) => {
  [prisma, redis] = [testPrisma, testRedis];
  registry = await startRegistry("gateway_e2e");
  registryUrl = (await registry.app.listen({ port: 0, host: "127.0.0.1" })).replace("localhost", "127.0.0.1");

  fake = Fastify({ bodyLimit: 10 * 1024 * 1024 });
  fake.get("/api/v1/children/echo", async (request) => {
    seenByFake.push({ headers: request.headers });
    return { ok: true };
  });
  fake.get("/api/v1/children/slow", async () => {
    await new Promise((r) => setTimeout(r, 2500));
    return { ok: true };
  });
  fake.get("/api/v1/children/hop", async (_request, reply) => {
    // A per-connection header named by `connection`, and one of the fixed ones.
    return reply.header("connection", "keep-alive, x-conn-secret").header("x-conn-secret", "1").header("x-kept", "yes").send({ ok: true });
  });
  fake.post("/api/v1/children/upload", async (request) => {
    seenByFake.push({ headers: request.headers });
    return { got: request.body };
  });
  fake.get("/api/v1/public/letters/:code", async (request, reply) => {
    seenByFake.push({ headers: request.headers });
    // As a service marks what a link opened: the gateway audits it under the link, with the address.
    return reply.header("x-shouhu-audit", JSON.stringify({ action: "letter-read", childIds: ["0190f000-0000-7000-8000-000000000001"] })).send({ ok: true });
  });
  fakeUrl = await fake.listen({ port: 0, host: "127.0.0.1" });

  gateway = await gatewayWith([
    { name: "registry", url: registryUrl, prefixes: ["/api/v1/org-units", "/api/v1/schools", "/api/v1/children", "/api/v1/imports", "/api/v1/exports"] },
  ]);
});

afterAll(async () => {
  await gateway?.close();
  await fake?.close();
  const keys = await redis.keys(`${namespace}*`);
  if (keys.length) await redis.del(...keys);
  await registry?.close();
});

const bearer = async (user: string) => ({ authorization: `Bearer ${await registry.token(user)}` });

describe("authentication at the gateway", () => {
  it("401 without a token, with a malformed one, an expired one, a foreign issuer's, or alg none", async () => {
    const issuer = registry.issuer as unknown as { issueToken: (u: string, c?: string, o?: object) => Promise<string> };
    const expired = await issuer.issueToken("county.admin", "shouhu-web", { issuer: registry.issuerUrl, now: Math.floor(Date.now() / 1000) - 3600 });
    const foreign = await issuer.issueToken("county.admin", "shouhu-web", { issuer: "http://127.0.0.1:1/realms/shouhu" });
    const payload = expired.split(".")[1];
    const none = `${Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url")}.${payload}.`;
    for (const authorization of [undefined, "Bearer abc", `Bearer ${expired}`, `Bearer ${foreign}`, `Bearer ${none}`, "Basic Y291bnR5"]) {
      const res = await gateway.inject({ url: "/api/v1/children", headers: authorization ? { authorization } : {} });
      expect(res.statusCode, String(authorization).slice(0, 20)).toBe(401);
      expect(res.json().error.code).toBe("UNAUTHORIZED");
    }
  });

  it("leaves health and docs open", async () => {
    expect((await gateway.inject({ url: "/healthz" })).statusCode).toBe(200);
    expect((await gateway.inject({ url: "/api/docs/json" })).statusCode).toBe(200);
  });
});

describe("through the gateway to the registry", () => {
  let childId: string;

  it("registers a child, reads the card, lists — and audits each, without leaking the audit header", async () => {
    const created = await gateway.inject({
      method: "POST",
      url: "/api/v1/children",
      headers: await bearer("changling.supervisor"),
      payload: childBody({ seq: 300 }),
    });
    expect(created.statusCode).toBe(201);
    childId = created.json().id;
    expect(created.headers["x-shouhu-audit"]).toBeUndefined();

    const card = await gateway.inject({ url: `/api/v1/children/${childId}/contact-card`, headers: await bearer("changling.supervisor") });
    expect(card.statusCode).toBe(200);
    expect(card.json().child.id).toBe(childId);
    expect(card.headers["x-shouhu-audit"]).toBeUndefined();

    const list = await gateway.inject({ url: "/api/v1/children?orgUnit=360999101", headers: await bearer("changling.supervisor") });
    expect(list.json().items.map((c: { id: string }) => c.id)).toContain(childId);

    await gateway.audit.drain();
    const rows = await prisma.auditEntry.findMany({ where: { childIds: { has: childId } }, orderBy: { id: "asc" } });
    expect(rows.map((r) => r.action)).toEqual(["create", "contact-card", "list"]);
    expect(rows[0]).toMatchObject({ username: "changling.supervisor", roles: ["township-supervisor"], orgUnit: "360999101", method: "POST", status: 201 });
  });

  it("keeps jurisdiction: another township gets 404, and a refused read is not audited as a read", async () => {
    const res = await gateway.inject({ url: `/api/v1/children/${childId}`, headers: await bearer("shimen.supervisor") });
    expect(res.statusCode).toBe(404);
    // Recorded as a refused attempt (who probed what), never as a read. Drained first: the flusher's timing
    // decided whether the refused row was there yet, and the count of all rows failed under CI load.
    await gateway.audit.drain();
    const rows = await prisma.auditEntry.findMany({ where: { childIds: { has: childId }, username: "shimen.supervisor" } });
    expect(rows.map((r) => [r.outcome, r.status])).toEqual([["refused", 404]]);
  });

  it("passes bad input through as the service's 4xx naming the field", async () => {
    const res = await gateway.inject({
      method: "POST",
      url: "/api/v1/children",
      headers: await bearer("county.admin"),
      payload: { ...childBody({ seq: 301 }), villageCode: "12" },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].field).toBe("villageCode");
  });

  it("lets county admins query the audit trail, and nobody else", async () => {
    const ok = await gateway.inject({ url: `/api/v1/audit?childId=${childId}`, headers: await bearer("county.admin") });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().items.length).toBeGreaterThanOrEqual(3);
    const no = await gateway.inject({ url: "/api/v1/audit", headers: await bearer("changling.supervisor") });
    expect(no.statusCode).toBe(403);
  });

  it("publishes the registry's paths in the merged OpenAPI document", async () => {
    const doc = (await gateway.inject({ url: "/api/docs/json" })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/api/v1/children", "/api/v1/children/{id}/contact-card", "/api/v1/imports", "/api/v1/audit"]),
    );
    expect(doc.components.securitySchemes.bearer).toBeDefined();
  });

  it("sets security headers and restricts CORS to configured origins", async () => {
    const allowed = await gateway.inject({
      method: "OPTIONS",
      url: "/api/v1/children",
      headers: { origin: "https://shouhu.example.gov.cn", "access-control-request-method": "GET" },
    });
    expect(allowed.headers["access-control-allow-origin"]).toBe("https://shouhu.example.gov.cn");
    const other = await gateway.inject({
      method: "OPTIONS",
      url: "/api/v1/children",
      headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
    });
    expect(other.headers["access-control-allow-origin"]).toBeUndefined();
    const res = await gateway.inject({ url: "/healthz" });
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers["content-security-policy"]).toMatch(/default-src 'none'/);
  });
});

describe("gateway behaviour with a stand-in upstream", () => {
  it("forwards the token, its own request id (never the client's) and the trace context", async () => {
    const app = await gatewayWith([{ name: "fake", url: fakeUrl, prefixes: ["/api/v1/children"] }]);
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await app.inject({
      url: "/api/v1/children/echo",
      headers: { ...(await bearer("county.admin")), traceparent: `00-${traceId}-00f067aa0ba902b7-01`, "x-request-id": "req-42" },
    });
    expect(res.statusCode).toBe(200);
    const seen = seenByFake.at(-1)!.headers;
    expect(seen.authorization).toBe(`Bearer ${await registry.token("county.admin")}`);
    // The id is the gateway's (issue 14: a client's x-request-id is kept in the audit row, never trusted).
    expect(seen["x-request-id"]).toBe(res.headers["x-request-id"]);
    expect(seen["x-request-id"]).not.toBe("req-42");
    expect(String(seen.traceparent ?? "")).toMatch(new RegExp(`^00-${traceId}-`));
    await app.close();
  });

  it("answers 503 with Retry-After in our shape when the upstream is down", async () => {
    const app = await gatewayWith([{ name: "down", url: "http://127.0.0.1:1", prefixes: ["/api/v1/children"] }]);
    const res = await app.inject({ url: "/api/v1/children", headers: await bearer("county.admin") });
    expect(res.statusCode).toBe(503);
    expect(res.headers["retry-after"]).toBe("5");
    expect(res.json().error.code).toBe("SERVICE_UNAVAILABLE");
    await app.close();
  });

  it("retries a GET once when the upstream resets the connection, and never retries a POST", async () => {
    // A server that drops the first connection of each request kind without answering, then answers.
    const { createServer } = await import("node:http");
    const attempts: Record<string, number> = {};
    const flaky = createServer((req, res) => {
      const n = (attempts[req.method!] = (attempts[req.method!] ?? 0) + 1);
      if (n === 1) return req.socket.destroy();
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ ok: true, method: req.method }));
    });
    await new Promise<void>((r) => flaky.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(flaky.address() as { port: number }).port}`;
    const app = await gatewayWith([{ name: "flaky", url, prefixes: ["/api/v1/children"] }]);
    const headers = await bearer("county.admin");
    const read = await app.inject({ url: "/api/v1/children/flaky", headers });
    expect(read.statusCode).toBe(200);
    expect(attempts.GET).toBe(2);
    const write = await app.inject({
      method: "POST",
      url: "/api/v1/children/flaky",
      headers: { ...headers, "content-type": "application/json" },
      payload: "{}",
    });
    expect(write.statusCode).toBe(503);
    expect(attempts.POST).toBe(1);
    await app.close();
    await new Promise((r) => flaky.close(r));
  });

  it("keeps serving when Redis is unreachable: limits counted in memory, said in metrics, back on Redis when it returns", async () => {
    // A Redis client pointed at a port nobody listens on behaves like Redis being down.
    const deadRedis = new Redis("redis://127.0.0.1:1", { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true, retryStrategy: () => 200 });
    deadRedis.on("error", () => undefined);
    const app = await gatewayWith([{ name: "fake", url: fakeUrl, prefixes: ["/api/v1/children"] }], {
      redis: deadRedis,
      rateLimitPerMinute: 3,
      rateLimitNamespace: `${namespace}dead-`,
    });
    const a = await bearer("changling.director");
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await app.inject({ url: "/api/v1/children/echo", headers: a })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
    const metrics = (await app.inject({ url: "/metrics" })).body;
    expect(metrics).toMatch(/gateway_rate_limit_fallback_active\{[^}]*\} 1/);
    expect(metrics).toMatch(/gateway_rate_limit_fallback_total\{[^}]*\} 4/);
    await app.close();
    deadRedis.disconnect();
  });

  it("answers 504 in our shape when the upstream is too slow", async () => {
    const app = await gatewayWith([{ name: "fake", url: fakeUrl, prefixes: ["/api/v1/children"] }], { timeoutMs: 300 });
    const res = await app.inject({ url: "/api/v1/children/slow", headers: await bearer("county.admin") });
    expect(res.statusCode).toBe(504);
    expect(res.json().error.code).toBe("UPSTREAM_TIMEOUT");
    await app.close();
  });

  it("drops per-connection headers both ways and passes the rest, bodies included", async () => {
    const app = await gatewayWith([{ name: "fake", url: fakeUrl, prefixes: ["/api/v1/children"] }]);
    const headers = await bearer("county.admin");
    const hop = await app.inject({ url: "/api/v1/children/hop", headers });
    expect(hop.statusCode).toBe(200);
    expect(hop.headers["x-kept"]).toBe("yes");
    expect(hop.headers["x-conn-secret"]).toBeUndefined();
    const up = await app.inject({
      method: "POST",
      url: "/api/v1/children/upload",
      headers: { ...headers, "content-type": "application/json", connection: "keep-alive, x-client-secret", "x-client-secret": "s", "x-client-kept": "k" },
      payload: JSON.stringify({ name: "李小花" }),
    });
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({ got: { name: "李小花" } });
    const seen = seenByFake.at(-1)!.headers;
    expect(seen["x-client-secret"]).toBeUndefined();
    expect(seen["x-client-kept"]).toBe("k");
    await app.close();
  });

  it("passes a large upload sent with Expect: 100-continue (curl's default above 1 MB)", async () => {
    const app = await gatewayWith([{ name: "fake", url: fakeUrl, prefixes: ["/api/v1/children"] }]);
    const url = new URL(await app.listen({ port: 0, host: "127.0.0.1" }));
    const { request } = await import("node:http");
    const payload = JSON.stringify({ name: "李小花", blob: "x".repeat(2 * 1024 * 1024) });
    const headers = {
      ...(await bearer("county.admin")),
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(payload)),
      expect: "100-continue",
    };
    const result = await new Promise<{ status: number; continued: boolean; body: string }>((resolve, reject) => {
      let continued = false;
      const req = request({ host: url.hostname, port: url.port, path: "/api/v1/children/upload", method: "POST", headers }, (res) => {
        let body = "";
        res.on("data", (d) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode!, continued, body }));
      });
      req.on("continue", () => {
        continued = true;
        req.end(payload);
      });
      req.on("error", reject);
    });
    expect(result.continued).toBe(true);
    expect(result.status).toBe(200);
    expect(JSON.parse(result.body).got.blob).toHaveLength(2 * 1024 * 1024);
    expect(seenByFake.at(-1)!.headers.expect).toBeUndefined();
    await app.close();
  });

  it("rate-limits per user, not per address", async () => {
    const app = await gatewayWith([{ name: "fake", url: fakeUrl, prefixes: ["/api/v1/children"] }], {
      rateLimitPerMinute: 3,
      rateLimitNamespace: `${namespace}per-user-`,
    });
    const a = await bearer("changling.director");
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await app.inject({ url: "/api/v1/children/echo", headers: a })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
    const limited = await app.inject({ url: "/api/v1/children/echo", headers: a });
    expect(limited.json().error.code).toBe("RATE_LIMITED");
    expect((await app.inject({ url: "/api/v1/children/echo", headers: await bearer("changling.teacher") })).statusCode).toBe(200);
    await app.close();
  });

  it("answers /api/v1/public/ without a token, audited under the link; any other spelling needs a token; limited per address", async () => {
    const app = await gatewayWith([{ name: "fake", url: fakeUrl, prefixes: ["/api/v1/children", "/api/v1/public/letters"] }], {
      publicRateLimitPerMinute: 3,
      rateLimitNamespace: `${namespace}public-`,
    });
    const opened = await app.inject({ url: "/api/v1/public/letters/Abc-123_x", remoteAddress: "10.1.1.1" });
    expect(opened.statusCode).toBe(200);
    expect(opened.headers["x-shouhu-audit"]).toBeUndefined();
    await app.audit.drain();
    const [row] = await prisma.auditEntry.findMany({ where: { path: "/api/v1/public/letters/Abc-123_x" } });
    expect(row).toMatchObject({ userId: "public", action: "letter-read", childIds: ["0190f000-0000-7000-8000-000000000001"], sourceIp: "10.1.1.1" });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await app.inject({ url: "/api/v1/public/letters/x", remoteAddress: "10.1.1.3" })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
    // Dot segments and escapes never make a public path: the token is asked for as anywhere else. Sent raw over
    // a socket (inject would resolve the dot segments before the gateway saw them).
    const base = new URL(await app.listen({ port: 0, host: "127.0.0.1" }));
    const raw = (path: string) =>
      new Promise<number>((resolve, reject) =>
        http.get({ host: base.hostname, port: base.port, path }, (res) => (res.resume(), resolve(res.statusCode!))).on("error", reject),
      );
    for (const url of [
      "/api/v1/public/letters/../../children/echo",
      "/api/v1/public/letters/%2e%2e/%2e%2e/children/echo",
      "/api/v1/public/%2E%2E/children/echo",
      "/api/v1/public/letters/./x",
      "/api/v1/public/letters/.%2e/x",
      "/api/v1/publicx/letters/x",
    ]) {
      expect(await raw(url), url).toBe(401);
    }
    await app.close();
  });

  it("rate limiting moves to memory when Redis dies and back to Redis when it returns", async () => {
    const scratch = await startScratchRedis();
    const own = new Redis(scratch.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => 100 });
    own.on("error", () => undefined);
    const app = await gatewayWith([{ name: "fake", url: fakeUrl, prefixes: ["/api/v1/children"] }], { redis: own, rateLimitNamespace: `${namespace}flip-` });
    const a = await bearer("changling.director");
    const active = async () => /gateway_rate_limit_fallback_active\{[^}]*\} 1/.test((await app.inject({ url: "/metrics" })).body);
    expect((await app.inject({ url: "/api/v1/children/echo", headers: a })).statusCode).toBe(200);
    expect(await active()).toBe(false);
    await scratch.kill();
    await until("Redis seen down", async () => own.status !== "ready");
    expect((await app.inject({ url: "/api/v1/children/echo", headers: a })).statusCode).toBe(200);
    expect(await active()).toBe(true);
    await scratch.start();
    await until("Redis reconnected", async () => own.status === "ready", 10_000);
    // Leases renew after a quiet second; the next lease comes from Redis again.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await app.inject({ url: "/api/v1/children/echo", headers: a })).statusCode).toBe(200);
    expect(await active()).toBe(false);
    expect(await own.keys(`${namespace}flip-*`)).not.toHaveLength(0);
    await app.close();
    own.disconnect();
    await scratch.destroy();
  });

  it("withholds a child record when the audit cannot be journaled (503)", async () => {
    const broken = await createTestDatabase("gateway_noaudit");
    const brokenPrisma = new PrismaClient({ adapter: createPrismaAdapter(broken.url) });
    const app = await buildGatewayApp({
      prisma: brokenPrisma, // no audit table in this database
      // Full already: as after PostgreSQL was away long enough to fill AUDIT_JOURNAL_MAX_MB.
      auditJournal: { maxBytes: 1 },
      verifier: createTokenVerifier({ issuerUrl: registry.issuerUrl, audience: "shouhu-api" }),
      redis,
      logger: createLogger("gateway-test", "silent"),
      upstreams: [{ name: "registry", url: registryUrl, prefixes: ["/api/v1/children"] }],
      corsOrigins: [],
      rateLimitPerMinute: 1000,
      rateLimitNamespace: `${namespace}broken-`,
    });
    const list = await app.inject({ url: "/api/v1/children", headers: await bearer("county.admin") });
    expect(list.statusCode).toBe(503);
    expect(list.json().error.code).toBe("AUDIT_UNAVAILABLE");
    expect(list.body).not.toMatch(/李小花/);
    expect(list.headers["content-length"]).toBe(String(Buffer.byteLength(list.body))); // ours, not the withheld body's
    await app.close();
    await brokenPrisma.$disconnect();
    await broken.drop();
  });
});
