import type { EventData } from "@shouhu/contracts";
import { lockChildPairings, rememberEndedPairing } from "@shouhu/messaging";
import type { Tx } from "./db.js";
import { ensureItems, onDay } from "./items.js";

type Exec = Pick<Tx, "$executeRawUnsafe">;

/**
 * A mentor's pairing makes them responsible for the child's open and future
 * mentor items (items carry no owner: whoever the child's assignment names is
 * responsible, so a hand-over moves everything open at once), and the child's
 * items for the current periods exist from that moment. Peer buddies have no
 * visiting duties. Ignored when the pairing already ended (its pairing.ended
 * overtook this event) or a pairing that started later holds the place (two
 * pairings' events may arrive in either order, also on the same day: ordered
 * by when the start happened, not by its start date).
 */
export async function startAssignment(tx: Tx, data: EventData<"pairing.started">, occurredAt: string, today: string, at: Date): Promise<void> {
  if (data.kind !== "mentor") return;
  await lockChildPairings(tx, "visits", data.child.id);
  await tx.$executeRawUnsafe(
    `INSERT INTO assignments (child_id, pairing_id, helper_id, name, phone, username, since, started_at)
     SELECT $1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7::date, $8::timestamptz
      WHERE NOT EXISTS (SELECT 1 FROM ended_pairings WHERE pairing_id = $2::uuid)
     ON CONFLICT (child_id) DO UPDATE SET pairing_id = EXCLUDED.pairing_id, helper_id = EXCLUDED.helper_id, name = EXCLUDED.name,
       phone = EXCLUDED.phone, username = EXCLUDED.username, since = EXCLUDED.since, started_at = EXCLUDED.started_at
     -- A row from before started_at existed is ordered by its start date.
     WHERE COALESCE(assignments.started_at <= EXCLUDED.started_at, assignments.since <= EXCLUDED.since)`,
    data.child.id,
    data.pairingId,
    data.helper.id,
    data.helper.name,
    data.helper.phone,
    data.helper.username,
    data.startDate,
    occurredAt,
  );
  // The child may not be known yet (registry's event still on its way): its items come with it then.
  const [child] = await tx.$queryRawUnsafe<{ countyCode: string }[]>(`SELECT county_code AS "countyCode" FROM children WHERE id = $1::uuid AND status = 'active'`, data.child.id);
  if (child) await ensureItems(tx, onDay(today), at, { countyCode: child.countyCode, childId: data.child.id });
}

/**
 * The pairing ended: its items fall back to the village child director until the
 * next pairing starts — unless a newer pairing already took over (events of two
 * pairings may arrive in either order). Remembered, so a late pairing.started of
 * this pairing is ignored.
 */
export async function endAssignment(tx: Exec, data: EventData<"pairing.ended">): Promise<void> {
  if (data.kind !== "mentor") return;
  await lockChildPairings(tx, "visits", data.child.id);
  await rememberEndedPairing(tx, data);
  await tx.$executeRawUnsafe(`DELETE FROM assignments WHERE child_id = $1::uuid AND pairing_id = $2::uuid`, data.child.id, data.pairingId);
}
