import type { Actor } from "@shouhu/contracts";
import { systemActor } from "@shouhu/contracts";
import { appendToOutbox, buildEvent } from "@shouhu/messaging";
import { todayInChina } from "@shouhu/cn";
import { daysBetween } from "../domain/rhythm.js";
import type { PrismaClient } from "./db.js";
import { activeCounties, ensureItems } from "./items.js";
import { responsibleJoin } from "./responsible.js";

export const PRODUCER = "visits";
export const SCAN_JOB = "daily-visit-scan";

interface ItemRow {
  id: string;
  kind: string;
  period: string;
  dueDate: string;
  childId: string;
  childName: string;
  villageCode: string;
  townshipCode: string;
  helperId: string | null;
  helperName: string | null;
  helperPhone: string | null;
  helperUsername: string | null;
}

export interface ScanOptions {
  batchSize?: number;
  concernEscalationDays?: number;
  /** Called after each committed batch (the worker reports job progress with it). */
  onBatch?: (stage: ScanStage, claimed: number) => Promise<void> | void;
}

type ScanStage = "reminded" | "overdue" | "escalated";

export interface ScanResult {
  itemsCreated: number;
  reminded: number;
  overdue: number;
  escalated: number;
  concernsEscalated: number;
}

/** Columns every item event needs: the child and whoever is responsible now. */
const itemColumns = `u.id, u.kind, u.period_key AS period, to_char(u.due_date, 'YYYY-MM-DD') AS "dueDate",
  c.id AS "childId", c.name AS "childName", c.village_code AS "villageCode", c.township_code AS "townshipCode",
  a.helper_id AS "helperId", a.name AS "helperName", a.phone AS "helperPhone", a.username AS "helperUsername"`;

function itemPayload(row: ItemRow) {
  return {
    itemId: row.id,
    kind: row.kind as never,
    period: row.period,
    dueDate: row.dueDate,
    child: { id: row.childId, name: row.childName, villageCode: row.villageCode, townshipCode: row.townshipCode },
    responsible: {
      kind: row.helperId ? ("helper" as const) : ("village_director" as const),
      helperId: row.helperId,
      name: row.helperName,
      phone: row.helperPhone,
      username: row.helperUsername,
      villageCode: row.villageCode,
    },
  };
}

/**
 * After an outage the missed periods' items arrive already past their due date:
 * they get no visit.due (a reminder for a day gone by helps nobody — the
 * reminder stage only takes items not yet due), only visit.overdue, and the
 * escalation once its day has come (at once when that is past as well, so the
 * township supervisor hears of a child nobody looked at). One event of each
 * per item, as on any other day.
 */
const stages = [
  {
    name: "reminded" as const,
    flag: "reminded_at",
    where: "i.reminded_at IS NULL AND i.remind_on <= $1::date AND i.due_date >= $1::date",
    event: (row: ItemRow, today: string, actor: Actor, now: Date) =>
      buildEvent(
        "visit.due",
        { subject: row.childId, orgUnit: row.villageCode, actor, data: { ...itemPayload(row), daysLeft: daysBetween(today, row.dueDate) } },
        { producer: PRODUCER, now },
      ),
  },
  {
    name: "overdue" as const,
    flag: "overdue_notified_at",
    where: "i.overdue_notified_at IS NULL AND i.due_date < $1::date",
    event: (row: ItemRow, today: string, actor: Actor, now: Date) =>
      buildEvent(
        "visit.overdue",
        { subject: row.childId, orgUnit: row.villageCode, actor, data: { ...itemPayload(row), daysOverdue: daysBetween(row.dueDate, today), level: 1 } },
        { producer: PRODUCER, now },
      ),
  },
  {
    name: "escalated" as const,
    flag: "escalated_at",
    where: "i.escalated_at IS NULL AND i.escalate_on <= $1::date",
    event: (row: ItemRow, today: string, actor: Actor, now: Date) =>
      buildEvent(
        "visit.overdue",
        { subject: row.childId, orgUnit: row.villageCode, actor, data: { ...itemPayload(row), daysOverdue: daysBetween(row.dueDate, today), level: 2 } },
        { producer: PRODUCER, now },
      ),
  },
];

/**
 * Creates the county's items for every period from the last day a scan finished
 * creating them up to today, then records today: a scan that did not run for a
 * day, a month or across a semester's end leaves no period without items, so
 * what was missed is overdue and escalates like anything else. The day is moved
 * on only after every insert succeeded (a failed scan is redone from the same
 * day) and never backwards (two scans at once, or a late one, agree on the
 * latest). Two scans at once insert the same keys: the unique key keeps one.
 *
 * A county never scanned (or a database from before scan_state) has no day:
 * its items were made as far as the last day one was made (by a scan, or by
 * the event that brought a child, which covers the child from its `since`), so
 * that is where it starts; with no items at all, today.
 */
async function catchUpItems(prisma: PrismaClient, countyCode: string, today: string, now: Date): Promise<number> {
  const [{ from }] = (await prisma.$queryRawUnsafe<{ from: string }[]>(
    `SELECT to_char(LEAST($2::date, COALESCE(
              (SELECT last_scanned_on FROM scan_state WHERE county_code = $1),
              (SELECT max((i.created_at AT TIME ZONE 'Asia/Shanghai')::date) FROM due_items i JOIN children c ON c.id = i.child_id WHERE c.county_code = $1),
              $2::date)), 'YYYY-MM-DD') AS "from"`,
    countyCode,
    today,
  )) as [{ from: string }];
  const created = await ensureItems(prisma, { from, to: today }, now, { countyCode });
  await prisma.$executeRawUnsafe(
    `INSERT INTO scan_state (county_code, last_scanned_on, updated_at) VALUES ($1, $2::date, $3::timestamptz)
     ON CONFLICT (county_code) DO UPDATE SET last_scanned_on = GREATEST(scan_state.last_scanned_on, EXCLUDED.last_scanned_on), updated_at = EXCLUDED.updated_at`,
    countyCode,
    today,
    now,
  );
  return created;
}

/**
 * The daily scan: creates the items of every period since the last scan (see
 * catchUpItems), then reminds, flags overdue and
 * escalates, each item once. Items are claimed in batches with FOR UPDATE SKIP
 * LOCKED and flagged in the same transaction as their events' outbox rows, so
 * two scans at once (two workers, a retried job) split the work and never send
 * the same event twice.
 */
export async function dailyScan(prisma: PrismaClient, now: Date, options: ScanOptions = {}): Promise<ScanResult> {
  const today = todayInChina(now);
  const batchSize = options.batchSize ?? 2000;
  const actor = systemActor(SCAN_JOB);
  const result: ScanResult = { itemsCreated: 0, reminded: 0, overdue: 0, escalated: 0, concernsEscalated: 0 };
  for (const county of await activeCounties(prisma)) result.itemsCreated += await catchUpItems(prisma, county, today, now);

  for (const stage of stages) {
    for (;;) {
      const claimed = await prisma.$transaction(
        async (tx) => {
          const rows = await tx.$queryRawUnsafe<ItemRow[]>(
            `WITH picked AS (
               SELECT i.id FROM due_items i WHERE i.status = 'open' AND ${stage.where}
                ORDER BY i.id LIMIT $2 FOR UPDATE SKIP LOCKED
             ), u AS (
               UPDATE due_items i SET ${stage.flag} = $3::timestamptz FROM picked WHERE i.id = picked.id
               RETURNING i.id, i.kind, i.period_key, i.due_date, i.child_id, i.responsible
             )
             SELECT ${itemColumns} FROM u JOIN children c ON c.id = u.child_id ${responsibleJoin("u")}`,
            today,
            batchSize,
            now,
          );
          await appendToOutbox(
            tx,
            rows.map((row) => stage.event(row, today, actor, now)),
          );
          return rows.length;
        },
        { timeout: 120_000 },
      );
      result[stage.name] += claimed;
      if (claimed > 0) await options.onBatch?.(stage.name, claimed);
      if (claimed < batchSize) break;
    }
  }
  result.concernsEscalated = await escalateStaleConcerns(prisma, today, now, options.concernEscalationDays ?? 3, actor);
  return result;
}

/** Concern cases nobody acknowledged within N days go up to the county. */
async function escalateStaleConcerns(prisma: PrismaClient, today: string, now: Date, days: number, actor: Actor): Promise<number> {
  return prisma.$transaction(async (tx) => {
    const rows = await tx.$queryRawUnsafe<
      { id: string; category: string; raisedOn: string; childId: string; childName: string; villageCode: string; townshipCode: string; countyCode: string }[]
    >(
      `WITH picked AS (
         SELECT k.id FROM concerns k
          WHERE k.status = 'open' AND k.escalated_at IS NULL AND (k.raised_at AT TIME ZONE 'Asia/Shanghai')::date <= $1::date - $2::int
          FOR UPDATE SKIP LOCKED
       ), u AS (
         UPDATE concerns k SET escalated_at = $3::timestamptz FROM picked WHERE k.id = picked.id RETURNING k.id, k.category, k.raised_at, k.child_id
       )
       SELECT u.id, u.category, to_char((u.raised_at AT TIME ZONE 'Asia/Shanghai')::date, 'YYYY-MM-DD') AS "raisedOn", c.id AS "childId", c.name AS "childName",
              c.village_code AS "villageCode", c.township_code AS "townshipCode", c.county_code AS "countyCode"
         FROM u JOIN children c ON c.id = u.child_id`,
      today,
      days,
      now,
    );
    await appendToOutbox(
      tx,
      rows.map((r) =>
        buildEvent(
          "concern.escalated",
          {
            subject: r.childId,
            orgUnit: r.villageCode,
            actor,
            data: {
              concernId: r.id,
              category: r.category as never,
              child: { id: r.childId, name: r.childName, villageCode: r.villageCode, townshipCode: r.townshipCode },
              openDays: daysBetween(r.raisedOn, today),
              escalatedTo: r.countyCode,
            },
          },
          { producer: PRODUCER, now },
        ),
      ),
    );
    return rows.length;
  });
}
