import type { SqlTx } from "@shouhu/messaging";
import { itemDates, periodsBetween } from "../domain/rhythm.js";
import type { VisitKind } from "@shouhu/contracts";
import type { PrismaClient, Tx } from "./db.js";
import { responsibleJoin } from "./responsible.js";
import { ruleSetFor } from "./rules.js";

type Db = Pick<SqlTx, "$queryRawUnsafe" | "$executeRawUnsafe">;

/** Days (China time, both included) whose periods must have items. */
export interface DayRange {
  from: string;
  to: string;
}

/**
 * Creates the items of every period holding a day of `days` for active children
 * (all of a county, or some of its children; a single date means that day), per the county's rules — only for periods
 * ending on or after the child's `since`. Idempotent: the (child, kind, period)
 * key makes a second run, or two at once, a no-op. `at` is the injected clock's
 * time, stamped as created_at.
 */
export async function ensureItems(db: Db, days: DayRange | string, at: Date, scope: { countyCode: string; childIds?: readonly string[] }): Promise<number> {
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
            AND ($9::uuid[] IS NULL OR c.id = ANY($9::uuid[]))
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
        scope.childIds ?? null,
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

/** Children who left the programme have nothing more due. */
export async function closeOpenItems(db: Pick<SqlTx, "$executeRawUnsafe">, childIds: readonly string[]): Promise<number> {
  return db.$executeRawUnsafe(`UPDATE due_items SET status = 'closed' WHERE child_id = ANY($1::uuid[]) AND status = 'open'`, childIds);
}

export interface ItemRow {
  id: string;
  childId: string;
  childName: string;
  villageCode: string;
  kind: VisitKind;
  period: string;
  dueDate: string;
  status: "open" | "done" | "closed";
  doneOn: string | null;
  responsible: { kind: "helper" | "village_director"; name: string | null; username: string | null; helperId?: string | null };
  plan: { at: string; note: string | null; by: string } | null;
}

/** 预约 in China time with its offset, as staff set it. */
const planJson = (i: string) =>
  `CASE WHEN ${i}.planned_at IS NULL THEN NULL ELSE json_build_object('at', to_char(${i}.planned_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS"+08:00"'), 'note', ${i}.plan_note, 'by', ${i}.planned_by) END`;

/**
 * Plans (预约) an open item for a time, or clears the plan (`at` null). Answers the item's child and
 * period end, or null when the item is not open (done, closed) or not the child's.
 */
export async function planItem(
  db: Pick<PrismaClient, "$queryRawUnsafe">,
  itemId: string,
  plan: { at: string | null; note: string | null; by: string },
): Promise<{ childId: string; plan: ItemRow["plan"] } | null> {
  const [row] = await db.$queryRawUnsafe<{ childId: string; plan: ItemRow["plan"] }[]>(
    `UPDATE due_items i SET planned_at = $2::timestamptz, plan_note = CASE WHEN $2::timestamptz IS NULL THEN NULL ELSE $3 END,
            planned_by = CASE WHEN $2::timestamptz IS NULL THEN NULL ELSE $4 END
      WHERE i.id = $1::uuid AND i.status = 'open'
      RETURNING i.child_id AS "childId", ${planJson("i")} AS plan`,
    itemId,
    plan.at,
    plan.note,
    plan.by,
  );
  return row ?? null;
}

/** The open item's child and last day of its period (what a plan must fall within); null when none is open. */
export async function openItem(
  db: Pick<PrismaClient, "$queryRawUnsafe">,
  itemId: string,
): Promise<{ childId: string; periodEnd: string; kind: VisitKind } | null> {
  const [row] = await db.$queryRawUnsafe<{ childId: string; periodEnd: string; kind: VisitKind }[]>(
    `SELECT child_id AS "childId", to_char(period_end, 'YYYY-MM-DD') AS "periodEnd", kind FROM due_items WHERE id = $1::uuid AND status = 'open'`,
    itemId,
  );
  return row ?? null;
}

/**
 * Due items in an org unit by view (open, due this week, overdue, done, closed), with who
 * is responsible. `helperUsername`: only the children paired with that helper (a teacher);
 * `responsibleUsername`: only the items that person answers for ("mine").
 */
export async function listItems(
  db: Pick<PrismaClient, "$queryRawUnsafe">,
  f: {
    orgUnit: string;
    status: string;
    view: string;
    today: string;
    childId: string | null;
    kind: string | null;
    helperUsername: string | null;
    responsibleUsername: string | null;
    cursor: string | null;
    limit: number;
  },
): Promise<ItemRow[]> {
  return db.$queryRawUnsafe<ItemRow[]>(
    `SELECT i.id, c.id AS "childId", c.name AS "childName", c.village_code AS "villageCode", i.kind, i.period_key AS period,
            to_char(i.due_date, 'YYYY-MM-DD') AS "dueDate", i.status, to_char(i.done_on, 'YYYY-MM-DD') AS "doneOn",
            json_build_object('kind', CASE WHEN a.child_id IS NULL THEN 'village_director' ELSE 'helper' END,
                              'name', a.name, 'username', a.username, 'helperId', a.helper_id) AS responsible,
            ${planJson("i")} AS plan
       FROM due_items i JOIN children c ON c.id = i.child_id ${responsibleJoin("i")}
            LEFT JOIN assignments p ON p.child_id = i.child_id
      WHERE c.village_code LIKE $1 || '%' AND i.status = $2
        AND ($3::text <> 'due_this_week' OR i.due_date BETWEEN $4::date AND $4::date + 6)
        AND ($3::text <> 'overdue' OR i.due_date < $4::date)
        AND ($5::uuid IS NULL OR i.child_id = $5::uuid)
        AND ($6::text IS NULL OR i.kind = $6)
        AND ($7::text IS NULL OR p.username = $7)
        AND ($10::text IS NULL OR a.username = $10)
        AND ($8::uuid IS NULL OR i.id > $8::uuid)
      ORDER BY i.id LIMIT $9`,
    f.orgUnit,
    f.status,
    f.view,
    f.today,
    f.childId,
    f.kind,
    f.helperUsername,
    f.cursor,
    f.limit,
    f.responsibleUsername,
  );
}

export interface ItemSummaryRow {
  key: string;
  name: string;
  due: number;
  onTime: number;
  late: number;
  missed: number;
  open: number;
  dueThisWeek: number;
}

/** Due, on time, late, missed, open and due-this-week counts per village, township or helper. */
export async function itemSummary(
  db: Pick<PrismaClient, "$queryRawUnsafe">,
  f: { groupBy: "village" | "township" | "helper"; orgUnit: string; from: string; to: string; today: string; helperUsername: string | null },
): Promise<ItemSummaryRow[]> {
  // Helpers by id (two 王老师 are two people); items nobody is paired for belong to each village's child director.
  const [group, label] = {
    village: ["c.village_code", "COALESCE(max(v.name), c.village_code)"],
    township: ["c.township_code", "COALESCE(max(t.name), c.township_code)"],
    helper: [
      "COALESCE(a.helper_id::text, 'village_director:' || c.village_code)",
      "COALESCE(max(a.name), '村儿童主任（' || COALESCE(max(v.name), max(c.village_code)) || '）')",
    ],
  }[f.groupBy];
  return db.$queryRawUnsafe<ItemSummaryRow[]>(
    `SELECT ${group} AS key, ${label} AS name,
            count(*) FILTER (WHERE i.due_date BETWEEN $2::date AND $3::date)::int AS due,
            count(*) FILTER (WHERE i.due_date BETWEEN $2::date AND $3::date AND i.status = 'done' AND i.done_on <= i.due_date)::int AS "onTime",
            count(*) FILTER (WHERE i.due_date BETWEEN $2::date AND $3::date AND i.status = 'done' AND i.done_on > i.due_date)::int AS late,
            count(*) FILTER (WHERE i.due_date BETWEEN $2::date AND $3::date AND i.status = 'open' AND i.due_date < $4::date)::int AS missed,
            count(*) FILTER (WHERE i.status = 'open' AND i.due_date < $4::date)::int AS open,
            count(*) FILTER (WHERE i.status = 'open' AND i.due_date BETWEEN $4::date AND $4::date + 6)::int AS "dueThisWeek"
       FROM due_items i JOIN children c ON c.id = i.child_id ${responsibleJoin("i")}
            LEFT JOIN assignments p ON p.child_id = i.child_id
            LEFT JOIN org_units v ON v.code = c.village_code LEFT JOIN org_units t ON t.code = c.township_code
      WHERE c.village_code LIKE $1 || '%' AND i.status <> 'closed' AND ($5::text IS NULL OR p.username = $5)
      GROUP BY 1 ORDER BY 1`,
    f.orgUnit,
    f.from,
    f.to,
    f.today,
    f.helperUsername,
  );
}
