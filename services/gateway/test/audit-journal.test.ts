import { spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Fastify, { type FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import type pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { AUDIT_HEADER, createLogger } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { createPgPool } from "@shouhu/db";
import { testPrefix, until, type TestDatabase, type TestIssuer } from "@shouhu/testing";
import { PrismaClient } from "../src/generated/prisma/client.js";
import { buildGatewayApp } from "../src/app.js";
import { AuditJournalFullError, AuditWriter, type AuditRecord } from "../src/audit/writer.js";
import { verifyChain } from "../src/audit/chain.js";
import { gatewayTest } from "./harness.js";

// The audit trail's write path off the request's: a crash of the gateway, an INSERT
// whose commit was never confirmed and an outage of PostgreSQL each lose no row and
// duplicate none, and the journal bounds what it holds.
const CHILD = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

let db: TestDatabase;
let owner: pg.Pool;
let prisma: PrismaClient;
let tmp: string;

const record = (id: string): AuditRecord => ({
  userId: "u1",
  username: "journal.test",
  roles: ["county-admin"],
  orgUnit: "360999",
  action: "read",
  childIds: [CHILD],
  method: "GET",
  path: `/api/v1/children/${CHILD}`,
  status: 200,
  requestId: id,
  outcome: "allowed",
  sourceIp: "10.0.0.7",
});

const journalText = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl"))
    .sort()
    .map((f) => readFileSync(path.join(dir, f), "utf8"))
    .join("");

const rowsLike = async (prefix: string) =>
  (await owner.query("SELECT request_id FROM audit_entries WHERE request_id LIKE $1 ORDER BY seq", [`${prefix}%`])).rows.map((r) => r.request_id as string);

const test = gatewayTest("gateway_journal");

test.beforeAll(async ({ db: testDb, prisma: testPrisma }) => {
  [db, prisma] = [testDb, testPrisma];
  tmp = mkdtempSync(path.join(os.tmpdir(), "shouhu-journal-test-"));
  owner = createPgPool(db.url, { max: 2 });
});

afterAll(async () => {
  await owner?.end();
  rmSync(tmp, { recursive: true, force: true });
});

describe("a crash of the gateway", () => {
  it("loses no row and duplicates none: the next start replays the journal and skips what was committed", async () => {
    const dir = path.join(tmp, "crash");
    // tsx as a loader in the process itself (its CLI would run the script in a grandchild).
    const tsx = createRequire(import.meta.url).resolve("tsx");
    const child = spawn(process.execPath, ["--import", tsx, fileURLToPath(new URL("./fixtures/crash-writer.ts", import.meta.url)), db.url, dir, "300", "200"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const signal = await new Promise((resolve) => child.on("exit", (_code, sig) => resolve(sig)));
    expect(signal, stderr).toBe("SIGKILL");
    // The first INSERT committed; the journal still holds those rows and 200 more.
    expect(await rowsLike("crash-")).toHaveLength(300);
    expect(journalText(dir).trim().split("\n")).toHaveLength(500);
    // And the crash cut a line short (as a power loss mid-write could).
    const last = readdirSync(dir)
      .filter((f) => f.endsWith(".jsonl"))
      .sort()
      .at(-1)!;
    appendFileSync(path.join(dir, last), '{"userId":"u-crash","requestId":"crash-torn"');

    const restarted = new AuditWriter(prisma, { pool: owner, dir });
    await restarted.drain();
    expect(restarted.counts).toMatchObject({ inserted: 200, duplicates: 300, unreadable: 1 });
    await restarted.close();
    const ids = await rowsLike("crash-");
    expect(ids).toHaveLength(500);
    expect(new Set(ids)).toEqual(new Set(Array.from({ length: 500 }, (_, i) => `crash-${i}`)));
    expect(await verifyChain(owner)).toMatchObject({ ok: true });
    // Nothing left to replay.
    expect(journalText(dir)).toBe("");
  });

  it("an INSERT whose commit was not confirmed is retried, and its rows are written once", async () => {
    let dropped = 0;
    const flaky = {
      async query(config: { name: string; text: string; values: unknown[] }) {
        const result = await owner.query(config);
        if (dropped++ === 0) throw Object.assign(new Error("Connection terminated unexpectedly"), { code: "ECONNRESET" });
        return result;
      },
    };
    const writer = new AuditWriter(prisma, { pool: flaky, dir: path.join(tmp, "flaky"), retryMs: [10, 10] });
    for (let i = 0; i < 50; i++) writer.record(record(`flaky-${i}`));
    await writer.drain();
    expect(writer.counts).toMatchObject({ failures: 1, duplicates: 50, inserted: 0 });
    await writer.close();
    expect(await rowsLike("flaky-")).toHaveLength(50);
  });

  it("a journal directory is one gateway's: a second writer on it is refused while the first lives", async () => {
    const dir = path.join(tmp, "locked");
    const writer = new AuditWriter(prisma, { pool: owner, dir });
    expect(() => new AuditWriter(prisma, { pool: owner, dir })).toThrow(/already open/);
    await writer.close();
    // A lock left by a live process (here: vitest's parent) is respected too.
    writeFileSync(path.join(dir, "journal.lock"), String(process.ppid));
    expect(() => new AuditWriter(prisma, { pool: owner, dir })).toThrow(/in use by process/);
    rmSync(path.join(dir, "journal.lock"));
  });

  it("rows journaled for one database are not replayed into another", async () => {
    const dir = path.join(tmp, "other-db");
    const down = { query: async () => Promise.reject(new Error("connect ECONNREFUSED")) };
    const left = new AuditWriter(prisma, { pool: down, dir, database: "10.0.0.1:5432/shouhu_gateway" });
    left.record(record("other-db-1"));
    await left.close(50); // PostgreSQL away at shutdown: the row stays in the journal
    expect(() => new AuditWriter(prisma, { pool: owner, dir, database: "127.0.0.1:5432/elsewhere" })).toThrow(/holds unwritten rows for 10\.0\.0\.1/);
    const right = new AuditWriter(prisma, { pool: owner, dir, database: "10.0.0.1:5432/shouhu_gateway" });
    await right.drain();
    await right.close();
    expect(await rowsLike("other-db-")).toEqual(["other-db-1"]);
  });

  it("with sync group, a response can wait for an fdatasync covering its record; with none there is nothing to wait for", async () => {
    const writer = new AuditWriter(prisma, { pool: owner, dir: path.join(tmp, "group"), sync: "group" });
    for (const i of [0, 1, 2]) writer.record(record(`group-${i}`));
    const onDisk = writer.onDisk();
    expect(onDisk).toBeInstanceOf(Promise);
    await onDisk;
    await writer.close();
    const plain = new AuditWriter(prisma, { pool: owner, dir: path.join(tmp, "plain") });
    expect(plain.onDisk()).toBeUndefined();
    await plain.close();
    expect(await rowsLike("group-")).toHaveLength(3);
  });
});

/** A TCP hop to PostgreSQL that can be cut and restored: the database "goes away" for the gateway only. */
async function cuttablePostgres(target: URL) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => undefined);
      s.on("close", () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as net.AddressInfo).port;
  const url = new URL(target);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    async cut() {
      await new Promise<void>((r) => {
        server.close(() => r());
        for (const s of sockets) s.destroy();
      });
    },
    restore: () => new Promise<void>((r) => server.listen(port, "127.0.0.1", r)),
    close: () => new Promise<void>((r) => (server.listening ? server.close(() => r()) : r())),
  };
}

describe("PostgreSQL unreachable, then back", () => {
  let issuer: TestIssuer;
  let redis: Redis;
  let upstream: FastifyInstance;
  let hop: Awaited<ReturnType<typeof cuttablePostgres>>;
  let pool: pg.Pool;

  test.beforeAll(async ({ issuer: testIssuer, redis: testRedis }) => {
    [issuer, redis] = [testIssuer, testRedis];
    upstream = Fastify();
    upstream.get("/api/v1/children/:id", async (request, reply) => {
      const { id } = request.params as { id: string };
      return reply.header(AUDIT_HEADER, JSON.stringify({ action: "read", childIds: [id] })).send({ id, name: "李小花" });
    });
    hop = await cuttablePostgres(new URL(db.url));
    pool = createPgPool(hop.url, { max: 2 });
  });

  afterAll(async () => {
    await upstream?.close();
    await pool?.end();
    await hop?.close();
  });

  it("reads are served while the journal grows, refused with 503 past its bound, and the journal drains by itself", async () => {
    const dir = path.join(tmp, "outage");
    // Room for a few records only (each ~450 bytes), so the bound is reached in a few requests;
    // the first two kept as objects too, the rest read back from the file when PostgreSQL returns.
    const audit = new AuditWriter(prisma, { pool, dir, maxBytes: 4096, cacheBytes: 1000, retryMs: [20, 200] });
    const gateway = await buildGatewayApp({
      prisma,
      audit,
      verifier: createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web"] }),
      redis,
      logger: createLogger("gateway-journal-test", "silent"),
      upstreams: [{ name: "registry", url: await upstream.listen({ port: 0, host: "127.0.0.1" }), prefixes: ["/api/v1/children"] }],
      corsOrigins: [],
      rateLimitPerMinute: 10_000,
      rateLimitNamespace: `${testPrefix("gw-journal")}-rl-`,
    });
    try {
      const headers = await issuer.as("county.admin");
      const read = () => gateway.inject({ url: `/api/v1/children/${CHILD}`, headers });
      const before = await read();
      expect(before.statusCode).toBe(200);
      await audit.drain();

      await hop.cut();
      const served: string[] = [];
      let refused: Awaited<ReturnType<typeof read>> | undefined;
      for (let i = 0; i < 40 && !refused; i++) {
        const res = await read();
        if (res.statusCode === 200) served.push(String(res.headers["x-request-id"]));
        else refused = res;
      }
      // Served while PostgreSQL was away, each in the journal before its answer left.
      expect(served.length).toBeGreaterThan(2);
      const journal = journalText(dir);
      for (const id of served) expect(journal).toContain(id);
      expect(await owner.query("SELECT 1 FROM audit_entries WHERE request_id = ANY($1)", [served]).then((r) => r.rowCount)).toBe(0);
      expect(audit.counts.failures).toBeGreaterThan(0);
      expect((await gateway.inject({ url: "/metrics" })).body).toMatch(/gateway_audit_journal_bytes\{[^}]*\} [1-9]/);
      // Past the bound: the read is withheld, as an unaudited read must be.
      expect(refused?.statusCode).toBe(503);
      expect(refused?.json().error.code).toBe("AUDIT_UNAVAILABLE");
      expect(refused?.body).not.toContain("李小花");
      expect(() => audit.record(record("x".repeat(5000)))).toThrow(AuditJournalFullError);
      expect(audit.full).toBe(true); // /readyz fails (main.ts)

      await hop.restore();
      // No drain(): the writer's own retries empty the journal.
      await until("the journal drained by itself", async () => audit.pendingBytes === 0);
      expect(audit.full).toBe(false);
      expect(await owner.query("SELECT request_id FROM audit_entries WHERE request_id = ANY($1)", [served]).then((r) => r.rowCount)).toBe(served.length);
      expect((await read()).statusCode).toBe(200);
      expect(await verifyChain(owner)).toMatchObject({ ok: true });
    } finally {
      await gateway.close();
    }
    expect(journalText(dir)).toBe("");
  });
});
