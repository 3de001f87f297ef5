/**
 * Is this error a dependency being down (PostgreSQL or Redis restarting, unreachable,
 * out of connections) rather than a fault of the request or of our code? Such errors
 * answer 503 with Retry-After, never 500: the client should simply try again, and the
 * process heals by itself once the dependency is back.
 */

// Node socket errors seen when a server goes away or refuses.
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
// PostgreSQL SQLSTATEs: class 08 (connection exception), 57P01–57P03 (admin/crash
// shutdown, cannot connect now), 53300 (too many connections).
const PG_STATES = /^(08...|57P0[123]|53300)$/;
// Prisma: P1001 can't reach, P1002 timed out, P1008 operation timed out, P1017 server
// closed the connection, P2024 timed out waiting for a pool connection.
const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
// Prisma's driver-adapter error kinds for the same conditions.
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections", "TransactionAlreadyClosed"]);
// Prisma P2028 (interactive transaction) when the database is saturated: no connection
// within maxWait, or the transaction outlived its timeout waiting on a busy server. Either
// way nothing was committed, so trying again later is right. Other P2028s (a transaction
// used after it closed) are our bugs and stay 500.
const PRISMA_TX_SATURATED = ["Unable to start a transaction in the given time", "on an expired transaction"];
// Messages of pg and ioredis that carry no code.
const MESSAGES = [
  "Connection terminated",
  "Connection is closed",
  "Stream isn't writeable",
  "Client has encountered a connection error",
  "timeout exceeded when trying to connect",
  "Can't reach database server",
  "Reached the max retries per request limit",
  "the database system is",
];

export function isDependencyUnavailable(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; current && typeof current === "object" && depth < 6; depth++) {
    const e = current as {
      code?: unknown;
      name?: unknown;
      message?: unknown;
      meta?: { driverAdapterError?: { cause?: { kind?: unknown } } };
      kind?: unknown;
      cause?: unknown;
    };
    const code = typeof e.code === "string" ? e.code : "";
    if (SOCKET_CODES.has(code) || PG_STATES.test(code) || PRISMA_CODES.has(code)) return true;
    const kind = e.meta?.driverAdapterError?.cause?.kind ?? e.kind;
    if (typeof kind === "string" && ADAPTER_KINDS.has(kind)) return true;
    if (e.name === "PrismaClientInitializationError" || e.name === "MaxRetriesPerRequestError") return true;
    const message = typeof e.message === "string" ? e.message : "";
    if (code === "P2028" && PRISMA_TX_SATURATED.some((m) => message.includes(m))) return true;
    if (MESSAGES.some((m) => message.includes(m))) return true;
    current = e.cause;
  }
  return false;
}

/** Seconds a client should wait before retrying while a dependency is down. */
export const RETRY_AFTER_SECONDS = 5;

// PostgreSQL 40P01 (deadlock detected) and 40001 (serialization failure): the database rolled
// the transaction back because another one touched the same rows at the same moment.
const PG_CONFLICT_STATES = new Set(["40P01", "40001"]);

/**
 * Is this error two requests changing the same rows at the same moment (a deadlock or a
 * serialization failure the database resolved by rolling this one back)? Nothing was
 * stored and the same request may simply be sent again: a 409 saying so, never a 500.
 */
export function isConcurrentWriteConflict(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; current && typeof current === "object" && depth < 6; depth++) {
    const e = current as {
      code?: unknown;
      kind?: unknown;
      originalCode?: unknown;
      meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown } } };
      cause?: unknown;
    };
    const adapter = e.meta?.driverAdapterError?.cause;
    for (const code of [e.code, e.originalCode, adapter?.originalCode]) if (typeof code === "string" && PG_CONFLICT_STATES.has(code)) return true;
    // Prisma P2034: "Transaction failed due to a write conflict or a deadlock".
    if (e.code === "P2034" || e.kind === "TransactionWriteConflict" || adapter?.kind === "TransactionWriteConflict") return true;
    current = e.cause;
  }
  return false;
}
