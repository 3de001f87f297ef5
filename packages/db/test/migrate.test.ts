import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "@shouhu/testing";
import { MigrationError, migrate } from "../src/index.js";

function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "shouhu-mig-"));
  for (const [name, sql] of Object.entries(files)) {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, "migration.sql"), sql);
  }
  return dir;
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql)).rows;
  } finally {
    await c.end();
  }
}

const first = 'CREATE TABLE "a" ("id" INTEGER PRIMARY KEY);\n';
const second = 'ALTER TABLE "a" ADD COLUMN "name" TEXT;\n';

describe("migrate", () => {
  const dbs: TestDatabase[] = [];
  const fresh = async () => {
    const db = await createTestDatabase("migrate");
    dbs.push(db);
    return db;
  };
  afterAll(async () => Promise.all(dbs.map((d) => d.drop())));

  it("applies in order and records each like Prisma, then applies nothing the second time", async () => {
    const db = await fresh();
    const dir = migrationsDir({ "20260101000000_init": first, "20260102000000_name": second });
    expect(await migrate({ databaseUrl: db.url, migrationsDir: dir })).toEqual(["20260101000000_init", "20260102000000_name"]);
    const rows = await query<{ migration_name: string; checksum: string; finished_at: Date; applied_steps_count: number; id: string }>(
      db.url,
      'SELECT * FROM "_prisma_migrations" ORDER BY migration_name',
    );
    expect(rows.map((r) => r.migration_name)).toEqual(["20260101000000_init", "20260102000000_name"]);
    expect(rows[0]!.checksum).toBe(createHash("sha256").update(first).digest("hex"));
    expect(rows[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(rows.every((r) => r.finished_at && r.applied_steps_count === 1)).toBe(true);
    expect(await query(db.url, "SELECT id, name FROM a")).toEqual([]);
    expect(await migrate({ databaseUrl: db.url, migrationsDir: dir })).toEqual([]);
  });

  it("creates the database when it does not exist", async () => {
    const db = await fresh();
    await db.drop();
    expect(await migrate({ databaseUrl: db.url, migrationsDir: migrationsDir({ "20260101000000_init": first }) })).toHaveLength(1);
  });

  it("rolls back a failing migration entirely and stops before later ones", async () => {
    const db = await fresh();
    const dir = migrationsDir({
      "20260101000000_init": first,
      "20260102000000_broken": 'CREATE TABLE "b" ("id" INTEGER);\nALTER TABLE "nope" ADD COLUMN x INT;\n',
      "20260103000000_later": 'CREATE TABLE "c" ("id" INTEGER);\n',
    });
    await expect(migrate({ databaseUrl: db.url, migrationsDir: dir })).rejects.toThrow(/20260102000000_broken failed/);
    const tables = (await query<{ tablename: string }>(db.url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).map((t) => t.tablename).sort();
    expect(tables).toEqual(["_prisma_migrations", "a"]);
    const failed = await query<{ finished_at: Date | null }>(
      db.url,
      `SELECT finished_at FROM "_prisma_migrations" WHERE migration_name = '20260102000000_broken'`,
    );
    expect(failed).toEqual([{ finished_at: null }]);
  });

  it("refuses a migration that was edited after it was applied", async () => {
    const db = await fresh();
    await migrate({ databaseUrl: db.url, migrationsDir: migrationsDir({ "20260101000000_init": first }) });
    const edited = migrationsDir({ "20260101000000_init": first.replace("INTEGER", "BIGINT") });
    await expect(migrate({ databaseUrl: db.url, migrationsDir: edited })).rejects.toBeInstanceOf(MigrationError);
  });

  it("applies each migration once when replicas start together", async () => {
    const db = await fresh();
    const dir = migrationsDir({ "20260101000000_init": first, "20260102000000_name": second });
    const results = await Promise.all([1, 2, 3].map(() => migrate({ databaseUrl: db.url, migrationsDir: dir })));
    expect(results.flat().sort()).toEqual(["20260101000000_init", "20260102000000_name"]);
    expect(await query(db.url, 'SELECT 1 FROM "_prisma_migrations"')).toHaveLength(2);
  });
});

describe("the registry's committed migrations", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("registry_schema");
  });
  afterAll(async () => db.drop());

  it("apply cleanly to an empty database", async () => {
    const dir = path.resolve(import.meta.dirname, "../../../services/registry/prisma/migrations");
    expect((await migrate({ databaseUrl: db.url, migrationsDir: dir })).length).toBeGreaterThan(0);
  });
});
