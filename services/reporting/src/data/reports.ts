import { orgLevel } from "@shouhu/contracts";
import type { Tx } from "./db.js";

type Db = Pick<Tx, "$queryRawUnsafe">;

export interface Figures {
  code: string;
  name: string;
  /** Active children, and by left-behind type, risk level and difficulty category. */
  children: number;
  exited: number;
  byType: Record<string, number>;
  byRisk: Record<string, number>;
  byCategory: Record<string, number>;
  /**
   * The full cross of the child dimensions, exited children included: keys
   * `status|leftBehindType|riskLevel` (children) and `status|category|leftBehindType|riskLevel`
   * (difficulty categories; a child in two categories is in both).
   */
  breakdown: { children: Record<string, number>; categories: Record<string, number> };
  /** Active mentor pairings, and mentored / active children. */
  mentored: number;
  mentorCoverage: number | null;
  peerBuddies: number;
  visits: { month: string; records: number; due: number; onTime: number; late: number; missed: number; punctuality: number | null };
  checkups: { year: string; examined: number; coverage: number | null; flags: Record<string, number> };
  /** Open concerns; `age` (how long open, by the clock) only where a report adds it (overview, drill-down). */
  concerns: { open: number; escalated: number; age?: ConcernAge };
}

interface ConcernAge {
  upTo7Days: number;
  upTo30Days: number;
  over30Days: number;
  oldestDays: number | null;
}

function emptyFigures(code: string, name: string, month: string): Figures {
  return {
    code,
    name,
    children: 0,
    exited: 0,
    byType: {},
    byRisk: {},
    byCategory: {},
    breakdown: { children: {}, categories: {} },
    mentored: 0,
    mentorCoverage: null,
    peerBuddies: 0,
    visits: { month, records: 0, due: 0, onTime: 0, late: 0, missed: 0, punctuality: null },
    checkups: { year: month.slice(0, 4), examined: 0, coverage: null, flags: {} },
    concerns: { open: 0, escalated: 0 },
  };
}

const add = (map: Record<string, number>, key: string, n: number) => (map[key] = (map[key] ?? 0) + n);
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : null);

/** Derived figures (coverage, punctuality) once the counts are in. */
function finish(f: Figures): Figures {
  f.mentorCoverage = ratio(f.mentored, f.children);
  f.checkups.coverage = ratio(f.checkups.examined, f.children);
  f.visits.punctuality = ratio(f.visits.onTime, f.visits.onTime + f.visits.late + f.visits.missed);
  return f;
}

/** Adds one counter row to a unit's figures (counters and the raw query produce the same rows). */
function apply(f: Figures, metric: string, dims: string, n: number): void {
  const parts = dims.split("|");
  switch (metric) {
    case "children": {
      const [status, type, risk] = parts as [string, string, string];
      add(f.breakdown.children, `${status}|${type}|${risk}`, n);
      if (status !== "active") {
        f.exited += n;
        return;
      }
      f.children += n;
      add(f.byType, type, n);
      add(f.byRisk, risk, n);
      return;
    }
    case "category":
      add(f.breakdown.categories, dims, n);
      if (parts[0] === "active") add(f.byCategory, parts[1]!, n);
      return;
    case "pairing":
      if (dims === "mentor") f.mentored += n;
      else f.peerBuddies += n;
      return;
    case "item": {
      const [period, bucket] = parts as [string, string];
      if (period !== f.visits.month || bucket === "closed") return;
      f.visits.due += n;
      if (bucket === "on_time") f.visits.onTime += n;
      else if (bucket === "late") f.visits.late += n;
      else if (bucket === "missed" || bucket === "escalated") f.visits.missed += n;
      return;
    }
    case "record":
      if (dims === f.visits.month) f.visits.records += n;
      return;
    case "examined":
      if (dims === f.checkups.year) f.checkups.examined += n;
      return;
    case "flag":
      if (parts[0] === f.checkups.year) add(f.checkups.flags, parts[1]!, n);
      return;
    case "concern":
      if (dims === "open") f.concerns.open += n;
      else if (dims === "escalated_open") f.concerns.escalated += n;
      return;
  }
}

export interface FigureQuery {
  /** Org unit whose units are reported (a county's townships, a township's villages). */
  orgUnit: string;
  /** Length of the unit code each row is for: 9 (townships) or 12 (villages). */
  unitLength: 6 | 9 | 12;
  /** YYYY-MM: visits of this month, check-ups of its year. */
  month: string;
}

async function names(db: Db, codes: string[]): Promise<Map<string, string>> {
  const rows = await db.$queryRawUnsafe<{ code: string; name: string }[]>(`SELECT code, name FROM org_units WHERE code = ANY($1::text[])`, codes);
  return new Map(rows.map((r) => [r.code, r.name]));
}

async function build(db: Db, q: FigureQuery, rows: { unit: string; metric: string; dims: string; n: number }[]): Promise<Figures[]> {
  const byUnit = new Map<string, Figures>();
  const known = await names(db, [...new Set(rows.map((r) => r.unit))]);
  for (const r of rows) {
    let f = byUnit.get(r.unit);
    if (!f) byUnit.set(r.unit, (f = emptyFigures(r.unit, known.get(r.unit) ?? r.unit, q.month)));
    apply(f, r.metric, r.dims, r.n);
  }
  return [...byUnit.values()].sort((a, b) => a.code.localeCompare(b.code)).map(finish);
}

/** The report from the counters: a few hundred rows whatever the county's size. */
export async function figuresFromCounters(db: Db, q: FigureQuery): Promise<Figures[]> {
  const rows = await db.$queryRawUnsafe<{ unit: string; metric: string; dims: string; n: number }[]>(
    `SELECT substr(village_code, 1, $2) AS unit, metric, dims, sum(n)::int AS n
       FROM counters WHERE village_code LIKE $1 || '%' AND n <> 0
      GROUP BY 1, 2, 3`,
    q.orgUnit,
    q.unitLength,
  );
  return build(db, q, rows);
}

/**
 * The same numbers by plain aggregates over the row projections: the baseline in
 * the benchmark, and in tests the proof that the counters equal the rows.
 */
export async function figuresFromRows(db: Db, q: FigureQuery): Promise<Figures[]> {
  const rows = await db.$queryRawUnsafe<{ unit: string; metric: string; dims: string; n: number }[]>(
    `WITH scoped AS (SELECT $1::text AS prefix, $2::int AS len)
     SELECT substr(village_code, 1, (SELECT len FROM scoped)) AS unit, 'children' AS metric,
            status || '|' || left_behind_type || '|' || risk_level || '|' || school_id AS dims, count(*)::int AS n
       FROM children WHERE village_code LIKE (SELECT prefix FROM scoped) || '%' GROUP BY 1, 3
     UNION ALL
     SELECT substr(village_code, 1, (SELECT len FROM scoped)), 'category', status || '|' || cat || '|' || left_behind_type || '|' || risk_level, count(*)::int
       FROM children, unnest(categories) AS cat WHERE village_code LIKE (SELECT prefix FROM scoped) || '%' GROUP BY 1, 3
     UNION ALL
     SELECT substr(village_code, 1, (SELECT len FROM scoped)), 'pairing', kind, count(*)::int
       FROM pairings WHERE state = 'active' AND village_code LIKE (SELECT prefix FROM scoped) || '%' GROUP BY 1, 3
     UNION ALL
     SELECT substr(village_code, 1, (SELECT len FROM scoped)), 'item', period || '|' || bucket, count(*)::int
       FROM visit_items WHERE village_code LIKE (SELECT prefix FROM scoped) || '%' GROUP BY 1, 3
     UNION ALL
     SELECT substr(village_code, 1, (SELECT len FROM scoped)), 'record', to_char(date, 'YYYY-MM'), count(*)::int
       FROM visit_records WHERE village_code LIKE (SELECT prefix FROM scoped) || '%' GROUP BY 1, 3
     UNION ALL
     SELECT substr(village_code, 1, (SELECT len FROM scoped)), 'concern', 'open', count(*)::int
       FROM concerns WHERE resolved_at IS NULL AND village_code LIKE (SELECT prefix FROM scoped) || '%' GROUP BY 1
     UNION ALL
     SELECT substr(village_code, 1, (SELECT len FROM scoped)), 'concern', 'escalated_open', count(*)::int
       FROM concerns WHERE resolved_at IS NULL AND escalated AND village_code LIKE (SELECT prefix FROM scoped) || '%' GROUP BY 1
     UNION ALL
     SELECT substr(c.village_code, 1, (SELECT len FROM scoped)), 'examined', to_char(k.date, 'YYYY'), count(DISTINCT c.id)::int
       FROM checkups k JOIN children c ON c.id = k.child_id
      WHERE c.status = 'active' AND c.village_code LIKE (SELECT prefix FROM scoped) || '%'
      GROUP BY 1, 3
     UNION ALL
     SELECT substr(village_code, 1, (SELECT len FROM scoped)), 'flag', to_char(date, 'YYYY') || '|' || flag, count(*)::int
       FROM (SELECT DISTINCT id, village_code, date, unnest(flags) AS flag FROM checkups WHERE village_code LIKE (SELECT prefix FROM scoped) || '%') f
      GROUP BY 1, 3`,
    q.orgUnit,
    q.unitLength,
  );
  return build(db, q, rows);
}

/** A totals row: the sum of the units, with its own coverage and punctuality. */
export function totals(units: Figures[], code: string, name: string, month: string): Figures {
  const t = emptyFigures(code, name, month);
  for (const f of units) {
    t.children += f.children;
    t.exited += f.exited;
    for (const [k, v] of Object.entries(f.byType)) add(t.byType, k, v);
    for (const [k, v] of Object.entries(f.byRisk)) add(t.byRisk, k, v);
    for (const [k, v] of Object.entries(f.byCategory)) add(t.byCategory, k, v);
    for (const [k, v] of Object.entries(f.breakdown.children)) add(t.breakdown.children, k, v);
    for (const [k, v] of Object.entries(f.breakdown.categories)) add(t.breakdown.categories, k, v);
    t.mentored += f.mentored;
    t.peerBuddies += f.peerBuddies;
    t.visits.records += f.visits.records;
    t.visits.due += f.visits.due;
    t.visits.onTime += f.visits.onTime;
    t.visits.late += f.visits.late;
    t.visits.missed += f.visits.missed;
    t.checkups.examined += f.checkups.examined;
    for (const [k, v] of Object.entries(f.checkups.flags)) add(t.checkups.flags, k, v);
    t.concerns.open += f.concerns.open;
    t.concerns.escalated += f.concerns.escalated;
    if (f.concerns.age) {
      const a = (t.concerns.age ??= { upTo7Days: 0, upTo30Days: 0, over30Days: 0, oldestDays: null });
      a.upTo7Days += f.concerns.age.upTo7Days;
      a.upTo30Days += f.concerns.age.upTo30Days;
      a.over30Days += f.concerns.age.over30Days;
      if (f.concerns.age.oldestDays !== null) a.oldestDays = Math.max(a.oldestDays ?? 0, f.concerns.age.oldestDays);
    }
  }
  return finish(t);
}

export async function orgUnitName(db: Db, code: string): Promise<string> {
  return (await names(db, [code])).get(code) ?? code;
}

/**
 * How long each unit's open concerns have been open, in whole days at `now`:
 * up to 7 days, 8–30, over 30, and the oldest. From the concern rows (open cases
 * are few), since age moves with the clock and no counter can hold it.
 */
export async function addConcernAges(db: Db, units: Figures[], orgUnit: string, unitLength: number, now: Date): Promise<void> {
  const rows = await db.$queryRawUnsafe<{ unit: string; days: number }[]>(
    `SELECT substr(village_code, 1, $2) AS unit, floor(extract(epoch FROM ($3::timestamptz - raised_at)) / 86400)::int AS days
       FROM concerns WHERE resolved_at IS NULL AND raised_at IS NOT NULL AND village_code LIKE $1 || '%'`,
    orgUnit,
    unitLength,
    now,
  );
  for (const f of units) f.concerns.age = { upTo7Days: 0, upTo30Days: 0, over30Days: 0, oldestDays: null };
  for (const r of rows) {
    const age = units.find((f) => f.code === r.unit)?.concerns.age;
    if (!age) continue;
    if (r.days <= 7) age.upTo7Days++;
    else if (r.days <= 30) age.upTo30Days++;
    else age.over30Days++;
    age.oldestDays = Math.max(age.oldestDays ?? 0, r.days);
  }
}

/**
 * The overview as served: a row per unit one level down (county → townships,
 * township → villages, a village → itself) from the counters, open-concern ages
 * from the rows, and the totals row (合计).
 */
export async function overviewReport(db: Db, orgUnit: string, month: string, now: Date) {
  const unitLength = orgLevel(orgUnit) === "county" ? 9 : 12;
  const rows = await figuresFromCounters(db, { orgUnit, unitLength, month });
  await addConcernAges(db, rows, orgUnit, unitLength, now);
  return { orgUnit, name: await orgUnitName(db, orgUnit), month, rows, total: totals(rows, orgUnit, "合计", month) };
}

/** Monthly trend over the last `months` months ending with `month`: records, punctuality, concerns raised. */
export async function trend(db: Db, orgUnit: string, month: string, months: number) {
  const list: string[] = [];
  const [y, m] = month.split("-").map(Number) as [number, number];
  for (let i = months - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(y, m - 1 - i, 1));
    list.push(d.toISOString().slice(0, 7));
  }
  const counters = await db.$queryRawUnsafe<{ metric: string; dims: string; n: number }[]>(
    `SELECT metric, dims, sum(n)::int AS n FROM counters WHERE village_code LIKE $1 || '%' AND metric IN ('record', 'item') GROUP BY 1, 2`,
    orgUnit,
  );
  const raised = await db.$queryRawUnsafe<{ month: string; n: number }[]>(
    `SELECT to_char(raised_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month, count(*)::int AS n FROM concerns
      WHERE village_code LIKE $1 || '%' AND raised_at IS NOT NULL GROUP BY 1`,
    orgUnit,
  );
  return list.map((mm) => {
    const f = emptyFigures(orgUnit, orgUnit, mm);
    for (const c of counters) apply(f, c.metric, c.dims, c.n);
    finish(f);
    return {
      month: mm,
      visitRecords: f.visits.records,
      itemsDue: f.visits.due,
      onTime: f.visits.onTime,
      late: f.visits.late,
      missed: f.visits.missed,
      punctuality: f.visits.punctuality,
      concernsRaised: raised.find((r) => r.month === mm)?.n ?? 0,
    };
  });
}

/** What a supervisor checks in one township: who is unpaired, overdue, unexamined, and which concerns are open. */
export async function supervision(db: Db, township: string, year: string, now: Date) {
  const unpaired = await db.$queryRawUnsafe<{ id: string; name: string; villageCode: string; riskLevel: string; leftBehindType: string }[]>(
    `SELECT c.id, c.name, c.village_code AS "villageCode", c.risk_level AS "riskLevel", c.left_behind_type AS "leftBehindType"
       FROM children c WHERE c.status = 'active' AND c.village_code LIKE $1 || '%'
        AND NOT EXISTS (SELECT 1 FROM pairings p WHERE p.child_id = c.id AND p.kind = 'mentor' AND p.state = 'active')
      ORDER BY c.village_code, c.name`,
    township,
  );
  const overdue = await db.$queryRawUnsafe<
    { childId: string; name: string; villageCode: string; kind: string; period: string; dueDate: string | null; escalated: boolean }[]
  >(
    `SELECT i.child_id AS "childId", c.name, i.village_code AS "villageCode", i.kind, i.period, to_char(i.due_date, 'YYYY-MM-DD') AS "dueDate",
            i.bucket = 'escalated' AS escalated
       FROM visit_items i JOIN children c ON c.id = i.child_id
      WHERE i.bucket IN ('missed', 'escalated') AND c.status = 'active' AND i.village_code LIKE $1 || '%'
      ORDER BY i.due_date NULLS LAST, c.name`,
    township,
  );
  const unexamined = await db.$queryRawUnsafe<{ id: string; name: string; villageCode: string }[]>(
    `SELECT c.id, c.name, c.village_code AS "villageCode" FROM children c
      WHERE c.status = 'active' AND c.village_code LIKE $1 || '%'
        AND NOT EXISTS (SELECT 1 FROM checkups k WHERE k.child_id = c.id AND to_char(k.date, 'YYYY') = $2)
      ORDER BY c.village_code, c.name`,
    township,
    year,
  );
  const concerns = await db.$queryRawUnsafe<
    { id: string; childId: string; childName: string; villageCode: string; category: string; raisedAt: Date | null; escalated: boolean }[]
  >(
    `SELECT id, child_id AS "childId", child_name AS "childName", village_code AS "villageCode", category, raised_at AS "raisedAt", escalated
       FROM concerns WHERE resolved_at IS NULL AND village_code LIKE $1 || '%' ORDER BY raised_at NULLS LAST`,
    township,
  );
  return {
    unpaired,
    overdue,
    unexamined,
    openConcerns: concerns.map((c) => ({ ...c, ageDays: c.raisedAt ? Math.floor((now.getTime() - c.raisedAt.getTime()) / 86_400_000) : null })),
  };
}

/** Deliveries and failures per day and channel, newest first (notification.delivered / failed). */
export async function notificationStats(db: Db, from: string, to: string) {
  return db.$queryRawUnsafe<{ day: string; channel: string; delivered: number; failed: number }[]>(
    `SELECT to_char(day, 'YYYY-MM-DD') AS day, channel, delivered, failed FROM notification_stats
      WHERE day BETWEEN $1::date AND $2::date ORDER BY day DESC, channel`,
    from,
    to,
  );
}

/** The `months` months ending with `month` (YYYY-MM): first day, and the day after the last (exclusive). */
function monthWindow(month: string, months: number): { from: string; end: string } {
  const to = new Date(`${month}-01T00:00:00Z`);
  const from = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth() - months + 1, 1));
  const end = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth() + 1, 1));
  return { from: from.toISOString().slice(0, 10), end: end.toISOString().slice(0, 10) };
}

/** Activities at children's homes per township, kind and month (the last `months` months up to `month`), within `orgUnit`. */
export async function activityCounts(db: Db, orgUnit: string, month: string, months: number) {
  const { from, end } = monthWindow(month, months);
  const rows = await db.$queryRawUnsafe<
    { townshipCode: string; townshipName: string | null; kind: string; month: string; sessions: number; attendances: number }[]
  >(
    `SELECT a.township_code AS "townshipCode", o.name AS "townshipName", a.kind, to_char(a.date, 'YYYY-MM') AS month,
            count(*)::int AS sessions, sum(a.attendance)::int AS attendances
       FROM activities a LEFT JOIN org_units o ON o.code = a.township_code
      WHERE a.org_unit LIKE $1 || '%' AND a.date >= $2::date AND a.date < $3::date
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 4, 3`,
    orgUnit,
    from,
    end,
  );
  return { orgUnit, from: from.slice(0, 7), to: month, rows };
}

/**
 * 亲情电话 per township and month: calls that got through (records made before "connected" was asked count as
 * through), attempts not answered, minutes, children reached; and the month's call items — due (not closed)
 * and done (on time or late) — so the rate of children who spoke with their parents shows beside the count.
 */
export async function parentCallCounts(db: Db, orgUnit: string, month: string, months: number) {
  const { from, end } = monthWindow(month, months);
  const rows = await db.$queryRawUnsafe<
    {
      townshipCode: string;
      townshipName: string | null;
      month: string;
      connected: number;
      attempts: number;
      minutes: number;
      childrenReached: number;
      due: number;
      done: number;
    }[]
  >(
    `WITH r AS (
       SELECT left(village_code, 9) AS t, to_char(date, 'YYYY-MM') AS month,
              count(*) FILTER (WHERE call_connected IS DISTINCT FROM false) AS connected, count(*) FILTER (WHERE call_connected = false) AS attempts,
              COALESCE(sum(call_minutes) FILTER (WHERE call_connected), 0) AS minutes,
              count(DISTINCT child_id) FILTER (WHERE call_connected IS DISTINCT FROM false) AS children
         FROM visit_records WHERE kind = 'parent_call' AND village_code LIKE $1 || '%' AND date >= $2::date AND date < $3::date GROUP BY 1, 2),
     i AS (
       SELECT left(village_code, 9) AS t, period AS month, count(*) FILTER (WHERE bucket <> 'closed') AS due,
              count(*) FILTER (WHERE bucket IN ('on_time', 'late')) AS done
         FROM visit_items WHERE kind = 'parent_call' AND village_code LIKE $1 || '%' AND period >= $4 AND period <= $5 GROUP BY 1, 2)
     SELECT COALESCE(r.t, i.t) AS "townshipCode", o.name AS "townshipName", COALESCE(r.month, i.month) AS month,
            COALESCE(r.connected, 0)::int AS connected, COALESCE(r.attempts, 0)::int AS attempts, COALESCE(r.minutes, 0)::int AS minutes,
            COALESCE(r.children, 0)::int AS "childrenReached", COALESCE(i.due, 0)::int AS due, COALESCE(i.done, 0)::int AS done
       FROM r FULL JOIN i ON i.t = r.t AND i.month = r.month LEFT JOIN org_units o ON o.code = COALESCE(r.t, i.t)
      ORDER BY 1, 3`,
    orgUnit,
    from,
    end,
    from.slice(0, 7),
    month,
  );
  return { orgUnit, from: from.slice(0, 7), to: month, rows };
}

export interface EnrolmentFigures {
  schoolAge: number;
  enrolled: number;
  suspended: number;
  droppedOut: number;
  transferredOut: number;
  /** School-age children whose enrolment nobody has recorded this semester (未在任何学校名单中). */
  unlisted: number;
  /** 在读 ÷ school-age children archived, or null when there are none. */
  rate: number | null;
}

type EnrolmentRow = { key: string; name: string | null } & Omit<EnrolmentFigures, "rate">;

const withRate = <T extends Omit<EnrolmentFigures, "rate">>(r: T): T & { rate: number | null } => ({
  ...r,
  rate: r.schoolAge > 0 ? Math.round((r.enrolled / r.schoolAge) * 1000) / 1000 : null,
});

/**
 * 控辍保学: the enrolment rate of a semester — active children of school age (born in (`after`, `onOrBefore`]:
 * 6–15 at the semester's start) in the area, by their status that semester — per sub-unit (township under a
 * county, village under a township) and per school (where the child is listed, else the register's school).
 */
export async function enrolmentRate(db: Db, orgUnit: string, semester: string, ages: { onOrBefore: string; after: string }) {
  const unitLength = orgUnit.length === 6 ? 9 : 12;
  const figures = `count(*)::int AS "schoolAge",
      count(*) FILTER (WHERE e.status = 'enrolled')::int AS enrolled,
      count(*) FILTER (WHERE e.status = 'suspended')::int AS suspended,
      count(*) FILTER (WHERE e.status = 'dropped_out')::int AS "droppedOut",
      count(*) FILTER (WHERE e.status = 'transferred_out')::int AS "transferredOut",
      count(*) FILTER (WHERE e.status IS NULL)::int AS unlisted`;
  const kids = `FROM children c LEFT JOIN enrolments e ON e.child_id = c.id AND e.semester = $2
      WHERE c.village_code LIKE $1 || '%' AND c.status = 'active' AND c.birth_date <= $3::date AND c.birth_date > $4::date`;
  const args = [orgUnit, semester, ages.onOrBefore, ages.after] as const;
  const units = await db.$queryRawUnsafe<EnrolmentRow[]>(
    `SELECT k.key, o.name, k."schoolAge", k.enrolled, k.suspended, k."droppedOut", k."transferredOut", k.unlisted
       FROM (SELECT substr(c.village_code, 1, ${unitLength}) AS key, ${figures} ${kids} GROUP BY 1) k
       LEFT JOIN org_units o ON o.code = k.key ORDER BY k.key`,
    ...args,
  );
  const schools = await db.$queryRawUnsafe<EnrolmentRow[]>(
    `SELECT k.key, COALESCE(s.name, k.listed) AS name, k."schoolAge", k.enrolled, k.suspended, k."droppedOut", k."transferredOut", k.unlisted
       FROM (SELECT COALESCE(e.school_id, NULLIF(c.school_id, '')) AS key, max(e.school_name) AS listed, ${figures} ${kids} GROUP BY 1) k
       LEFT JOIN schools s ON s.id = k.key ORDER BY k.key NULLS LAST`,
    ...args,
  );
  const sum = (k: keyof Omit<EnrolmentFigures, "rate">) => units.reduce((n, r) => n + r[k], 0);
  const total = withRate({
    schoolAge: sum("schoolAge"),
    enrolled: sum("enrolled"),
    suspended: sum("suspended"),
    droppedOut: sum("droppedOut"),
    transferredOut: sum("transferredOut"),
    unlisted: sum("unlisted"),
  });
  return {
    units: units.map(({ key, name, ...f }) => ({ code: key, name, ...withRate(f) })),
    schools: schools.map(({ key, name, ...f }) => ({ schoolId: key, schoolName: key ? name : "未登记学校", ...withRate(f) })),
    total,
  };
}
