import type { ChildSnapshot } from "@shouhu/contracts";
import { upsertChildren, type ChildProjection, type SqlTx } from "@shouhu/messaging";
import { closeOpenItems, ensureItems } from "./items.js";

type Db = Pick<SqlTx, "$queryRawUnsafe" | "$executeRawUnsafe">;

/** A registry snapshot as a child event brought it: `today` and `at` are the consumer's clock, `occurredOn` the day the registry acted. */
export interface ChildChange {
  child: ChildSnapshot;
  today: string;
  at: Date;
  occurredOn: string;
}

/** The children this service holds: whose visits are due, from when, under which county's rules. */
const children: ChildProjection<ChildChange> = {
  table: "children",
  child: (c) => c.child,
  columns: {
    name: { type: "text", value: (c) => c.child.name },
    village_code: { type: "text", value: (c) => c.child.villageCode },
    township_code: { type: "text", value: (c) => c.child.townshipCode },
    county_code: { type: "text", value: (c) => c.child.countyCode },
    school_id: { type: "text", value: (c) => c.child.schoolId },
    status: { type: "text", value: (c) => c.child.status },
    // A producer's clock ahead of ours must not start the child in the future.
    since: { type: "date", value: (c) => (c.occurredOn < c.today ? c.occurredOn : c.today) },
    updated_at: { type: "timestamptz", value: (c) => c.at },
  },
  onUpdate: {
    // re-admitted children start a new stretch: nothing is due for the time they were out
    since: "CASE WHEN children.status = 'exited' AND EXCLUDED.status = 'active' THEN EXCLUDED.since ELSE children.since END",
  },
  returning: { since: "to_char(since, 'YYYY-MM-DD')" },
};

/**
 * Keeps the child projection current (older revisions ignored) and the children's
 * items with it: an active child has the items of every period from its `since`
 * (the day the registry registered or re-admitted it, `occurredOn`) to today —
 * an event that waited out an outage still brings the periods it waited through,
 * which the scan, catching up from before the child existed here, may have
 * passed already; an exited child has none open.
 *
 * Many children at once (a consumer batch's child events): rows locked and read by one
 * query, written by one upsert, items created per county, period window and rule for
 * all of them. At most one change per child (the batch passes them in rounds).
 */
export async function applyChildSnapshots(tx: Db, changes: readonly ChildChange[]): Promise<void> {
  if (changes.length === 0) return;
  const previous = new Map(
    (
      await tx.$queryRawUnsafe<{ id: string; revision: number }[]>(
        `SELECT id::text, revision FROM children WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
        changes.map((c) => c.child.id),
      )
    ).map((r) => [r.id, r.revision]),
  );
  const fresh = changes.filter((c) => (previous.get(c.child.id.toLowerCase()) ?? -1) < c.child.revision);
  if (fresh.length === 0) return;
  const rows = await upsertChildren<ChildChange, { since: string }>(tx, children, fresh);
  const since = new Map(rows.map((r) => [r.id, r.since]));

  const exited = fresh.filter((c) => c.child.status === "exited");
  if (exited.length)
    await closeOpenItems(
      tx,
      exited.map((c) => c.child.id),
    );

  // Periods before today were the scan's to create for a child it knew; only a child new here (or re-admitted) needs its own.
  const groups = new Map<string, { countyCode: string; from: string; today: string; at: Date; childIds: string[] }>();
  for (const { child, today, at, occurredOn } of fresh) {
    if (child.status === "exited") continue;
    const s = since.get(child.id.toLowerCase())!;
    const from = s < occurredOn ? today : s;
    const key = `${child.countyCode} ${from} ${today}`;
    const group = groups.get(key) ?? { countyCode: child.countyCode, from, today, at, childIds: [] };
    group.childIds.push(child.id);
    groups.set(key, group);
  }
  for (const g of groups.values()) await ensureItems(tx, { from: g.from, to: g.today }, g.at, { countyCode: g.countyCode, childIds: g.childIds });
}
