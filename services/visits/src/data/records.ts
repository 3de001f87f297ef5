import { v7 as uuidv7 } from "uuid";
import type { Actor, CallParty, VisitKind } from "@shouhu/contracts";
import { appendToOutbox, buildEvent } from "@shouhu/messaging";
import type { RecordInput } from "../domain/record.js";
import type { PrismaClient, Tx } from "./db.js";
import { ensureItems, onDay, satisfyItem, type Satisfied } from "./items.js";
import { raiseOrJoin } from "./concerns.js";
import { PRODUCER } from "./scan.js";
import type { VisibleChild } from "./visibility.js";

export interface Visitor {
  userId: string;
  name: string;
  actor: Actor;
}

/** A record already stored under an id, as its creation answered (for an idempotent replay). */
export interface StoredRecord {
  recordId: string;
  childId: string;
  kind: string;
  date: string;
  visitorUserId: string;
  satisfied: Satisfied | null;
  concernId: string | null;
}

/** The record stored under `id`, with the item it satisfied and the concern it raised; null when none. */
export async function storedRecord(db: Pick<Tx, "$queryRawUnsafe">, id: string): Promise<StoredRecord | null> {
  const [row] = await db.$queryRawUnsafe<(Omit<StoredRecord, "satisfied"> & { itemId: string | null; period: string | null; onTime: boolean | null })[]>(
    `SELECT r.id AS "recordId", r.child_id AS "childId", r.kind, to_char(r.date, 'YYYY-MM-DD') AS date, r.visitor_user_id AS "visitorUserId",
            i.id AS "itemId", i.period_key AS period, (i.done_on <= i.due_date) AS "onTime",
            (SELECT c.id FROM concerns c WHERE c.record_id = r.id AND c.child_id = r.child_id ORDER BY c.raised_at LIMIT 1) AS "concernId"
       FROM visit_records r LEFT JOIN due_items i ON i.id = r.item_id
      WHERE r.id = $1::uuid`,
    id,
  );
  if (!row) return null;
  const { itemId, period, onTime, ...rest } = row;
  return { ...rest, satisfied: itemId && period ? { itemId, period, onTime: onTime ?? false } : null };
}

/**
 * Stores a visit record; it satisfies the open item of its kind whose period
 * holds its date (late if after the due date), publishes visit.recorded, and —
 * when it flags a safety or abuse suspicion — opens a concern case and
 * publishes concern.raised in the same transaction (强制报告: at once).
 */
export async function createRecord(
  prisma: PrismaClient,
  child: VisibleChild,
  input: RecordInput,
  visitor: Visitor,
  at: Date,
): Promise<{ recordId: string; satisfied: Satisfied | null; concernId: string | null; replayed: StoredRecord | null }> {
  return prisma.$transaction(async (tx) => {
    const recordId = input.id ?? uuidv7();
    if (input.id) {
      // The client's id is the idempotency key: two sends of one record at once queue
      // here, and the second finds the first's committed row (READ COMMITTED: each
      // statement sees what committed before it) instead of inserting a second one.
      await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))`, `visit-record:${input.id}`);
      const stored = await storedRecord(tx, input.id);
      if (stored) return { recordId, satisfied: stored.satisfied, concernId: stored.concernId, replayed: stored };
    }
    // The item for the record's period may not exist yet (the scan runs once a day).
    await ensureItems(tx, onDay(input.date), at, { countyCode: child.countyCode, childIds: [child.id] });
    // A call that did not get through is an attempt: the month's 亲情电话 stays due.
    const satisfied = input.call?.connected === false ? null : await satisfyItem(tx, child.id, input.kind, input.date, recordId);
    const concernId = await storeRecord(tx, child, { ...input, id: recordId }, visitor, at, satisfied);
    return { recordId, satisfied, concernId, replayed: null };
  });
}

/**
 * The record's own rows in the caller's transaction, once the item it satisfies is settled: the record, the concern
 * it raises (强制报告, at once) and visit.recorded. Shared by staff records and one-time task links (`via`).
 */
export async function storeRecord(
  tx: Tx,
  child: VisibleChild,
  input: RecordInput & { id: string },
  visitor: Visitor,
  at: Date,
  satisfied: Satisfied | null,
  via: "task_link" | null = null,
): Promise<string | null> {
  const recordId = input.id;
  await tx.$executeRawUnsafe(
    `INSERT INTO visit_records (id, child_id, kind, date, visitor_user_id, visitor_name, location, duration_minutes, findings,
                                  follow_up_needed, follow_up_note, item_id, created_at, via, call_with, call_connected)
       VALUES ($1::uuid, $2::uuid, $3, $4::date, $5, $6, $7, $8, $9::jsonb, $10, $11, $12::uuid, $13::timestamptz, $14, $15::text[], $16)`,
    recordId,
    child.id,
    input.kind,
    input.date,
    visitor.userId,
    visitor.name,
    input.location ?? null,
    input.durationMinutes ?? null,
    JSON.stringify(input.findings),
    input.followUpNeeded,
    input.followUpNote ?? null,
    satisfied?.itemId ?? null,
    at,
    via,
    input.call?.with ?? null,
    input.call?.connected ?? null,
  );
  const eventChild = { id: child.id, name: child.name, villageCode: child.villageCode, townshipCode: child.townshipCode };
  const concernId = input.concern
    ? (await raiseOrJoin(tx, { child: eventChild, recordId, category: input.concern.category, description: input.concern.description, raisedBy: visitor, at }))
        .concernId
    : null;
  await appendToOutbox(tx, [
    buildEvent(
      "visit.recorded",
      {
        subject: child.id,
        orgUnit: child.villageCode,
        actor: visitor.actor,
        data: {
          recordId,
          kind: input.kind,
          date: input.date,
          child: eventChild,
          visitor: { userId: visitor.userId, name: visitor.name },
          satisfied,
          followUpNeeded: input.followUpNeeded,
          concernRaised: concernId !== null,
          ...(input.call ? { call: { ...input.call, minutes: input.durationMinutes ?? null } } : {}),
        },
      },
      { producer: PRODUCER, now: at },
    ),
  ]);
  return concernId;
}

export type RecordRow = {
  id: string;
  childId: string;
  childName: string;
  villageCode: string;
  kind: VisitKind;
  date: string;
  itemId: string | null;
  onTime: boolean | null;
  visitorName: string;
  location: string | null;
  durationMinutes: number | null;
  findings: Record<string, string | null>;
  followUpNeeded: boolean;
  followUpNote: string | null;
  /** A 亲情电话's parties and whether it got through; null on other kinds (and on calls recorded before they were asked). */
  call: { with: CallParty[]; connected: boolean } | null;
  createdAt: Date | string;
  /** "task_link": written by a proxy parent through a one-time SMS link. */
  via: string | null;
};

/**
 * Visit records in an org unit, newest first. `helperUsername`: only records of the
 * children paired with that helper or written by `visitorUserId` (a teacher's own).
 */
export async function listRecords(
  prisma: Pick<PrismaClient, "$queryRawUnsafe">,
  f: {
    orgUnit: string;
    childId: string | null;
    from: string | null;
    to: string | null;
    helperUsername: string | null;
    visitorUserId: string;
    cursor: string | null;
    limit: number;
  },
): Promise<RecordRow[]> {
  return prisma.$queryRawUnsafe<RecordRow[]>(
    `SELECT r.id, r.child_id AS "childId", c.name AS "childName", c.village_code AS "villageCode", r.kind,
            to_char(r.date, 'YYYY-MM-DD') AS date, r.visitor_name AS "visitorName", r.location, r.duration_minutes AS "durationMinutes",
            r.findings, r.follow_up_needed AS "followUpNeeded", r.follow_up_note AS "followUpNote", r.item_id AS "itemId", r.created_at AS "createdAt", r.via,
            CASE WHEN r.call_connected IS NULL THEN NULL ELSE jsonb_build_object('with', to_jsonb(r.call_with), 'connected', r.call_connected) END AS call,
            CASE WHEN i.id IS NULL THEN NULL ELSE r.date <= i.due_date END AS "onTime"
       FROM visit_records r JOIN children c ON c.id = r.child_id LEFT JOIN assignments a ON a.child_id = c.id
       LEFT JOIN due_items i ON i.id = r.item_id
      WHERE c.village_code LIKE $1 || '%'
        AND ($2::uuid IS NULL OR r.child_id = $2::uuid)
        AND ($3::date IS NULL OR r.date >= $3::date) AND ($4::date IS NULL OR r.date <= $4::date)
        AND ($5::text IS NULL OR a.username = $5 OR r.visitor_user_id = $8)
        AND ($6::uuid IS NULL OR r.id < $6::uuid)
      ORDER BY r.id DESC LIMIT $7`,
    f.orgUnit,
    f.childId,
    f.from,
    f.to,
    f.helperUsername,
    f.cursor,
    f.limit,
    f.visitorUserId,
  );
}
