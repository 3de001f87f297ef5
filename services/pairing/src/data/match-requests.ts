import type { Tx } from "./db.js";

/**
 * Queues a township for matching, in the caller's transaction (so the request
 * commits with the change that caused it and survives a crash). Repeated
 * requests collapse into one row; the matcher picks it up after a short quiet
 * period, so a 1,000-row import is matched once, not 1,000 times.
 */
export async function requestMatching(tx: Pick<Tx, "$executeRawUnsafe">, townshipCode: string, reason: string): Promise<void> {
  await tx.$executeRawUnsafe(
    `INSERT INTO match_requests (township_code, requested_at, reason) VALUES ($1, now(), $2)
     ON CONFLICT (township_code) DO UPDATE SET requested_at = now(), reason = EXCLUDED.reason`,
    townshipCode,
    reason,
  );
}
