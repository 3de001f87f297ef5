import type { ChildSnapshot, EventData } from "@shouhu/contracts";
import { helperEnded, helperStarted, upsertChildren, type ChildProjection, type HelperProjection, type SqlTx } from "@shouhu/messaging";

/** The children this service holds: who is in a campaign's scope, and whom to tell of a finding. */
const children: ChildProjection<ChildSnapshot> = {
  table: "children",
  child: (c) => c,
  columns: {
    name: { type: "text", value: (c) => c.name },
    sex: { type: "text", value: (c) => c.sex },
    birth_date: { type: "date", value: (c) => c.birthDate },
    village_code: { type: "text", value: (c) => c.villageCode },
    township_code: { type: "text", value: (c) => c.townshipCode },
    school_id: { type: "text", value: (c) => c.schoolId },
    status: { type: "text", value: (c) => c.status },
    guardian_name: { type: "text", value: (c) => c.guardian?.name ?? null },
    guardian_phone: { type: "text", value: (c) => c.guardian?.phone ?? null },
  },
  returning: { status: "status" },
};

/**
 * Children as the registry last said (the shared rules: @shouhu/messaging child-projection);
 * at most one snapshot per child (a consumer batch passes them in `rounds`).
 */
export async function applyChildren(tx: Pick<SqlTx, "$queryRawUnsafe" | "$executeRawUnsafe">, snapshots: readonly ChildSnapshot[]): Promise<void> {
  const applied = await upsertChildren<ChildSnapshot, { status: string }>(tx, children, snapshots);
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
