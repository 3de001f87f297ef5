import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import Fastify, { type FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { AUDIT_HEADER, createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { createPgPool, createPrismaAdapter } from "@shouhu/db";
import { adminUrl, testPrefix, until, type TestDatabase, type TestIssuer } from "@shouhu/testing";
import { PrismaClient } from "../src/generated/prisma/client.js";
import { buildGatewayApp } from "../src/app.js";
import { AuditWriter, type AuditRecord } from "../src/audit/writer.js";
import { archiveChain, verifyArchive, verifyChain } from "../src/audit/chain.js";
import { grantRuntimeRole } from "../src/audit/grants.js";
import { gatewayTest } from "./harness.js";

const ROLE = "shouhu_gateway_app";
const CHILD = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
const MISSING = "0190a1b2-c3d4-7e5f-8a9b-000000000404";

let db: TestDatabase;
let owner: pg.Pool;
let runtime: pg.Pool;
let runtimeUrl: string;
let issuer: TestIssuer;
let redis: Redis;
let prisma: PrismaClient;
let upstream: FastifyInstance;
let gateway: ServiceApp & { audit: AuditWriter };
let tmp: string;

const record = (i: number, over: Partial<AuditRecord> = {}): AuditRecord => ({
  userId: "u1",
  username: "changling.supervisor",
  roles: ["township-supervisor"],
  orgUnit: "360999101",
  action: "read",
  childIds: [CHILD],
  method: "GET",
  path: `/api/v1/children/${CHILD}`,
  status: 200,
  requestId: `r-${i}`,
  outcome: "allowed",
  sourceIp: "10.0.0.7",
  ...over,
});

/** Records through a writer of their own and waits until they are in PostgreSQL. */
async function written(...records: AuditRecord[]): Promise<void> {
  const writer = new AuditWriter(prisma, { pool: runtime });
  for (const r of records) writer.record(r);
  await writer.close();
}

async function asRuntime<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await runtime.connect();
  try {
    return await fn(c);
  } finally {
    c.release();
  }
}

gatewayTest("gateway_audit").beforeAll(async ({ db: testDb, issuer: testIssuer, redis: testRedis }) => {
  [db, issuer, redis] = [testDb, testIssuer, testRedis];
  tmp = mkdtempSync(path.join(os.tmpdir(), "shouhu-audit-"));
  // The runtime role is cluster-wide (as in a deployment): made once, granted per database.
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(
    `DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${ROLE}') THEN CREATE ROLE ${ROLE} LOGIN; END IF; EXCEPTION WHEN duplicate_object THEN NULL; END$$`,
  );
  await admin.end();
  owner = createPgPool(db.url, { max: 2 });
  await grantRuntimeRole(owner, ROLE);
  const u = new URL(db.url);
  u.username = ROLE;
  u.password = "";
  runtimeUrl = u.toString();
  runtime = createPgPool(runtimeUrl, { max: 4 });

  prisma = new PrismaClient({ adapter: createPrismaAdapter(runtimeUrl) });
  upstream = Fastify();
  upstream.get("/api/v1/children/:id", async (request, reply) => {
    const { id } = request.params as { id: string };
    if (id === MISSING) return reply.code(404).send({ error: { code: "NOT_FOUND", message: "儿童档案不存在" } });
    return reply.header(AUDIT_HEADER, JSON.stringify({ action: "read", childIds: [id] })).send({ id });
  });
  const upstreamUrl = await upstream.listen({ port: 0, host: "127.0.0.1" });
  gateway = await buildGatewayApp({
    prisma,
    auditPool: runtime,
    verifier: createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web"] }),
    redis,
    logger: createLogger("gateway-audit-test", "silent"),
    upstreams: [{ name: "registry", url: upstreamUrl, prefixes: ["/api/v1/children"] }],
    corsOrigins: [],
    rateLimitPerMinute: 1000,
    rateLimitNamespace: `${testPrefix("gw-audit")}-rl-`,
    trustProxy: "127.0.0.1",
  });
  await gateway.ready();
});

afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
  await prisma?.$disconnect();
  await runtime?.end();
  await owner?.end();
  rmSync(tmp, { recursive: true, force: true });
});

describe("the audit trail as an inspection needs it", () => {
  it("each request gets the server's own id; a client's x-request-id is kept beside it, with the source address and outcome", async () => {
    const res = await gateway.inject({
      url: `/api/v1/children/${CHILD}`,
      headers: { ...(await issuer.as("changling.supervisor")), "x-request-id": "client-chosen-id", "x-forwarded-for": "203.0.113.9" },
    });
    expect(res.statusCode).toBe(200);
    const id = String(res.headers["x-request-id"]);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    await gateway.audit.drain();
    const [row] = (
      await owner.query(
        "SELECT request_id, client_request_id, source_ip, outcome, child_ids::text[] AS child_ids, seq FROM audit_entries WHERE request_id = $1",
        [id],
      )
    ).rows;
    expect(row).toMatchObject({ request_id: id, client_request_id: "client-chosen-id", source_ip: "203.0.113.9", outcome: "allowed", child_ids: [CHILD] });
    expect(row.seq).not.toBeNull();
  });

  it("records refused attempts: no token (401) and a child the caller may not see (404), with who and from where", async () => {
    const anonymous = await gateway.inject({ url: `/api/v1/children/${CHILD}`, headers: { "x-forwarded-for": "198.51.100.4" } });
    expect(anonymous.statusCode).toBe(401);
    const missing = await gateway.inject({ url: `/api/v1/children/${MISSING}`, headers: await issuer.as("changling.supervisor") });
    expect(missing.statusCode).toBe(404);
    await until(
      "both refused attempts recorded",
      async () => (await owner.query("SELECT count(*)::int AS n FROM audit_entries WHERE outcome = 'refused'")).rows[0].n === 2,
    );
    const { rows } = await owner.query(
      "SELECT status, user_id, username, source_ip, child_ids::text[] AS child_ids FROM audit_entries WHERE outcome = 'refused' ORDER BY seq",
    );
    expect(rows[0]).toMatchObject({ status: 401, user_id: "", source_ip: "198.51.100.4", child_ids: [CHILD] });
    expect(rows[1]).toMatchObject({ status: 404, username: "changling.supervisor", child_ids: [MISSING] });
  });

  it("the runtime role may append and read, never change, delete or truncate; not even the owner may change a row", async () => {
    await written(record(1));
    await asRuntime(async (c) => {
      await expect(c.query("UPDATE audit_entries SET path = '/x'")).rejects.toThrow(/permission denied/);
      await expect(c.query("DELETE FROM audit_entries")).rejects.toThrow(/permission denied/);
      await expect(c.query("TRUNCATE audit_entries")).rejects.toThrow(/permission denied/);
      await expect(c.query("UPDATE audit_head SET seq = 0")).rejects.toThrow(/permission denied/);
      await expect(c.query("SELECT audit_archive_cut(1, 'x', 'y', interval '365 days')")).rejects.toThrow(/permission denied/);
    });
    await expect(owner.query("UPDATE audit_entries SET path = '/x'")).rejects.toThrow(/append-only/);
    await expect(owner.query("DELETE FROM audit_entries")).rejects.toThrow(/append-only/);
    await expect(owner.query("TRUNCATE audit_entries")).rejects.toThrow(/append-only/);
  });

  it("concurrent writers (two gateway replicas) append one unbroken chain", async () => {
    const other = createPgPool(runtimeUrl, { max: 2 });
    try {
      const a = new AuditWriter(prisma, { pool: runtime, maxBatch: 20 });
      const b = new AuditWriter(prisma, { pool: other, maxBatch: 20 });
      for (let i = 0; i < 300; i++) (i % 2 ? a : b).record(record(100 + i));
      await Promise.all([a.close(), b.close()]);
    } finally {
      await other.end();
    }
    const result = await verifyChain(owner);
    expect(result).toMatchObject({ ok: true });
    const { rows } = await owner.query("SELECT count(*)::int AS n, max(seq)::int AS top, min(seq)::int AS bottom FROM audit_entries");
    expect(rows[0].top - rows[0].bottom + 1).toBe(rows[0].n);
  });

  it("the county admin queries by child, user, outcome and period, own county only; bad filters get a 400 naming the field", async () => {
    await written(record(900, { orgUnit: "360888101", username: "other.county" }));
    const admin = await issuer.as("county.admin");
    const res = await gateway.inject({ url: `/api/v1/audit?childId=${CHILD}&limit=500`, headers: admin });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as { username: string; childIds: string[]; orgUnit: string }[];
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((i) => i.childIds.includes(CHILD) && i.orgUnit.startsWith("360999"))).toBe(true);
    const refused = (await gateway.inject({ url: "/api/v1/audit?outcome=refused", headers: admin })).json().items as { outcome: string }[];
    // The unauthenticated attempt has no org unit: it is not any county's staff.
    expect(refused.map((i) => i.outcome)).toEqual(["refused"]);
    const byUser = (await gateway.inject({ url: "/api/v1/audit?userId=u1&from=2020-01-01T00:00:00Z&to=2100-01-01T00:00:00Z&limit=5", headers: admin })).json();
    expect(byUser.items).toHaveLength(5);
    expect(byUser.nextCursor).not.toBeNull();
    const bad = await gateway.inject({ url: "/api/v1/audit?from=2026-12-05T00:00:00Z&to=2026-01-01T00:00:00Z", headers: admin });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain("from");
    expect((await gateway.inject({ url: "/api/v1/audit?outcome=maybe", headers: admin })).statusCode).toBe(400);
    expect((await gateway.inject({ url: "/api/v1/audit", headers: await issuer.as("changling.supervisor") })).statusCode).toBe(403);
  });

  it("archives what is older than the retention to a file with an anchor; both verify; a changed file or a changed row is found", async () => {
    // Rows of a year ago, appended (as an import of old logs would be) before today's.
    await owner.query("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only");
    try {
      // Move the chain's existing rows back in time and re-chain them is not possible; instead archive
      // only when the oldest prefix is old: make every row so far a year old, then re-hash (superuser only).
      await owner.query("UPDATE audit_entries SET at = at - interval '365 days'");
    } finally {
      await owner.query("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only");
    }
    // That rewrite is exactly what verify must catch…
    const tampered = await verifyChain(owner);
    expect(tampered).toMatchObject({ ok: false, reason: expect.stringContaining("记录被改动") });
    // …so re-chain them as the migration would have (superuser, for this test only).
    await owner.query(`DO $$ DECLARE r audit_entries; h bytea := sha256(convert_to('shouhu-audit-genesis', 'UTF8'));
      BEGIN SET LOCAL session_replication_role = replica;
        FOR r IN SELECT * FROM audit_entries ORDER BY seq LOOP
          UPDATE audit_entries SET prev_hash = h, hash = sha256(h || convert_to(audit_canonical(r), 'UTF8')) WHERE id = r.id RETURNING hash INTO h;
        END LOOP;
        UPDATE audit_head SET hash = h WHERE id = 1; END $$`);
    expect(await verifyChain(owner)).toMatchObject({ ok: true });
    const before = (await owner.query("SELECT count(*)::int AS n FROM audit_entries")).rows[0].n as number;
    await written(record(1000)); // today's: stays

    await expect(archiveChain(owner, { dir: tmp, retentionDays: 30 })).rejects.toThrow(/180/);
    const archived = await archiveChain(owner, { dir: tmp, retentionDays: 180 });
    expect(archived.rows).toBe(before);
    expect((await owner.query("SELECT count(*)::int AS n FROM audit_entries")).rows[0].n).toBe(1);
    expect(await verifyChain(owner)).toMatchObject({ ok: true, rows: 1 });
    expect(await verifyArchive(owner, archived.file!)).toMatchObject({ ok: true, rows: before });
    // Nothing younger than the retention can be cut, even by the owner's function.
    const last = (await owner.query("SELECT max(seq)::text AS s FROM audit_entries")).rows[0].s;
    await expect(owner.query("SELECT audit_archive_cut($1, 'x', 'y', interval '180 days')", [last])).rejects.toThrow(/younger/);

    // One byte of one row changed in the archive: the file no longer matches its anchor.
    const text = gunzipSync(readFileSync(archived.file!)).toString("utf8").replace("changling.supervisor", "changling.superviser");
    writeFileSync(archived.file!, gzipSync(text));
    expect(await verifyArchive(owner, archived.file!)).toMatchObject({ ok: false, reason: expect.stringContaining("SHA-256") });
  });

  it("a deleted row breaks the chain at the next one", async () => {
    await written(record(2000), record(2001), record(2002));
    const { rows } = await owner.query("SELECT seq::text FROM audit_entries ORDER BY seq");
    const victim = rows[rows.length - 2].seq as string;
    await owner.query("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only");
    await owner.query("DELETE FROM audit_entries WHERE seq = $1", [victim]);
    await owner.query("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only");
    const result = await verifyChain(owner);
    expect(result).toMatchObject({ ok: false, seq: String(BigInt(victim) + 1n), reason: expect.stringContaining("序号不连续") });
  });
});
