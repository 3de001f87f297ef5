import type { EventData } from "@shouhu/contracts";
import type { SqlTx } from "./outbox.js";

type Exec = Pick<SqlTx, "$executeRawUnsafe">;

/**
 * For every service that keeps a child's current mentor from pairing events
 * (registry, visits, health): one child's pairing events apply one at a time.
 * Without it a started and its ended handled at once (consumer concurrency, two
 * workers) each miss the other's uncommitted row — the start does not see the
 * tombstone, the end does not see the mentor — and a ghost mentor remains.
 * `shared` is for work that must see a settled mentor but may run side by side
 * (health records exams under it).
 */
export async function lockChildPairings(tx: Exec, service: string, childId: string, mode: "exclusive" | "shared" = "exclusive"): Promise<void> {
  const fn = mode === "shared" ? "pg_advisory_xact_lock_shared" : "pg_advisory_xact_lock";
  await tx.$executeRawUnsafe(`SELECT ${fn}(hashtext($1 || '-pairing:' || $2))`, service, childId);
}

/**
 * Remembers that a pairing ended, in the service's `ended_pairings` table, so a
 * pairing.started that arrives after it (events of one pairing may come in either
 * order) is recognised and ignored: its start inserts only
 * `WHERE NOT EXISTS (SELECT 1 FROM ended_pairings WHERE pairing_id = …)`.
 */
export async function rememberEndedPairing(tx: Exec, d: EventData<"pairing.ended">): Promise<void> {
  await tx.$executeRawUnsafe(
    `INSERT INTO ended_pairings (pairing_id, child_id, end_date) VALUES ($1::uuid, $2::uuid, $3::date) ON CONFLICT DO NOTHING`,
    d.pairingId,
    d.child.id,
    d.endDate,
  );
}
