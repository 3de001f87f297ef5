import type { EventData } from "@shouhu/contracts";
import type { Tx } from "./db.js";

/**
 * A mentor's pairing makes them responsible for the child's open and future
 * items (items carry no owner: whoever the child's assignment names is
 * responsible, so a hand-over moves everything open at once). Peer buddies have
 * no visiting duties.
 */
export async function startAssignment(tx: Pick<Tx, "$executeRawUnsafe">, data: EventData<"pairing.started">): Promise<void> {
  if (data.kind !== "mentor") return;
  await tx.$executeRawUnsafe(
    `INSERT INTO assignments (child_id, pairing_id, helper_id, name, phone, username, since)
     VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, $6, $7::date)
     ON CONFLICT (child_id) DO UPDATE SET pairing_id = EXCLUDED.pairing_id, helper_id = EXCLUDED.helper_id, name = EXCLUDED.name,
       phone = EXCLUDED.phone, username = EXCLUDED.username, since = EXCLUDED.since
     WHERE assignments.since <= EXCLUDED.since`,
    data.child.id,
    data.pairingId,
    data.helper.id,
    data.helper.name,
    data.helper.phone,
    data.helper.username,
    data.startDate,
  );
}

/**
 * The pairing ended: its items fall back to the village child director — unless
 * a newer pairing already took over (events of two pairings may arrive in either order).
 */
export async function endAssignment(tx: Pick<Tx, "$executeRawUnsafe">, data: EventData<"pairing.ended">): Promise<void> {
  if (data.kind !== "mentor") return;
  await tx.$executeRawUnsafe(`DELETE FROM assignments WHERE child_id = $1::uuid AND pairing_id = $2::uuid`, data.child.id, data.pairingId);
}
