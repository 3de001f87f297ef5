import { v7 as uuidv7 } from "uuid";
import { systemActor, countyOf } from "@shouhu/contracts";
import { appendToOutbox, buildEvent } from "@shouhu/messaging";
import type { Flag } from "../domain/evaluate.js";
import type { PrismaClient } from "./db.js";
import { PRODUCER } from "./exams.js";

/**
 * For a reporting rebuild: every exam re-published as checkup.recorded (routed
 * to reporting only; it merges by exam id), then snapshot.completed.
 */
export async function publishHealthSnapshot(
  prisma: PrismaClient,
  options: { runId?: string; county?: string } = {},
): Promise<{ runId: string; events: number }> {
  const runId = options.runId ?? uuidv7();
  const actor = systemActor("publish-snapshot");
  let after = "00000000-0000-0000-0000-000000000000";
  let events = 0;
  // One county's exams (a rebuild is per county); '' matches every county.
  const scope = options.county ?? "";
  let county = options.county ?? "000000";
  for (;;) {
    const rows = await prisma.$queryRawUnsafe<
      {
        id: string;
        campaignId: string | null;
        date: string;
        flags: Flag[];
        childId: string;
        name: string;
        villageCode: string;
        townshipCode: string;
        heightCm: number | null;
        weightKg: number | null;
        bmi: number | null;
      }[]
    >(
      `SELECT e.id, e.campaign_id AS "campaignId", to_char(e.date, 'YYYY-MM-DD') AS date, e.flags,
              e.height_cm::float8 AS "heightCm", e.weight_kg::float8 AS "weightKg", e.bmi::float8 AS bmi, c.id AS "childId", c.name,
              c.village_code AS "villageCode", c.township_code AS "townshipCode"
         FROM exams e JOIN children c ON c.id = e.child_id WHERE e.id > $1::uuid AND c.village_code LIKE $2 || '%' ORDER BY e.id LIMIT 1000`,
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
            "checkup.recorded",
            {
              subject: r.childId,
              orgUnit: r.villageCode,
              actor,
              data: {
                examId: r.id,
                campaignId: r.campaignId,
                date: r.date,
                child: { id: r.childId, name: r.name, villageCode: r.villageCode, townshipCode: r.townshipCode },
                flags: r.flags,
                measures: { heightCm: r.heightCm, weightKg: r.weightKg, bmi: r.bmi },
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
