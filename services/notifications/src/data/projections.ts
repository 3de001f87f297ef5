import type { ChildSnapshot, EventData } from "@shouhu/contracts";
import { helperEnded, helperStarted, upsertChildren, type ChildProjection, type HelperProjection, type SqlTx } from "@shouhu/messaging";
import type { Family, Parent } from "../domain/rules.js";

/** The children this service holds: birthdays, the guardian's phone, the parents to text. */
const children: ChildProjection<ChildSnapshot> = {
  table: "children",
  child: (c) => c,
  columns: {
    name: { type: "text", value: (c) => c.name },
    birth_date: { type: "date", value: (c) => c.birthDate },
    village_code: { type: "text", value: (c) => c.villageCode },
    township_code: { type: "text", value: (c) => c.townshipCode },
    status: { type: "text", value: (c) => c.status },
    guardian_name: { type: "text", value: (c) => c.guardian?.name ?? null },
    guardian_phone: { type: "text", value: (c) => c.guardian?.phone ?? null },
    parents: { type: "jsonb", value: (c) => c.parents },
    // Letters home are addressed by school and class.
    school_id: { type: "text", value: (c) => c.schoolId },
    school_name: { type: "text", value: (c) => c.schoolName },
    grade: { type: "text", value: (c) => c.grade },
    class_name: { type: "text", value: (c) => c.className },
  },
};

/**
 * The children as the registry last said (the shared rules: @shouhu/messaging child-projection):
 * one upsert for all of them, at most one snapshot per child (a consumer batch passes them in `rounds`).
 */
export async function applyChildren(tx: Pick<SqlTx, "$queryRawUnsafe">, snapshots: readonly ChildSnapshot[]): Promise<void> {
  await upsertChildren(tx, children, snapshots);
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
