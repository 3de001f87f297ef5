import Fastify, { type FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { InMemorySpanExporter } from "@opentelemetry/sdk-trace-node";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger, initTelemetry, markAudit, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { createPgPool } from "@shouhu/db";
import { testPrefix, until, type TestDatabase, type TestIssuer } from "@shouhu/testing";
import { PrismaClient } from "../src/generated/prisma/client.js";
import fastifyHelmet from "@fastify/helmet";
import { buildGatewayApp, helmetOptions, securityHeaders } from "../src/app.js";
import { AuditWriter, type AuditRecord } from "../src/audit/writer.js";
import { leasedRedisStore } from "../src/rate-limit-store.js";
import { gatewayTest } from "./harness.js";

// The gateway's per-request work, made cheaper for throughput, must keep its
// guarantees: one trace across the hop, and every audited response's row written
// (from the journal, tested in audit-journal.test.ts for crashes and outages).
const exporter = new InMemorySpanExporter();
const { instrumentation } = initTelemetry({ serviceName: "gateway-hot-path-test", exporter });

let db: TestDatabase;
let prisma: PrismaClient;
let pool: ReturnType<typeof createPgPool>;
let redis: Redis;
let issuer: TestIssuer;
let upstream: FastifyInstance;
let gateway: ServiceApp & { audit: AuditWriter };
const namespace = `${testPrefix("gwhot")}-rl-`;
const childId = "01900000-0000-7000-8000-0000000000aa";
const seen: Record<string, unknown>[] = [];
const manyChildIds = Array.from({ length: 2000 }, (_, i) => `01900000-0000-7000-8000-${String(i).padStart(12, "0")}`);

gatewayTest("gateway_hot").beforeAll(async ({ db: testDb, prisma: testPrisma, redis: testRedis, issuer: testIssuer }) => {
  [db, prisma, redis, issuer] = [testDb, testPrisma, testRedis, testIssuer];
  pool = createPgPool(db.url, { max: 2 });
  upstream = Fastify();
  upstream.get("/api/v1/children/:id", async (request, reply) => {
    seen.push(request.headers);
    // What the registry does: name the child record in the audit header.
    markAudit(reply, "read", [(request.params as { id: string }).id]);
    return { id: (request.params as { id: string }).id };
  });
  upstream.get("/api/v1/children", async (_request, reply) => {
    // A long list (a campaign roster, an export page): the header names every child.
    markAudit(reply, "list", manyChildIds);
    return { items: manyChildIds.map((id) => ({ id })) };
  });
  const upstreamUrl = await upstream.listen({ port: 0, host: "127.0.0.1" });
  gateway = await buildGatewayApp({
    prisma,
    auditPool: pool,
    verifier: createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] }),
    redis,
    logger: createLogger("gateway-test", "silent"),
    instrumentation,
    upstreams: [{ name: "registry", url: upstreamUrl, prefixes: ["/api/v1/children"] }],
    corsOrigins: [],
    rateLimitPerMinute: 100_000,
    rateLimitNamespace: namespace,
    timeoutMs: 2000,
  });
  await gateway.ready();
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
  const keys = await redis.keys(`${namespace}*`);
  if (keys.length) await redis.del(...keys);
  await pool?.end();
});

describe("tracing through the proxy", () => {
  it("the upstream call is a child of the gateway's request span, in the caller's trace", async () => {
    exporter.reset();
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await gateway.inject({
      url: `/api/v1/children/${childId}`,
      headers: { ...(await issuer.as("county.admin")), traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.statusCode).toBe(200);
    const sent = String(seen.at(-1)!.traceparent);
    const [, sentTrace, sentParent] = sent.split("-");
    expect(sentTrace).toBe(traceId);
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const requestSpan = spans.find((s) => s.spanContext().spanId === sentParent);
    expect(requestSpan, `a finished gateway span with id ${sentParent}`).toBeDefined();
    expect(requestSpan!.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
  });
});

describe("security headers computed once", () => {
  it("are exactly the headers @fastify/helmet sets with the same options", async () => {
    const reference = Fastify();
    await reference.register(fastifyHelmet, helmetOptions);
    reference.get("/x", async () => ({ ok: true }));
    const expected = (await reference.inject({ url: "/x" })).headers;
    await reference.close();
    const ours = securityHeaders(helmetOptions);
    const plain = new Set(["content-type", "content-length", "date", "connection", "keep-alive"]);
    expect(ours.map(([name]) => name).sort()).toEqual(
      Object.keys(expected)
        .filter((h) => !plain.has(h))
        .sort(),
    );
    const res = await gateway.inject({ url: `/api/v1/children/${childId}`, headers: await issuer.as("county.admin") });
    for (const [name] of ours) expect(res.headers[name], name).toBe(expected[name]);
    expect(res.headers["content-security-policy"]).toMatch(/default-src 'none'/);
  });
});

describe("audit batches from the journal", () => {
  const row = (username: string, i: number): AuditRecord => ({
    userId: "u1",
    username,
    roles: ["county-admin"],
    orgUnit: "360999",
    action: "read",
    childIds: [childId],
    method: "GET",
    path: `/api/v1/children/${childId}`,
    status: 200,
    requestId: `${username}-${i}`,
    outcome: "allowed",
    sourceIp: "127.0.0.1",
  });

  it("a response's audit row reaches PostgreSQL from the journal, stamped with the time it was served", async () => {
    const before = new Date();
    const res = await gateway.inject({ url: `/api/v1/children/${childId}`, headers: await issuer.as("county.admin") });
    expect(res.statusCode).toBe(200);
    await gateway.audit.drain();
    const rows = await prisma.auditEntry.findMany({ where: { requestId: String(res.headers["x-request-id"]) } });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ action: "read", childIds: [childId], username: "county.admin", status: 200 });
    expect(rows[0]!.at.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1);
  });

  it("audits a response naming 2,000 children (a 80 kB audit header, past undici's 16 kB default)", async () => {
    const res = await gateway.inject({ url: "/api/v1/children", headers: await issuer.as("county.admin") });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers["x-shouhu-audit"]).toBeUndefined();
    await gateway.audit.drain();
    const [row] = await prisma.auditEntry.findMany({ where: { requestId: String(res.headers["x-request-id"]) } });
    expect(row?.childIds).toHaveLength(2000);
    expect(row?.action).toBe("list");
  });

  it.each(["pg pool", "prisma"])("records journaled together share INSERTs of at most maxBatch rows (%s)", async (via) => {
    const writer = new AuditWriter(prisma, { maxBatch: 50, pool: via === "pg pool" ? pool : undefined });
    const username = `batch.${via.replace(" ", "-")}`;
    try {
      for (let i = 0; i < 120; i++) writer.record(row(username, i));
      await writer.drain();
      expect(writer.pendingBytes).toBe(0);
      expect(await prisma.auditEntry.count({ where: { username } })).toBe(120);
      // 120 rows journaled in one event-loop turn, at most 50 a statement: three INSERTs, three transactions (xmin).
      const times = await prisma.$queryRawUnsafe<{ n: bigint }[]>(
        "SELECT count(DISTINCT xmin::text)::bigint AS n FROM audit_entries WHERE username = $1",
        username,
      );
      expect(Number(times[0]!.n)).toBe(3);
    } finally {
      await writer.close();
    }
  });

  it("a lone row gets its own INSERT; rows journaled while one runs share the next", async () => {
    const batches: number[] = [];
    let release: () => void = () => undefined;
    const counting = {
      query: async (config: { values: unknown[] }) => {
        batches.push((config.values[0] as unknown[]).length);
        if (batches.length === 1) await new Promise<void>((r) => (release = r));
        return { rowCount: (config.values[0] as unknown[]).length };
      },
    };
    const writer = new AuditWriter(prisma, { pool: counting });
    try {
      writer.record(row("lone", 0));
      await until("the first INSERT started", async () => batches.length === 1);
      for (let i = 1; i <= 3; i++) writer.record(row("lone", i));
      release();
      await writer.drain();
      expect(batches).toEqual([1, 3]);
      writer.record(row("lone", 4));
      await writer.drain();
      expect(batches).toEqual([1, 3, 1]);
      expect(writer.counts).toMatchObject({ inserted: 5, duplicates: 0, failures: 0 });
    } finally {
      await writer.close();
    }
  });
});

describe("rate limit permits taken from Redis in leases", () => {
  type Store = { incr(key: string, cb: (err: Error | null, res?: { current: number; ttl: number }) => void, timeWindow?: number, max?: number): void };
  const take = (store: Store, key: string, max: number) =>
    new Promise<number>((resolve, reject) => store.incr(key, (err, res) => (err ? reject(err) : resolve(res!.current)), 60_000, max));
  const counted = () => {
    const client = redis as Redis & { shouhuRateLease?: (...args: unknown[]) => Promise<[number, number]> };
    const sizes: number[] = [];
    const original = client.shouhuRateLease!;
    client.shouhuRateLease = (...args: unknown[]) => {
      sizes.push(args[1] as number);
      return original.apply(client, args);
    };
    return { sizes, restore: () => void (client.shouhuRateLease = original) };
  };

  it("a busy user's permits are unique, in order, and cost far fewer Redis calls than requests", async () => {
    const Store = leasedRedisStore(redis, `${namespace}lease-a-`);
    const store = new Store();
    const calls = counted();
    try {
      const permits: number[] = [];
      for (let i = 0; i < 300; i++) permits.push(await take(store, "busy", 1_000_000));
      expect(permits).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      expect(calls.sizes.length).toBeLessThan(20);
      expect(Math.max(...calls.sizes)).toBeLessThanOrEqual(64);
    } finally {
      calls.restore();
    }
  });

  it("two gateway instances on one Redis never let a user past max together", async () => {
    const Store = leasedRedisStore(redis, `${namespace}lease-b-`);
    const [a, b] = [new Store(), new Store()];
    const max = 50;
    const permits = await Promise.all(Array.from({ length: 160 }, (_, i) => take(i % 2 ? a : b, "shared", max)));
    expect(new Set(permits).size).toBe(permits.length); // no permit handed out twice
    const allowed = permits.filter((p) => p <= max).length;
    expect(allowed).toBeLessThanOrEqual(max);
    expect(allowed).toBeGreaterThan(0);
  });

  it("near the limit a lease never reaches past the permits left", async () => {
    const Store = leasedRedisStore(redis, `${namespace}lease-c-`);
    const store = new Store();
    const calls = counted();
    try {
      const permits: number[] = [];
      for (let i = 0; i < 12; i++) permits.push(await take(store, "near", 10));
      // One instance alone wastes nothing: exactly permits 1…10 are ≤ max.
      expect(permits.filter((p) => p <= 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(permits.slice(10).every((p) => p > 10)).toBe(true);
    } finally {
      calls.restore();
    }
  });
});
