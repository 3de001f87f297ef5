import type { ChildSnapshot, EventData } from "@shouhu/contracts";
import { helperEnded, helperStarted, type HelperProjection, type SqlTx } from "@shouhu/messaging";

/**
 * Children as the registry last said (older revisions ignored), by one multi-row upsert;
 * at most one snapshot per child (a consumer batch passes them in rounds, see `rounds`).
 */
export async function applyChildren(tx: Pick<SqlTx, "$queryRawUnsafe" | "$executeRawUnsafe">, children: readonly ChildSnapshot[]): Promise<void> {
  if (children.length === 0) return;
  const applied = await tx.$queryRawUnsafe<{ id: string; status: string }[]>(
    `INSERT INTO children (id, name, sex, birth_date, village_code, township_code, school_id, status, guardian_name, guardian_phone, revision)
     SELECT id, name, sex, birth_date, village_code, township_code, school_id, status, guardian_name, guardian_phone, revision
       FROM jsonb_to_recordset($1::jsonb) AS c(id uuid, name text, sex text, birth_date date, village_code text, township_code text, school_id text,
                                               status text, guardian_name text, guardian_phone text, revision int)
      -- One order for every writer: two batches upserting the same children wait for each other, never deadlock.
      ORDER BY id
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, sex = EXCLUDED.sex, birth_date = EXCLUDED.birth_date,
       village_code = EXCLUDED.village_code, township_code = EXCLUDED.township_code, school_id = EXCLUDED.school_id,
       status = EXCLUDED.status, guardian_name = EXCLUDED.guardian_name, guardian_phone = EXCLUDED.guardian_phone, revision = EXCLUDED.revision
     WHERE children.revision < EXCLUDED.revision
     RETURNING id::text, status`,
    JSON.stringify(
      children.map((c) => ({
        id: c.id,
        name: c.name,
        sex: c.sex,
        birth_date: c.birthDate,
        village_code: c.villageCode,
        township_code: c.townshipCode,
        school_id: c.schoolId,
        status: c.status,
        guardian_name: c.guardian?.name ?? null,
        guardian_phone: c.guardian?.phone ?? null,
        revision: c.revision,
      })),
    ),
  );
  // A child who left the programme is no longer followed up here: their open findings close.
  const left = applied.filter((c) => c.status !== "active");
  if (left.length) {
    await tx.$executeRawUnsafe(
      `UPDATE follow_ups f SET status = 'closed', closed_by = 'child:' || l.status, closed_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS l(id uuid, status text)
        WHERE f.child_id = l.id AND f.status = 'open'`,
      JSON.stringify(left),
    );
  }
}

type Exec = Pick<SqlTx, "$executeRawUnsafe">;

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
