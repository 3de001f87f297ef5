import type { ChildSnapshot, EventData } from "@shouhu/contracts";
import { helperEnded, helperStarted, type HelperProjection, type SqlTx } from "@shouhu/messaging";
import type { Family, Parent } from "../domain/rules.js";

/** The child as the registry last said (older revisions ignored): birthdays and the guardian's phone. */
export async function applyChild(tx: Pick<SqlTx, "$executeRawUnsafe">, child: ChildSnapshot): Promise<void> {
  await tx.$executeRawUnsafe(
    `INSERT INTO children (id, name, birth_date, village_code, township_code, status, guardian_name, guardian_phone, parents, revision)
     VALUES ($1::uuid, $2, $3::date, $4, $5, $6, $7, $8, $10::jsonb, $9)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, birth_date = EXCLUDED.birth_date, village_code = EXCLUDED.village_code,
       township_code = EXCLUDED.township_code, status = EXCLUDED.status, guardian_name = EXCLUDED.guardian_name,
       guardian_phone = EXCLUDED.guardian_phone, parents = EXCLUDED.parents, revision = EXCLUDED.revision
     WHERE children.revision < EXCLUDED.revision`,
    child.id,
    child.name,
    child.birthDate,
    child.villageCode,
    child.townshipCode,
    child.status,
    child.guardian?.name ?? null,
    child.guardian?.phone ?? null,
    child.revision,
    JSON.stringify(child.parents),
  );
}

/** The guardian and parents as the registry last said; nothing if the child was never seen. */
export async function familyOf(tx: Pick<SqlTx, "$queryRawUnsafe">, childId: string): Promise<Family> {
  const [row] = await tx.$queryRawUnsafe<{ name: string | null; phone: string | null; parents: Parent[] }[]>(
    `SELECT guardian_name AS name, guardian_phone AS phone, parents FROM children WHERE id = $1::uuid`,
    childId,
  );
  if (!row) return { guardian: null, parents: [] };
  return { guardian: row.name || row.phone ? { name: row.name, phone: row.phone } : null, parents: row.parents };
}

/**
 * The child's mentor, reminded of what is due (the shared rules: @shouhu/messaging
 * helper-projection). This copy used to take the events as they came: a pairing.ended
 * overtaken by its own pairing.started left a mentor who no longer was one.
 */
const mentors: HelperProjection = {
  service: "notifications",
  table: "mentors",
  key: ["child_id"],
  kinds: ["mentor"],
  columns: (d) => ({ name: { value: d.helper.name }, phone: { value: d.helper.phone }, username: { value: d.helper.username } }),
};

export async function startMentor(tx: Pick<SqlTx, "$executeRawUnsafe">, d: EventData<"pairing.started">, occurredAt: string): Promise<void> {
  await helperStarted(tx, mentors, d, occurredAt);
}

export async function endMentor(tx: Pick<SqlTx, "$executeRawUnsafe">, d: EventData<"pairing.ended">): Promise<void> {
  await helperEnded(tx, mentors, d);
}
