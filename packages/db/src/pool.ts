import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";

export interface PoolOptions {
  /** Connections per process; PostgreSQL's limit is shared by every service replica. */
  max?: number;
  /** Told of connection errors (a restart of PostgreSQL, a dropped socket); the pool replaces the connection itself. */
  onError?: (err: Error) => void;
}

/**
 * A pool that survives PostgreSQL restarts. pg emits 'error' from a client whose
 * server went away — from the pool for idle clients, from the client itself for one
 * checked out between queries (a LISTEN connection, an open transaction) — and an
 * 'error' nobody listens for kills the process. Every client gets a listener for its
 * whole life; the query that was running fails on its own promise, the broken client
 * is discarded on release, and the next checkout connects afresh.
 */
export function createPgPool(url: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5_000 });
  const onError = options.onError ?? (() => undefined);
  pool.on("error", onError);
  pool.on("connect", (client) => client.on("error", onError));
  return pool;
}

/** The one way services build the Prisma driver adapter: `new PrismaClient({ adapter })`, on a pool as above. */
export function createPrismaAdapter(url: string, options: PoolOptions = {}): PrismaPg {
  return new PrismaPg(createPgPool(url, options), { disposeExternalPool: true });
}
