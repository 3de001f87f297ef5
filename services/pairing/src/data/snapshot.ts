import { v7 as uuidv7 } from "uuid";
import { systemActor, countyOf } from "@shouhu/contracts";
import { appendToOutbox, buildEvent } from "@shouhu/messaging";
import type { PrismaClient } from "./db.js";
import { PRODUCER } from "./pairings.js";

/**
 * Re-publishes every active pairing as `snapshot.pairing`, then
 * `snapshot.completed`, for a reporting rebuild. A county has tens of thousands
 * of pairings at most: batches of 1,000, each committed with its events.
 */
export async function publishPairingSnapshot(
  prisma: PrismaClient,
  options: { runId?: string; county?: string } = {},
): Promise<{ runId: string; events: number }> {
  const runId = options.runId ?? uuidv7();
  const actor = systemActor("publish-snapshot");
  let events = 0;
  let after = "00000000-0000-0000-0000-000000000000";
  // One county's pairings (a rebuild is per county); '' matches every county.
  const scope = options.county ?? "";
  let county = options.county ?? "000000";
  for (;;) {
    const rows = await prisma.$queryRawUnsafe<
      {
        id: string;
        kind: "mentor" | "peer";
        helperId: string;
        role: "primary" | "secondary";
        startDate: string;
        childId: string;
        name: string;
        villageCode: string;
        townshipCode: string;
        schoolId: string | null;
      }[]
    >(
      `SELECT p.id, p.kind, p.helper_id::text AS "helperId", p.role, to_char(p.start_date, 'YYYY-MM-DD') AS "startDate", c.id AS "childId", c.name, c.village_code AS "villageCode",
              c.township_code AS "townshipCode", c.school_id AS "schoolId"
         FROM pairings p JOIN children c ON c.id = p.child_id
        WHERE p.status = 'active' AND p.id > $1::uuid AND c.village_code LIKE $2 || '%' ORDER BY p.id LIMIT 1000`,
      after,
      scope,
    );
    if (rows.length === 0) break;
    county = countyOf(rows[0]!.villageCode);
    await prisma.$transaction((tx) =>
      appendToOutbox(
        tx,
        rows.map((r) =>
          buildEvent(
            "snapshot.pairing",
            {
              subject: r.childId,
              orgUnit: r.villageCode,
              actor,
              data: {
                runId,
                pairingId: r.id,
                kind: r.kind,
                role: r.role,
                status: "active",
                child: { id: r.childId, name: r.name, villageCode: r.villageCode, townshipCode: r.townshipCode, schoolId: r.schoolId },
                helperId: r.helperId,
                startDate: r.startDate,
                endDate: null,
              },
            },
            { producer: PRODUCER },
          ),
        ),
      ),
    );
    events += rows.length;
    after = rows[rows.length - 1]!.id;
  }
  await prisma.$transaction((tx) =>
    appendToOutbox(tx, [
      buildEvent("snapshot.completed", { subject: county, orgUnit: county, actor, data: { runId, producer: PRODUCER, events } }, { producer: PRODUCER }),
    ]),
  );
  return { runId, events };
}
