import type pg from "pg";
import type { SqlTx } from "./outbox.js";

/**
 * A transaction on a plain pg client with the two raw-SQL methods of Prisma's `tx`
 * (same statements, same casts), for hot paths whose handlers use raw SQL only:
 * Prisma's interactive-transaction machinery was a quarter of the notifications
 * consumer's CPU (bench/RESULTS.md).
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
