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
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
