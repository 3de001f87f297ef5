import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { testPrefix } from "./prefix.js";

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** The server tests run against; CI and developers share 127.0.0.1:5432 with trust auth. */
export function adminUrl(): string {
  return process.env.TEST_DATABASE_ADMIN_URL ?? "postgresql://root@127.0.0.1:5432/postgres";
}

/**
 * A fresh database for one test file, so files run in parallel: empty, or — given a
 * service's `migrationsDir` — already migrated, cloned from a template database that is
 * migrated once per set of migrations (named by their hash) and kept between runs.
 * Cloning a file-sized template costs a fraction of running every migration again.
 */
export async function createTestDatabase(label: string, options: { migrationsDir?: string } = {}): Promise<TestDatabase> {
  const name = testPrefix(label);
  const template = options.migrationsDir ? await migratedTemplate(options.migrationsDir) : null;
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ""}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl() });
      await c.connect();
      try {
        // Clients still closing (a pool's end() resolves before every socket is gone,
        // and Prisma's $disconnect does not wait for its adapter's pool) would get
        // "terminating connection due to administrator command" from a forced drop,
        // an error nobody listens for: wait for them to leave first, force only after.
        for (let i = 0; i < 40; i++) {
          const { rows } = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1", [name]);
          if (rows[0]!.n === 0) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Templates made by this process, so each is looked up once. */
const templates = new Map<string, Promise<string>>();

/** The migrations' own hash names the template: a changed or added migration makes a new one. */
function templateName(migrationsDir: string): string {
  const files = readdirSync(migrationsDir, { withFileTypes: true })
    // Migration folders only (the offline diff tool keeps its snapshots in `.snapshots`).
    .filter((d) => d.isDirectory() && !d.name.startsWith("."))
    .map((d) => d.name)
    .sort();
  const hash = createHash("sha256");
  for (const f of files) hash.update(f).update(readFileSync(path.join(migrationsDir, f, "migration.sql")));
  const service = path.basename(path.dirname(path.dirname(migrationsDir))).replace(/[^a-z0-9]/g, "");
  return `shouhu_tpl_${service}_${hash.digest("hex").slice(0, 12)}`;
}

function migratedTemplate(migrationsDir: string): Promise<string> {
  const name = templateName(migrationsDir);
  let made = templates.get(name);
  if (!made) {
    made = buildTemplate(name, migrationsDir);
    templates.set(name, made);
  }
  return made;
}

/**
 * Builds the template once across every vitest worker and every concurrent run on the
 * machine (an advisory lock on the admin connection): migrated under a temporary name,
 * renamed when complete, closed to connections so CREATE DATABASE … TEMPLATE never finds
 * it in use. A run killed half-way leaves only the temporary name, rebuilt next time.
 */
async function buildTemplate(name: string, migrationsDir: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query("SELECT pg_advisory_lock(hashtext($1))", [name]);
    const { rows } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (rows.length) return name;
    const building = `${name}_building`;
    await admin.query(`DROP DATABASE IF EXISTS "${building}" WITH (FORCE)`);
    await admin.query(`CREATE DATABASE "${building}"`);
    const url = new URL(adminUrl());
    url.pathname = `/${building}`;
    // @shouhu/db builds after this package (its tests use it): loaded at run time, not named in package.json.
    const specifier = "@shouhu/db";
    const { migrate } = (await import(specifier)) as { migrate: (o: { databaseUrl: string; migrationsDir: string }) => Promise<unknown> };
    await migrate({ databaseUrl: url.toString(), migrationsDir });
    // The migrator's backend may still be closing: a rename needs the database unused.
    for (let i = 0; i < 100; i++) {
      const { rows: open } = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1", [building]);
      if (open[0]!.n === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await admin.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
    await admin.query(`ALTER DATABASE "${name}" WITH ALLOW_CONNECTIONS false`);
    return name;
  } finally {
    await admin.query("SELECT pg_advisory_unlock(hashtext($1))", [name]).catch(() => undefined);
    await admin.end();
  }
}
