import { v7 as uuidv7 } from "uuid";
import { systemActor, type CallParty, type Envelope } from "@shouhu/contracts";
import { appendToOutbox, buildEvent } from "@shouhu/messaging";
import type { PrismaClient } from "./db.js";
import { PRODUCER } from "./scan.js";

export const SNAPSHOT_JOB = "publish-snapshot";
const BATCH = 2000;
const actor = systemActor(SNAPSHOT_JOB);

/** Pages through a table by id, turning each page into snapshot events committed together. */
async function pages<R extends { id: string }>(prisma: PrismaClient, sql: string, county: string, toEvent: (row: R) => Envelope): Promise<number> {
  let after = "00000000-0000-0000-0000-000000000000";
  let count = 0;
  for (;;) {
    const rows = await prisma.$queryRawUnsafe<R[]>(sql, after, BATCH, county);
    if (rows.length === 0) return count;
    await prisma.$transaction((tx) => appendToOutbox(tx, rows.map(toEvent)));
    count += rows.length;
    after = rows[rows.length - 1]!.id;
  }
}

const childCols = `c.id AS "childId", c.name AS "childName", c.village_code AS "villageCode", c.township_code AS "townshipCode"`;
type ChildCols = { childId: string; childName: string; villageCode: string; townshipCode: string };
const child = (r: ChildCols) => ({ id: r.childId, name: r.childName, villageCode: r.villageCode, townshipCode: r.townshipCode });

/**
 * Re-publishes visits' state for a reporting rebuild: every item (with its
 * state), every record, every concern, then `snapshot.completed`.
 */
export async function publishVisitsSnapshot(
  prisma: PrismaClient,
  runId: string = uuidv7(),
  now?: Date,
  only?: string,
): Promise<{ runId: string; events: number }> {
  // One county's state (a rebuild is per county); '' matches every county.
  const scope = only ?? "";
  const producer = { producer: PRODUCER, now };
  let events = 0;
  events += await pages<
    {
      id: string;
      kind: string;
      period: string;
      dueDate: string;
      status: string;
      remindedAt: Date | null;
      overdue: boolean;
      escalated: boolean;
      doneOn: string | null;
      onTime: boolean | null;
    } & ChildCols
  >(
    prisma,
    `SELECT i.id, i.kind, i.period_key AS period, to_char(i.due_date, 'YYYY-MM-DD') AS "dueDate", i.status,
            i.overdue_notified_at IS NOT NULL AS overdue, i.escalated_at IS NOT NULL AS escalated,
            to_char(i.done_on, 'YYYY-MM-DD') AS "doneOn", (i.done_on <= i.due_date) AS "onTime", ${childCols}
       FROM due_items i JOIN children c ON c.id = i.child_id WHERE i.id > $1::uuid AND c.village_code LIKE $3 || '%' ORDER BY i.id LIMIT $2`,
    scope,
    (r) => {
      const state = r.status === "done" ? "done" : r.status === "closed" ? "closed" : r.escalated ? "escalated" : r.overdue ? "overdue" : "due";
      return buildEvent(
        "snapshot.visit-item",
        {
          subject: r.childId,
          orgUnit: r.villageCode,
          actor,
          data: {
            runId,
            itemId: r.id,
            kind: r.kind as never,
            period: r.period,
            dueDate: r.dueDate,
            child: child(r),
            state,
            doneOn: r.doneOn,
            onTime: r.status === "done" ? r.onTime : null,
          },
        },
        producer,
      );
    },
  );
  type Call = { with: CallParty[]; connected: boolean; minutes: number | null } | null;
  events += await pages<{ id: string; kind: string; date: string; visitorUserId: string; visitorName: string; onTime: boolean | null; call: Call } & ChildCols>(
    prisma,
    `SELECT r.id, r.kind, to_char(r.date, 'YYYY-MM-DD') AS date, r.visitor_user_id AS "visitorUserId", r.visitor_name AS "visitorName",
            CASE WHEN i.id IS NULL THEN NULL ELSE COALESCE(i.done_on <= i.due_date, false) END AS "onTime", ${childCols},
            CASE WHEN r.call_connected IS NULL THEN NULL
                 ELSE jsonb_build_object('with', to_jsonb(r.call_with), 'connected', r.call_connected, 'minutes', r.duration_minutes) END AS call
       FROM visit_records r JOIN children c ON c.id = r.child_id LEFT JOIN due_items i ON i.id = r.item_id
      WHERE r.id > $1::uuid AND c.village_code LIKE $3 || '%' ORDER BY r.id LIMIT $2`,
    scope,
    (r) =>
      buildEvent(
        "snapshot.visit-record",
        {
          subject: r.childId,
          orgUnit: r.villageCode,
          actor,
          data: {
            runId,
            recordId: r.id,
            kind: r.kind as never,
            date: r.date,
            child: child(r),
            visitor: { userId: r.visitorUserId, name: r.visitorName },
            onTime: r.onTime,
            ...(r.call ? { call: r.call } : {}),
          },
        },
        producer,
      ),
  );
  events += await pages<{ id: string; category: string; raisedAt: Date; escalated: boolean; resolvedAt: Date | null } & ChildCols>(
    prisma,
    `SELECT k.id, k.category, k.raised_at AS "raisedAt", k.escalated_at IS NOT NULL AS escalated, k.resolved_at AS "resolvedAt", ${childCols}
       FROM concerns k JOIN children c ON c.id = k.child_id WHERE k.id > $1::uuid AND c.village_code LIKE $3 || '%' ORDER BY k.id LIMIT $2`,
    scope,
    (r) =>
      buildEvent(
        "snapshot.concern",
        {
          subject: r.childId,
          orgUnit: r.villageCode,
          actor,
          data: {
            runId,
            concernId: r.id,
            category: r.category as never,
            child: child(r),
            raisedAt: r.raisedAt.toISOString(),
            escalated: r.escalated,
            resolvedAt: r.resolvedAt?.toISOString() ?? null,
          },
        },
        producer,
      ),
  );
  const [first] = only ? [{ county: only }] : await prisma.$queryRawUnsafe<{ county: string }[]>(`SELECT county_code AS county FROM children LIMIT 1`);
  const county = first?.county ?? "000000";
  await prisma.$transaction((tx) =>
    appendToOutbox(tx, [buildEvent("snapshot.completed", { subject: county, orgUnit: county, actor, data: { runId, producer: PRODUCER, events } }, producer)]),
  );
  return { runId, events };
}
