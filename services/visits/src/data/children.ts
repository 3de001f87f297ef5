import type { ChildSnapshot } from "@shouhu/contracts";
import type { Tx } from "./db.js";
import { closeOpenItems, ensureItems } from "./items.js";

/**
 * Keeps the child projection current (older revisions ignored) and the child's
 * items with it: an active child has the items of every period from its `since`
 * (the day the registry registered or re-admitted it, `occurredOn`) to today —
 * an event that waited out an outage still brings the periods it waited through,
 * which the scan, catching up from before the child existed here, may have
 * passed already; an exited child has none open.
 */
export async function applyChildSnapshot(tx: Tx, child: ChildSnapshot, today: string, at: Date, occurredOn: string = today): Promise<"applied" | "stale"> {
  const [previous] = await tx.$queryRawUnsafe<{ revision: number }[]>(`SELECT revision FROM children WHERE id = $1::uuid FOR UPDATE`, child.id);
  if (previous && previous.revision >= child.revision) return "stale";
  await tx.$executeRawUnsafe(
    `INSERT INTO children (id, name, village_code, township_code, county_code, school_id, status, revision, since, updated_at)
     VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9::date, $10::timestamptz)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, village_code = EXCLUDED.village_code,
       township_code = EXCLUDED.township_code, county_code = EXCLUDED.county_code, school_id = EXCLUDED.school_id,
       status = EXCLUDED.status, revision = EXCLUDED.revision,
       -- re-admitted children start a new stretch: nothing is due for the time they were out
       since = CASE WHEN children.status = 'exited' AND EXCLUDED.status = 'active' THEN EXCLUDED.since ELSE children.since END,
       updated_at = EXCLUDED.updated_at`,
    child.id,
    child.name,
    child.villageCode,
    child.townshipCode,
    child.countyCode,
    child.schoolId,
    child.status,
    child.revision,
    // A producer's clock ahead of ours must not start the child in the future.
    occurredOn < today ? occurredOn : today,
    at,
  );
  if (child.status === "exited") {
    await closeOpenItems(tx, child.id);
    return "applied";
  }
  const [{ since }] = (await tx.$queryRawUnsafe<{ since: string }[]>(
    `SELECT to_char(since, 'YYYY-MM-DD') AS since FROM children WHERE id = $1::uuid`,
    child.id,
  )) as [{ since: string }];
  // Periods before today were the scan's to create for a child it knew; only a child new here (or re-admitted) needs its own.
  const from = since < occurredOn ? today : since;
  await ensureItems(tx, { from, to: today }, at, { countyCode: child.countyCode, childId: child.id });
  return "applied";
}
