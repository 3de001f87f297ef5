import { itemDates, periodsBetween } from "../domain/rhythm.js";
import type { Tx } from "./db.js";
import { ruleSetFor } from "./rules.js";

type Db = Pick<Tx, "$queryRawUnsafe" | "$executeRawUnsafe">;

/** Days (China time, both included) whose periods must have items. */
export interface DayRange {
  from: string;
  to: string;
}

/**
 * Creates the items of every period holding a day of `days` for active children
 * (all of a county, or one child; a single date means that day), per the county's rules — only for periods
 * ending on or after the child's `since`. Idempotent: the (child, kind, period)
 * key makes a second run, or two at once, a no-op. `at` is the injected clock's
 * time, stamped as created_at.
 */
export async function ensureItems(db: Db, days: DayRange | string, at: Date, scope: { countyCode: string; childId?: string }): Promise<number> {
  // A single day is still accepted (bench/visits-scan.ts calls it so).
  const range = typeof days === "string" ? onDay(days) : days;
  const { rules, calendar } = await ruleSetFor(db, scope.countyCode);
  let created = 0;
  for (const rule of rules) {
    for (const period of periodsBetween(rule.frequency, range.from, range.to, calendar)) {
      const dates = itemDates(period, rule);
      created += await db.$executeRawUnsafe(
        `INSERT INTO due_items (id, child_id, kind, period_key, responsible, period_start, period_end, due_date, remind_on, escalate_on, status, created_at)
         SELECT gen_random_uuid(), c.id, $1, $2, $10, $3::date, $4::date, $5::date, $6::date, $7::date, 'open', $11::timestamptz
           FROM children c
          WHERE c.county_code = $8 AND c.status = 'active' AND c.since <= $4::date
            AND ($9::uuid IS NULL OR c.id = $9::uuid)
          -- One order for every inserter: two catch-up scans inserting the same keys wait for each other, never deadlock.
          ORDER BY c.id
         ON CONFLICT (child_id, kind, period_key) DO NOTHING`,
        rule.kind,
        period.key,
        period.start,
        period.end,
        dates.dueDate,
        dates.remindOn,
        dates.escalateOn,
        scope.countyCode,
        scope.childId ?? null,
        rule.responsible,
        at,
      );
    }
  }
  return created;
}

/** The day itself: the periods containing it. */
export const onDay = (date: string): DayRange => ({ from: date, to: date });

/** Every county with active children, for the daily scan. */
export async function activeCounties(db: Pick<Tx, "$queryRawUnsafe">): Promise<string[]> {
  const rows = await db.$queryRawUnsafe<{ code: string }[]>(`SELECT DISTINCT county_code AS code FROM children WHERE status = 'active' ORDER BY 1`);
  return rows.map((r) => r.code);
}

export interface Satisfied {
  itemId: string;
  period: string;
  onTime: boolean;
}

/**
 * Marks as done the item the record matches: the oldest open item of this kind
 * whose window (period start to due date, grace days included) holds the
 * record's date — on time. With none (this period's item already done), the
 * record makes up (补访) the oldest missed item, late. So a visit in December
 * counts for December, and a missed November stays visible until someone makes
 * a second visit for it.
 */
export async function satisfyItem(db: Db, childId: string, kind: string, date: string, recordId: string): Promise<Satisfied | null> {
  const [row] = await db.$queryRawUnsafe<{ id: string; period: string; onTime: boolean }[]>(
    `UPDATE due_items SET status = 'done', record_id = $4::uuid, done_on = $3::date
      WHERE id = (SELECT id FROM due_items
                   WHERE child_id = $1::uuid AND kind = $2 AND status = 'open' AND period_start <= $3::date
                   ORDER BY due_date >= $3::date DESC, period_start LIMIT 1 FOR UPDATE)
      RETURNING id, period_key AS period, (done_on <= due_date) AS "onTime"`,
    childId,
    kind,
    date,
    recordId,
  );
  return row ? { itemId: row.id, period: row.period, onTime: row.onTime } : null;
}

/** A child who left the programme has nothing more due. */
export async function closeOpenItems(db: Pick<Tx, "$executeRawUnsafe">, childId: string): Promise<number> {
  return db.$executeRawUnsafe(`UPDATE due_items SET status = 'closed' WHERE child_id = $1::uuid AND status = 'open'`, childId);
}
