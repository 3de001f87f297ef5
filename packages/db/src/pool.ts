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
  const pool = createPgPool(url, options);
  pool.on("connect", serialiseQueries);
  return new PrismaPg(pool, { disposeExternalPool: true });
}

type Query = (...args: unknown[]) => unknown;

/**
 * Prisma's query interpreter runs the child queries of a nested read concurrently, also
 * inside an interactive transaction, where they share one pg client. pg queues them in
 * order but warns on every process that pg@9 will refuse (prisma/orm#29646; the adapter's
 * fix, #29468, is not released). Chaining promise-style queries here keeps the same order
 * and results without the deprecated path. Callback and submittable queries (COPY
 * streams) pass through untouched.
 */
export function serialiseQueries(client: pg.PoolClient): void {
  const query = client.query.bind(client) as Query;
  let tail: Promise<unknown> = Promise.resolve();
  (client as unknown as { query: Query }).query = (...args) => {
    const first = args[0] as { submit?: unknown } | null | undefined;
    const submittable = typeof first === "object" && first !== null && typeof first.submit === "function";
    if (submittable || typeof args[args.length - 1] === "function") return query(...args);
    const run = tail.then(() => query(...args));
    tail = run.catch(() => undefined);
    return run;
  };
}
