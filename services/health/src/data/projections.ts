import type { ChildSnapshot, EventData } from "@shouhu/contracts";
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

export async function startMentor(tx: Pick<Tx, "$executeRawUnsafe">, d: EventData<"pairing.started">): Promise<void> {
  if (d.kind !== "mentor") return;
  await tx.$executeRawUnsafe(
    `INSERT INTO mentors (child_id, pairing_id, name, phone, username) VALUES ($1::uuid, $2::uuid, $3, $4, $5)
     ON CONFLICT (child_id) DO UPDATE SET pairing_id = EXCLUDED.pairing_id, name = EXCLUDED.name, phone = EXCLUDED.phone, username = EXCLUDED.username`,
    d.child.id,
    d.pairingId,
    d.helper.name,
    d.helper.phone,
    d.helper.username,
  );
  // Open findings pass to the new mentor: the owner is whoever follows the child up now.
  await tx.$executeRawUnsafe(`UPDATE follow_ups SET owner = $2, owner_name = $3 WHERE child_id = $1::uuid AND status = 'open'`, d.child.id, d.helper.username, d.helper.name);
}

export async function endMentor(tx: Pick<Tx, "$executeRawUnsafe">, d: EventData<"pairing.ended">): Promise<void> {
  if (d.kind !== "mentor") return;
  const removed = await tx.$executeRawUnsafe(`DELETE FROM mentors WHERE child_id = $1::uuid AND pairing_id = $2::uuid`, d.child.id, d.pairingId);
  // Without a mentor the village child director owns the child's open findings (owner null).
  if (removed) await tx.$executeRawUnsafe(`UPDATE follow_ups SET owner = NULL, owner_name = NULL WHERE child_id = $1::uuid AND status = 'open'`, d.child.id);
}
