import { roleOf, type EventData, type PairingKind, type PairingRole } from "@shouhu/contracts";
import type { SqlTx } from "./outbox.js";
import { lockChildPairings, rememberEndedPairing } from "./pairing-order.js";

type Exec = Pick<SqlTx, "$executeRawUnsafe">;

/**
 * How a service keeps "the child's current helper" from pairing events — registry (its
 * contact card), visits (who is responsible for the visits), health (who follows up a
 * finding), notifications (whom to remind). One implementation of the rules every copy
 * must share, whatever order and however often the events arrive:
 * - one child's pairing events apply one at a time (`lockChildPairings`);
 * - an ended pairing is remembered, and its `pairing.started` arriving late is ignored;
 * - of two starts, the one that happened later holds the place (`started_at`);
 * - an end removes the helper only if it is still that pairing.
 * Each service names its table, its key and its columns; what it does besides (hand over
 * open findings, create visit items) follows from the returned "applied".
 */
export interface HelperProjection {
  service: string;
  table: string;
  /** The conflict target: one current helper per child, per child and pairing kind, or per child, kind and role. */
  key: readonly ["child_id"] | readonly ["child_id", "kind"] | readonly ["child_id", "kind", "role"];
  kinds: readonly PairingKind[];
  /**
   * The roles kept; default primary only: a secondary helper (协助帮扶人) never replaces the
   * child's primary mentor in a copy that holds one helper per child (visits, health, notifications).
   */
  roles?: readonly PairingRole[];
  /** The table's columns besides child_id, pairing_id and started_at: SQL type cast and value from the event. */
  columns: (d: EventData<"pairing.started">) => Record<string, { cast?: string; value: unknown }>;
  /** How a row written before started_at existed (NULL) compares with a new start; default: any start replaces it. */
  legacyOrder?: string;
}

/** Applies a pairing.started; false when ignored (an ended pairing, a later start holds the place, another kind). */
const kept = (p: HelperProjection, d: { kind: PairingKind; role?: PairingRole }) => p.kinds.includes(d.kind) && (p.roles ?? ["primary"]).includes(roleOf(d));

export async function helperStarted(tx: Exec, p: HelperProjection, d: EventData<"pairing.started">, occurredAt: string): Promise<boolean> {
  if (!kept(p, d)) return false;
  await lockChildPairings(tx, p.service, d.child.id);
  const extra = Object.entries(p.columns(d));
  const names = ["child_id", "pairing_id", "started_at", ...extra.map(([c]) => c)];
  const values: unknown[] = [d.child.id, d.pairingId, occurredAt, ...extra.map(([, v]) => v.value)];
  const casts = ["::uuid", "::uuid", "::timestamptz", ...extra.map(([, v]) => (v.cast ? `::${v.cast}` : ""))];
  const placeholders = names.map((_, i) => `$${i + 1}${casts[i]}`);
  const updates = names.filter((c) => !p.key.includes(c as "child_id")).map((c) => `${c} = EXCLUDED.${c}`);
  const applied = await tx.$executeRawUnsafe(
    `INSERT INTO ${p.table} (${names.join(", ")})
     SELECT ${placeholders.join(", ")} WHERE NOT EXISTS (SELECT 1 FROM ended_pairings WHERE pairing_id = $2::uuid)
     ON CONFLICT (${p.key.join(", ")}) DO UPDATE SET ${updates.join(", ")}
     WHERE COALESCE(${p.table}.started_at <= EXCLUDED.started_at, ${p.legacyOrder ?? "true"})`,
    ...values,
  );
  return applied > 0;
}

/** Applies a pairing.ended: remembered, and the helper removed if it is still this pairing; true when removed. */
export async function helperEnded(tx: Exec, p: HelperProjection, d: EventData<"pairing.ended">): Promise<boolean> {
  if (!kept(p, d)) return false;
  await lockChildPairings(tx, p.service, d.child.id);
  await rememberEndedPairing(tx, d);
  const removed = await tx.$executeRawUnsafe(`DELETE FROM ${p.table} WHERE child_id = $1::uuid AND pairing_id = $2::uuid`, d.child.id, d.pairingId);
  return removed > 0;
}
