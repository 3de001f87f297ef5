import { v7 as uuidv7 } from "uuid";
import { systemActor } from "@shouhu/contracts";
import { appendToOutbox, buildEvent } from "@shouhu/messaging";
import { toSnapshot } from "../domain/child-record.js";
import { childInclude, toChildRecord } from "../data/child-mapper.js";
import type { PrismaClient } from "../data/db.js";
import { PRODUCER } from "../data/children.js";

export const SNAPSHOT_JOB = "publish-snapshot";
const BATCH = 1000;

/**
 * Re-publishes the registry's current state for read models being rebuilt
 * (reporting): org units and schools, then every child as `snapshot.child`, then
 * `snapshot.completed`. Batches commit on their own; a crash part-way is
 * finished by the job's retry (readers merge by revision, so repeats are harmless).
 */
/**
 * Org-unit and school names for read models (reports name townships, not codes).
 * Also published at every start, so a new reporting database has them.
 */
export async function publishOrgUnits(prisma: PrismaClient, runId: string = uuidv7(), only?: string): Promise<string> {
  const actor = systemActor(SNAPSHOT_JOB);
  const units = await prisma.orgUnit.findMany({ where: only ? { code: { startsWith: only } } : {}, orderBy: { code: "asc" } });
  const schools = await prisma.school.findMany({ where: only ? { townshipCode: { startsWith: only } } : {}, orderBy: { id: "asc" } });
  const county = units.find((u) => u.level === "county")?.code ?? units[0]?.code ?? "000000";
  if (units.length === 0) return county;
  await prisma.$transaction((tx) =>
    appendToOutbox(tx, [
      buildEvent(
        "snapshot.org-units",
        {
          subject: county,
          orgUnit: county,
          actor,
          data: {
            runId,
            units: units.map((u) => ({ code: u.code, name: u.name, level: u.level, parentCode: u.parentCode })),
            schools: schools.map((s) => ({ id: s.id, name: s.name, townshipCode: s.townshipCode })),
          },
        },
        { producer: PRODUCER },
      ),
    ]),
  );
  return county;
}

/** One county's registry (a rebuild is per county), or all of it when no county is given. */
export async function publishRegistrySnapshot(prisma: PrismaClient, runId: string = uuidv7(), only?: string): Promise<{ runId: string; events: number }> {
  const actor = systemActor(SNAPSHOT_JOB);
  const producer = { producer: PRODUCER };

  const county = only ?? (await publishOrgUnits(prisma, runId));
  if (only) await publishOrgUnits(prisma, runId, only);
  let events = 1;
  let cursor: string | undefined;
  for (;;) {
    const rows = await prisma.child.findMany({
      where: only ? { villageCode: { startsWith: only } } : {},
      include: childInclude,
      orderBy: { id: "asc" },
      take: BATCH,
      ...(cursor ? { skip: 1, cursor: { id: cursor } } : {}),
    });
    if (rows.length === 0) break;
    const batch = rows.map((row) => {
      const child = toSnapshot(toChildRecord(row));
      return buildEvent("snapshot.child", { subject: child.id, orgUnit: child.villageCode, actor, data: { runId, child } }, producer);
    });
    await prisma.$transaction((tx) => appendToOutbox(tx, batch));
    events += batch.length;
    cursor = rows[rows.length - 1]!.id;
  }
  await prisma.$transaction((tx) =>
    appendToOutbox(tx, [buildEvent("snapshot.completed", { subject: county, orgUnit: county, actor, data: { runId, producer: PRODUCER, events } }, producer)]),
  );
  return { runId, events };
}
