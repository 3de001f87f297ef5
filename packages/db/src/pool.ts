import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";

export interface PoolOptions {
  /** Connections per process; PostgreSQL's limit is shared by every service replica. */
  max?: number;
}

export function createPgPool(url: string, options: PoolOptions = {}): pg.Pool {
  return new pg.Pool({ connectionString: url, max: options.max ?? 10, idleTimeoutMillis: 30_000 });
}

/** The one way services build the Prisma driver adapter: `new PrismaClient({ adapter })`. */
export function createPrismaAdapter(url: string, options: PoolOptions = {}): PrismaPg {
  return new PrismaPg({ connectionString: url, max: options.max ?? 10, idleTimeoutMillis: 30_000 });
}
