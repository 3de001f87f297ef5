import type { ChildSnapshot, EventData } from "@shouhu/contracts";
import { lockChildPairings, rememberEndedPairing } from "@shouhu/messaging";
import type { Tx } from "./db.js";

/** The child as the registry last said (older revisions ignored). */
export async function applyChild(tx: Pick<Tx, "$executeRawUnsafe">, c: ChildSnapshot): Promise<void> {
  const applied = await tx.$executeRawUnsafe(
    `INSERT INTO children (id, name, sex, birth_date, village_code, township_code, school_id, status, guardian_name, guardian_phone, revision)
     VALUES ($1::uuid, $2, $3, $4::date, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, sex = EXCLUDED.sex, birth_date = EXCLUDED.birth_date,
       village_code = EXCLUDED.village_code, township_code = EXCLUDED.township_code, school_id = EXCLUDED.school_id,
       status = EXCLUDED.status, guardian_name = EXCLUDED.guardian_name, guardian_phone = EXCLUDED.guardian_phone, revision = EXCLUDED.revision
     WHERE children.revision < EXCLUDED.revision`,
    c.id,
    c.name,
    c.sex,
    c.birthDate,
    c.villageCode,
    c.townshipCode,
    c.schoolId,
    c.status,
    c.guardian?.name ?? null,
    c.guardian?.phone ?? null,
    c.revision,
  );
  // A child who left the programme is no longer followed up here: their open findings close.
  if (applied && c.status !== "active") {
    await tx.$executeRawUnsafe(
      `UPDATE follow_ups SET status = 'closed', closed_by = $2, closed_at = now() WHERE child_id = $1::uuid AND status = 'open'`,
      c.id,
      `child:${c.status}`,
    );
  }
}

type Exec = Pick<Tx, "$executeRawUnsafe">;

/**
 * A mentor pairing started: the child's mentor is now this helper and their open
 * findings pass to them — unless the pairing already ended (its pairing.ended
 * overtook this event) or a pairing that started later holds the place (two
 * pairings' events may arrive in either order).
 */
export async function startMentor(tx: Exec, d: EventData<"pairing.started">, occurredAt: string): Promise<void> {
  if (d.kind !== "mentor") return;
  await lockChildPairings(tx, "health", d.child.id);
  const applied = await tx.$executeRawUnsafe(
    `INSERT INTO mentors (child_id, pairing_id, name, phone, username, started_at)
     SELECT $1::uuid, $2::uuid, $3, $4, $5, $6::timestamptz
      WHERE NOT EXISTS (SELECT 1 FROM ended_pairings WHERE pairing_id = $2::uuid)
     ON CONFLICT (child_id) DO UPDATE SET pairing_id = EXCLUDED.pairing_id, name = EXCLUDED.name, phone = EXCLUDED.phone,
       username = EXCLUDED.username, started_at = EXCLUDED.started_at
     -- A row from before started_at existed gives way to any start.
     WHERE mentors.started_at IS NULL OR mentors.started_at <= EXCLUDED.started_at`,
    d.child.id,
    d.pairingId,
    d.helper.name,
    d.helper.phone,
    d.helper.username,
    occurredAt,
  );
  // Open findings pass to the new mentor: the owner is whoever follows the child up now (not a pairing that was ignored).
  if (applied) await tx.$executeRawUnsafe(`UPDATE follow_ups SET owner = $2, owner_name = $3 WHERE child_id = $1::uuid AND status = 'open'`, d.child.id, d.helper.username, d.helper.name);
}

/**
 * A mentor pairing ended: remembered (so its late pairing.started is ignored) and,
 * if it is the child's current one, removed, handing open findings to the village
 * child director; a newer pairing that took over keeps them.
 */
export async function endMentor(tx: Exec, d: EventData<"pairing.ended">): Promise<void> {
  if (d.kind !== "mentor") return;
  await lockChildPairings(tx, "health", d.child.id);
  await rememberEndedPairing(tx, d);
  const removed = await tx.$executeRawUnsafe(`DELETE FROM mentors WHERE child_id = $1::uuid AND pairing_id = $2::uuid`, d.child.id, d.pairingId);
  // Without a mentor the village child director owns the child's open findings (owner null).
  if (removed) await tx.$executeRawUnsafe(`UPDATE follow_ups SET owner = NULL, owner_name = NULL WHERE child_id = $1::uuid AND status = 'open'`, d.child.id);
}
