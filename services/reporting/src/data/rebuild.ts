import { v7 as uuidv7 } from "uuid";
import { SnapshotProducer, type EventData, countyOf } from "@shouhu/contracts";
import { appendToOutbox, buildEvent, type SqlTx } from "@shouhu/messaging";
import type { PrismaClient } from "./db.js";

export const PRODUCER = "reporting";

type Db = SqlTx;

/** Producers whose snapshots make a complete rebuild. */
const snapshotProducers = SnapshotProducer.options;

/**
 * Starts a rebuild of one county: its read models and counters are emptied, and a
 * snapshot.requested event goes to every producer, in one transaction (the outbox:
 * the request cannot be lost, nor sent for a rebuild that did not happen). Each
 * producer re-publishes that county's state under the rebuild's id; the snapshot
 * events flow through the same merge functions as live events. Live events keep
 * flowing meanwhile; merges by revision and by forward-only state make the order
 * irrelevant. Finished when every producer's snapshot.completed has arrived.
 */
export async function startRebuild(prisma: PrismaClient, by: string, county: string): Promise<string> {
  const id = uuidv7();
  await prisma.$transaction(async (tx) => {
    // Only the requesting county's rows: an admin rebuilds their own county, never another's.
    // Notification outcomes are kept: no producer re-publishes them, so emptying them would lose them for good.
    for (const table of ["children", "pairings", "visit_items", "visit_records", "concerns", "checkups", "counters"]) {
      await tx.$executeRawUnsafe(`DELETE FROM ${table} WHERE village_code LIKE $1 || '%'`, county);
    }
    // Activities are kept per home (a village or a township's school): activities re-publishes them too.
    await tx.$executeRawUnsafe(`DELETE FROM activities WHERE org_unit LIKE $1 || '%'`, county);
    await tx.$executeRawUnsafe(`INSERT INTO rebuilds (id, started_by, county, completed) VALUES ($1::uuid, $2, $3, '{}')`, id, by, county);
    await appendToOutbox(tx, [
      buildEvent(
        "snapshot.requested",
        { subject: id, orgUnit: county, actor: { kind: "user", id: by }, data: { runId: id, county, producers: [...snapshotProducers] } },
        { producer: PRODUCER },
      ),
    ]);
  });
  return id;
}

/**
 * A producer finished its snapshot: recorded on the rebuild it answers (its runId is
 * the rebuild's id), or, for a snapshot posted by hand, on the county's latest rebuild.
 */
export async function completeSnapshot(db: Db, d: EventData<"snapshot.completed">, county: string): Promise<void> {
  await db.$executeRawUnsafe(
    `UPDATE rebuilds SET completed = array_append(completed, $1),
            finished_at = CASE WHEN $2::text[] <@ array_append(completed, $1) THEN now() ELSE NULL END
      WHERE id = COALESCE((SELECT id FROM rebuilds WHERE id = $3::uuid),
                          (SELECT id FROM rebuilds WHERE county IN ($4, '') ORDER BY started_at DESC LIMIT 1))
        AND NOT ($1 = ANY(completed))`,
    d.producer,
    [...snapshotProducers],
    d.runId,
    countyOf(county),
  );
}

/** A county's latest rebuild, with each producer's part: done or still waited for. */
export async function rebuildStatus(prisma: PrismaClient, county: string) {
  const last = await prisma.rebuild.findFirst({ where: { county }, orderBy: { startedAt: "desc" } });
  if (!last) return { status: "never" as const };
  return {
    ...last,
    status: last.finishedAt ? ("finished" as const) : ("running" as const),
    producers: snapshotProducers.map((producer) => {
      const done = last.completed.includes(producer);
      return { producer, done, label: done ? "已完成" : "等待快照" };
    }),
  };
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
