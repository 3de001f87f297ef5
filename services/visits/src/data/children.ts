import type { ChildSnapshot } from "@shouhu/contracts";
import type { SqlTx } from "@shouhu/messaging";
import { closeOpenItems, ensureItems } from "./items.js";

type Db = Pick<SqlTx, "$queryRawUnsafe" | "$executeRawUnsafe">;

/** A registry snapshot as a child event brought it: `today` and `at` are the consumer's clock, `occurredOn` the day the registry acted. */
export interface ChildChange {
  child: ChildSnapshot;
  today: string;
  at: Date;
  occurredOn: string;
}

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
  const rows = await tx.$queryRawUnsafe<{ id: string; since: string }[]>(
    `INSERT INTO children (id, name, village_code, township_code, county_code, school_id, status, revision, since, updated_at)
     SELECT id, name, village_code, township_code, county_code, school_id, status, revision, since, updated_at
       FROM jsonb_to_recordset($1::jsonb) AS c(id uuid, name text, village_code text, township_code text, county_code text, school_id text,
                                               status text, revision int, since date, updated_at timestamptz)
      ORDER BY id
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, village_code = EXCLUDED.village_code,
       township_code = EXCLUDED.township_code, county_code = EXCLUDED.county_code, school_id = EXCLUDED.school_id,
       status = EXCLUDED.status, revision = EXCLUDED.revision,
       -- re-admitted children start a new stretch: nothing is due for the time they were out
       since = CASE WHEN children.status = 'exited' AND EXCLUDED.status = 'active' THEN EXCLUDED.since ELSE children.since END,
       updated_at = EXCLUDED.updated_at
     RETURNING id::text, to_char(since, 'YYYY-MM-DD') AS since`,
    JSON.stringify(
      fresh.map(({ child, today, at, occurredOn }) => ({
        id: child.id,
        name: child.name,
        village_code: child.villageCode,
        township_code: child.townshipCode,
        county_code: child.countyCode,
        school_id: child.schoolId,
        status: child.status,
        revision: child.revision,
        // A producer's clock ahead of ours must not start the child in the future.
        since: occurredOn < today ? occurredOn : today,
        updated_at: at,
      })),
    ),
  );
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
