import { readFileSync } from "node:fs";
import pg from "pg";
import type { SqlTx } from "../src/index.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const messagingSql = readFileSync(new URL("../sql/messaging.sql", import.meta.url), "utf8");
export const effectsSql = "CREATE TABLE effects (event_id uuid NOT NULL, note text); CREATE TABLE children (id uuid PRIMARY KEY, name text);";

/** A `pg` client dressed as a Prisma transaction client, for tests without a generated client. */
export function pgTx(client: pg.PoolClient | pg.Client): SqlTx {
  return {
    $executeRawUnsafe: async (q, ...v) => (await client.query(q, v)).rowCount ?? 0,
    $queryRawUnsafe: async <T>(q: string, ...v: unknown[]) => (await client.query(q, v)).rows as T,
  };
}

export function transactionRunner(pool: pg.Pool) {
  return async <T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const result = await fn(pgTx(client));
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK");
      throw err;
    } finally {
      client.release();
    }
  };
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not met in time");
}
