import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { createLogger, createServiceApp, isConcurrentWriteConflict, isDependencyUnavailable, type ServiceApp } from "../src/index.js";

// A real deadlock on the real PostgreSQL: two transactions lock the same two rows in opposite orders.
const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? "postgresql://root@127.0.0.1:5432/postgres";
const name = `kit_conflict_${randomBytes(4).toString("hex")}`;
let url: string;
let deadlock: unknown;
let app: ServiceApp;

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  url = u.toString();
  const [a, b] = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })];
  await a.connect();
  await b.connect();
  await a.query("CREATE TABLE t (id int PRIMARY KEY, n int); INSERT INTO t VALUES (1, 0), (2, 0)");
  await a.query("BEGIN");
  await b.query("BEGIN");
  await a.query("UPDATE t SET n = 1 WHERE id = 1");
  await b.query("UPDATE t SET n = 1 WHERE id = 2");
  const results = await Promise.allSettled([a.query("UPDATE t SET n = 2 WHERE id = 2"), b.query("UPDATE t SET n = 2 WHERE id = 1")]);
  deadlock = results.find((r) => r.status === "rejected")?.reason;
  await a.query("ROLLBACK").catch(() => undefined);
  await b.query("ROLLBACK").catch(() => undefined);
  await a.end();
  await b.end();

  app = await createServiceApp({ service: "kit-conflict-test", logger: createLogger("kit-conflict-test", "silent") });
  app.post("/deadlock", async () => {
    throw deadlock;
  });
  app.post("/prisma-conflict", async () => {
    throw Object.assign(new Error("Transaction failed due to a write conflict or a deadlock. Please retry your transaction"), { code: "P2034" });
  });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
});

describe("two requests changing the same rows at once", () => {
  it("PostgreSQL's deadlock is a conflict to retry, not a dependency down", () => {
    expect((deadlock as { code?: string }).code).toBe("40P01");
    expect(isConcurrentWriteConflict(deadlock)).toBe(true);
    expect(isDependencyUnavailable(deadlock)).toBe(false);
    expect(isConcurrentWriteConflict(new Error("wrapped", { cause: deadlock }))).toBe(true);
    expect(isConcurrentWriteConflict(Object.assign(new Error("unique"), { code: "23505" }))).toBe(false);
  });

  it("answers 409 CONCURRENT_CHANGE in zh-CN, never 500", async () => {
    for (const path of ["/deadlock", "/prisma-conflict"]) {
      const res = await app.inject({ method: "POST", url: path });
      expect(res.statusCode, path).toBe(409);
      expect(res.json()).toEqual({ error: { code: "CONCURRENT_CHANGE", message: "这些数据正被他人同时修改，本次未作任何更改，请重试" } });
    }
  });
});
