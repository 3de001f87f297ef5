import type { EventData } from "@shouhu/contracts";
import { helperEnded, helperStarted, type HelperProjection, type SqlTx } from "@shouhu/messaging";
import { ensureItems, onDay } from "./items.js";

type Exec = Pick<SqlTx, "$executeRawUnsafe">;

/** Who is responsible for a child's mentor visits (the shared rules: @shouhu/messaging helper-projection). */
const assignments: HelperProjection = {
  service: "visits",
  table: "assignments",
  key: ["child_id"],
  kinds: ["mentor"],
  columns: (d) => ({
    helper_id: { cast: "uuid", value: d.helper.id },
    name: { value: d.helper.name },
    phone: { value: d.helper.phone },
    username: { value: d.helper.username },
    since: { cast: "date", value: d.startDate },
  }),
  // A row from before started_at existed is ordered by its start date.
  legacyOrder: "assignments.since <= EXCLUDED.since",
};

/**
 * A mentor's pairing makes them responsible for the child's open and future mentor
 * items (items carry no owner: whoever the assignment names is responsible, so a
 * hand-over moves everything open at once), and the child's items for the current
 * periods exist from that moment. Peer buddies have no visiting duties.
 */
export async function startAssignment(
  tx: Pick<SqlTx, "$queryRawUnsafe" | "$executeRawUnsafe">,
  data: EventData<"pairing.started">,
  occurredAt: string,
  today: string,
  at: Date,
): Promise<void> {
  if (!(await helperStarted(tx, assignments, data, occurredAt))) return;
  // The child may not be known yet (registry's event still on its way): its items come with it then.
  const [child] = await tx.$queryRawUnsafe<{ countyCode: string }[]>(
    `SELECT county_code AS "countyCode" FROM children WHERE id = $1::uuid AND status = 'active'`,
    data.child.id,
  );
  if (child) await ensureItems(tx, onDay(today), at, { countyCode: child.countyCode, childIds: [data.child.id] });
}

/** The pairing ended: its items fall back to the village child director until the next pairing starts. */
export async function endAssignment(tx: Exec, data: EventData<"pairing.ended">): Promise<void> {
  await helperEnded(tx, assignments, data);
}
