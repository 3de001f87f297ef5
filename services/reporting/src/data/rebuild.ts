import { v7 as uuidv7 } from "uuid";
import type { EventData } from "@shouhu/contracts";
import type { PrismaClient, Tx } from "./db.js";

type Db = Pick<Tx, "$queryRawUnsafe" | "$executeRawUnsafe">;

/** Producers whose snapshots make a complete rebuild. */
export const snapshotProducers = ["registry", "pairing", "visits", "health"] as const;

/**
 * Starts a rebuild: the read models and counters are emptied in one transaction;
 * producers then re-publish their state as snapshot events (POST /api/v1/snapshots
 * on each), which flow through the same merge functions as live events. Live events
 * keep flowing meanwhile; merges by revision and by forward-only state make the
 * order irrelevant. Finished when every producer's snapshot.completed has arrived.
 */
export async function startRebuild(prisma: PrismaClient, by: string, county: string): Promise<string> {
  const id = uuidv7();
  await prisma.$transaction(async (tx) => {
    // Only the requesting county's rows: an admin rebuilds their own county, never another's.
    // Notification outcomes are kept: no producer re-publishes them, so emptying them would lose them for good.
    for (const table of ["children", "pairings", "visit_items", "visit_records", "concerns", "checkups", "counters"]) {
      await tx.$executeRawUnsafe(`DELETE FROM ${table} WHERE village_code LIKE $1 || '%'`, county);
    }
    await tx.$executeRawUnsafe(`INSERT INTO rebuilds (id, started_by, completed) VALUES ($1::uuid, $2, '{}')`, id, by);
  });
  return id;
}

export async function completeSnapshot(db: Db, d: EventData<"snapshot.completed">): Promise<void> {
  await db.$executeRawUnsafe(
    `UPDATE rebuilds SET completed = array_append(completed, $1),
            finished_at = CASE WHEN $2::text[] <@ array_append(completed, $1) THEN now() ELSE NULL END
      WHERE id = (SELECT id FROM rebuilds ORDER BY started_at DESC LIMIT 1) AND NOT ($1 = ANY(completed))`,
    d.producer,
    [...snapshotProducers],
  );
}

export async function applyOrgUnits(db: Db, d: EventData<"snapshot.org-units">): Promise<void> {
  if (d.units.length) {
    await db.$executeRawUnsafe(
      `INSERT INTO org_units (code, name, level, parent_code) SELECT code, name, level, "parentCode" FROM jsonb_to_recordset($1::jsonb) AS x(code text, name text, level text, "parentCode" text)
       ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, level = EXCLUDED.level, parent_code = EXCLUDED.parent_code`,
      JSON.stringify(d.units),
    );
  }
  if (d.schools.length) {
    await db.$executeRawUnsafe(
      `INSERT INTO schools (id, name, township_code) SELECT id, name, "townshipCode" FROM jsonb_to_recordset($1::jsonb) AS x(id text, name text, "townshipCode" text)
       ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, township_code = EXCLUDED.township_code`,
      JSON.stringify(d.schools),
    );
  }
}
