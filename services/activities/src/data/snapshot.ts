import { townshipOf, type ActivityKind, type EventData } from "@shouhu/contracts";
import { appendToOutbox, buildEvent, type SqlTx } from "@shouhu/messaging";
import { PRODUCER } from "./children.js";

const PAGE = 2000;
const actor = { kind: "system" as const, id: "activities-snapshot" };

/**
 * A rebuild's snapshot.requested: every session held at the county's homes, re-published as snapshot.activity
 * under the rebuild's id, then snapshot.completed — in the consuming transaction, so a crash re-runs it whole
 * (a county holds a few thousand sessions a year; reporting merges them by session id).
 */
export async function publishActivitiesSnapshot(tx: Pick<SqlTx, "$queryRawUnsafe" | "$executeRawUnsafe">, d: EventData<"snapshot.requested">): Promise<number> {
  let after = "00000000-0000-0000-0000-000000000000";
  let count = 0;
  for (;;) {
    const rows = await tx.$queryRawUnsafe<
      {
        id: string;
        date: string;
        kind: ActivityKind;
        leader: string;
        siteId: string;
        siteName: string;
        siteKind: "village" | "school";
        orgUnit: string;
        attendance: string[];
      }[]
    >(
      `SELECT a.id, to_char(a.date, 'YYYY-MM-DD') AS date, a.kind, a.leader, s.id AS "siteId", s.name AS "siteName", s.kind AS "siteKind",
              s.org_unit AS "orgUnit", ARRAY(SELECT t.child_id::text FROM activity_attendance t WHERE t.session_id = a.id ORDER BY t.child_id) AS attendance
         FROM activity_sessions a JOIN sites s ON s.id = a.site_id
        WHERE s.org_unit LIKE $1 || '%' AND a.id > $2::uuid ORDER BY a.id LIMIT $3`,
      d.county,
      after,
      PAGE,
    );
    if (!rows.length) break;
    await appendToOutbox(
      tx,
      rows.map((r) =>
        buildEvent(
          "snapshot.activity",
          {
            subject: r.siteId,
            orgUnit: r.orgUnit,
            actor,
            data: {
              runId: d.runId,
              sessionId: r.id,
              site: { id: r.siteId, name: r.siteName, kind: r.siteKind, orgUnit: r.orgUnit, townshipCode: townshipOf(r.orgUnit) },
              kind: r.kind,
              date: r.date,
              leader: r.leader,
              attendance: r.attendance,
            },
          },
          { producer: PRODUCER },
        ),
      ),
    );
    count += rows.length;
    after = rows[rows.length - 1]!.id;
  }
  await appendToOutbox(tx, [
    buildEvent(
      "snapshot.completed",
      { subject: d.runId, orgUnit: d.county, actor, data: { runId: d.runId, producer: PRODUCER, events: count } },
      { producer: PRODUCER },
    ),
  ]);
  return count;
}
