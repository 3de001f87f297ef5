import type { ChildSnapshot, EventData } from "@shouhu/contracts";
import { helperEnded, helperStarted, type HelperProjection } from "@shouhu/messaging";
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

/** The child's mentor, who follows up open findings (the shared rules: @shouhu/messaging helper-projection). */
const mentors: HelperProjection = {
  service: "health",
  table: "mentors",
  key: ["child_id"],
  kinds: ["mentor"],
  columns: (d) => ({ name: { value: d.helper.name }, phone: { value: d.helper.phone }, username: { value: d.helper.username } }),
};

/** A mentor pairing started (and holds the place): the child's open findings pass to the new mentor. */
export async function startMentor(tx: Exec, d: EventData<"pairing.started">, occurredAt: string): Promise<void> {
  if (await helperStarted(tx, mentors, d, occurredAt)) {
    await tx.$executeRawUnsafe(
      `UPDATE follow_ups SET owner = $2, owner_name = $3 WHERE child_id = $1::uuid AND status = 'open'`,
      d.child.id,
      d.helper.username,
      d.helper.name,
    );
  }
}

/** The current mentor's pairing ended: the village child director owns the child's open findings (owner null). */
export async function endMentor(tx: Exec, d: EventData<"pairing.ended">): Promise<void> {
  if (await helperEnded(tx, mentors, d)) {
    await tx.$executeRawUnsafe(`UPDATE follow_ups SET owner = NULL, owner_name = NULL WHERE child_id = $1::uuid AND status = 'open'`, d.child.id);
  }
}
