import type pg from "pg";
import type { SqlTx } from "@shouhu/messaging";

/**
 * The consumer's transaction on a plain pg client. Its handlers use raw SQL
 * only, and Prisma's interactive-transaction machinery was a quarter of the
 * consumer's CPU (bench/RESULTS.md); the statements and their casts are the
 * same, so Prisma's `tx` and this one are interchangeable.
 */
export function sqlOn(client: pg.PoolClient): SqlTx {
  return {
    async $executeRawUnsafe(query: string, ...values: unknown[]) {
      return (await client.query(query, values)).rowCount ?? 0;
    },
    async $queryRawUnsafe<T>(query: string, ...values: unknown[]) {
      return (await client.query(query, values)).rows as T;
    },
  };
}

export async function inPgTransaction<T>(pool: pg.Pool, fn: (tx: SqlTx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await fn(sqlOn(client));
    await client.query("COMMIT");
    return result;
  } catch (err) {
    // A connection that cannot even roll back is not given back to the pool.
    await client.query("ROLLBACK").catch((e: Error) => (broken = e));
    throw err;
  } finally {
    client.release(broken);
  }
}
