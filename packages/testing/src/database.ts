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

/** A fresh, empty database for one test file, so files run in parallel. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = testPrefix(label);
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
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
