import type { SqlTx } from "@shouhu/messaging";

/**
 * Lock order, so concurrent work on a township cannot deadlock:
 * 1. the township's advisory lock — a matching run holds it exclusively, every
 *    other transaction that changes the township's pairings or helpers (events,
 *    approvals, rejections, hand-overs) holds it shared, so a run never
 *    interleaves with them (it touches many children's and pairings' rows at once);
 * 2. a helper row (FOR NO KEY UPDATE: serialises capacity checks without blocking
 *    the foreign-key checks of pairings being inserted) or a child row;
 * 3. pairing rows; 4. the township's match_requests row.
 */
const townshipKey = `hashtext('pairing-match:' || $1)`;

export async function lockTownshipForRun(tx: Pick<SqlTx, "$executeRawUnsafe">, townshipCode: string): Promise<void> {
  await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${townshipKey})`, townshipCode);
}

/** The run's lock without waiting: false when a run or a change is in progress there. */
export async function tryLockTownshipForRun(tx: Pick<SqlTx, "$queryRawUnsafe">, townshipCode: string): Promise<boolean> {
  const [row] = await tx.$queryRawUnsafe<{ locked: boolean }[]>(`SELECT pg_try_advisory_xact_lock(${townshipKey}) AS locked`, townshipCode);
  return row!.locked;
}

/** Shared locks on one or more townships, in a fixed order. */
export async function lockTownshipsForChange(tx: Pick<SqlTx, "$executeRawUnsafe">, townshipCodes: readonly string[]): Promise<void> {
  for (const code of [...new Set(townshipCodes)].sort()) await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock_shared(${townshipKey})`, code);
}

/**
 * Queues a township for matching, in the caller's transaction (so the request
 * commits with the change that caused it and survives a crash). Repeated
 * requests collapse into one row; the matcher picks it up after a short quiet
 * period, so a 1,000-row import is matched once, not 1,000 times.
 */
export async function requestMatching(tx: Pick<SqlTx, "$executeRawUnsafe">, townshipCode: string, reason: string): Promise<void> {
  await requestMatchingIn(tx, [townshipCode], reason);
}

/** Queues several townships for matching (the townships of a batch of children), by one statement. */
export async function requestMatchingIn(tx: Pick<SqlTx, "$executeRawUnsafe">, townshipCodes: readonly string[], reason: string): Promise<void> {
  const codes = [...new Set(townshipCodes)].sort();
  if (codes.length === 0) return;
  await tx.$executeRawUnsafe(
    `INSERT INTO match_requests (township_code, requested_at, reason) SELECT code, now(), $2 FROM unnest($1::text[]) AS code
     ON CONFLICT (township_code) DO UPDATE SET requested_at = now(), reason = EXCLUDED.reason`,
    codes,
    reason,
  );
}
