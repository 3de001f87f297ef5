import type { Tx } from "./db.js";

type Db = Pick<Tx, "$queryRawUnsafe">;

/** The figures a semester's 工作总结 reports, for an org unit (and optionally one school in it). */
export interface WorkSummaryFigures {
  children: { active: number; exited: number; byType: Record<string, number>; byCategory: Record<string, number>; byRisk: Record<string, number> };
  pairings: {
    /** Active children with an active mentor pairing now, and without one. */
    mentored: number;
    unpaired: number;
    peerBuddies: number;
    /** Distinct helpers with an active pairing now. */
    helpers: number;
    startedInTerm: number;
    endedInTerm: number;
  };
  visits: {
    records: number;
    byKind: Record<string, number>;
    childrenVisited: number;
    /** 亲情电话: calls that got through (calls recorded before this was asked count as through), attempts not answered, minutes said. */
    calls: { connected: number; attempts: number; minutes: number };
    /** Visits falling due in the semester, by how they ended (pending ones not counted). */
    due: number;
    onTime: number;
    late: number;
    missed: number;
  };
  checkups: { examined: number; flaggedChildren: number; flags: Record<string, number> };
  concerns: { raised: number; byCategory: Record<string, number>; escalated: number; resolvedInTerm: number; openNow: number };
  /**
   * Sessions at the children's homes of the area (activity.recorded), attendances (人次), homes that held
   * any, by kind; null for one school's summary (a school's home is kept by township, not by school here).
   */
  activities: { sessions: number; attendances: number; sites: number; byKind: Record<string, number> } | null;
}

const tally = (rows: { k: string; n: number }[]) => Object.fromEntries(rows.map((r) => [r.k, r.n]));

/**
 * Reads the read models for one scope and semester. The scope is the children living in `orgUnit` (by
 * their village now, as every report counts a moved child where it lives), and of `schoolId` when given;
 * every other table is joined through them. Dates are China dates.
 */
export async function workSummaryFigures(db: Db, q: { orgUnit: string; schoolId: string | null; from: string; to: string }): Promise<WorkSummaryFigures> {
  // Every statement takes the same four parameters; the unused `term` names the dates' types for those that do not use them.
  const scoped = `WITH term AS (SELECT $3::date AS first_day, $4::date AS last_day),
    scoped AS (SELECT id, status FROM children WHERE village_code LIKE $1 || '%' AND ($2::text IS NULL OR school_id = $2))`;
  const args = [q.orgUnit, q.schoolId, q.from, q.to] as const;
  const one = async <T>(sql: string) => (await db.$queryRawUnsafe<T[]>(`${scoped} ${sql}`, ...args))[0]!;
  const many = (sql: string) => db.$queryRawUnsafe<{ k: string; n: number }[]>(`${scoped} ${sql}`, ...args);

  const children = await one<{ active: number; exited: number }>(
    `SELECT count(*) FILTER (WHERE status = 'active')::int AS active, count(*) FILTER (WHERE status = 'exited')::int AS exited FROM scoped`,
  );
  const active = `c.id IN (SELECT id FROM scoped WHERE status = 'active')`;
  const byType = await many(`SELECT c.left_behind_type AS k, count(*)::int AS n FROM children c WHERE ${active} GROUP BY 1`);
  const byRisk = await many(`SELECT c.risk_level AS k, count(*)::int AS n FROM children c WHERE ${active} GROUP BY 1`);
  const byCategory = await many(`SELECT cat AS k, count(*)::int AS n FROM children c, unnest(c.categories) AS cat WHERE ${active} GROUP BY 1`);

  const pairings = await one<WorkSummaryFigures["pairings"]>(
    `SELECT
       (SELECT count(*)::int FROM scoped s WHERE s.status = 'active'
          AND EXISTS (SELECT 1 FROM pairings p WHERE p.child_id = s.id AND p.kind = 'mentor' AND p.state = 'active')) AS mentored,
       (SELECT count(*)::int FROM scoped s WHERE s.status = 'active'
          AND NOT EXISTS (SELECT 1 FROM pairings p WHERE p.child_id = s.id AND p.kind = 'mentor' AND p.state = 'active')) AS unpaired,
       (SELECT count(*)::int FROM pairings p JOIN scoped s ON s.id = p.child_id WHERE p.kind = 'peer' AND p.state = 'active') AS "peerBuddies",
       (SELECT count(DISTINCT p.helper_id)::int FROM pairings p JOIN scoped s ON s.id = p.child_id WHERE p.state = 'active') AS helpers,
       (SELECT count(*)::int FROM pairings p JOIN scoped s ON s.id = p.child_id WHERE p.started_on BETWEEN $3::date AND $4::date) AS "startedInTerm",
       (SELECT count(*)::int FROM pairings p JOIN scoped s ON s.id = p.child_id WHERE p.ended_on BETWEEN $3::date AND $4::date) AS "endedInTerm"`,
  );

  const records = await many(
    `SELECT r.kind AS k, count(*)::int AS n FROM visit_records r JOIN scoped s ON s.id = r.child_id WHERE r.date BETWEEN $3::date AND $4::date GROUP BY 1`,
  );
  const visited = await one<{ n: number }>(
    `SELECT count(DISTINCT r.child_id)::int AS n FROM visit_records r JOIN scoped s ON s.id = r.child_id WHERE r.date BETWEEN $3::date AND $4::date`,
  );
  const calls = await one<{ connected: number; attempts: number; minutes: number }>(
    `SELECT count(*) FILTER (WHERE r.call_connected IS DISTINCT FROM false)::int AS connected, count(*) FILTER (WHERE r.call_connected = false)::int AS attempts,
            COALESCE(sum(r.call_minutes) FILTER (WHERE r.call_connected), 0)::int AS minutes
       FROM visit_records r JOIN scoped s ON s.id = r.child_id WHERE r.kind = 'parent_call' AND r.date BETWEEN $3::date AND $4::date`,
  );
  const items = await one<{ onTime: number; late: number; missed: number }>(
    `SELECT count(*) FILTER (WHERE i.bucket = 'on_time')::int AS "onTime", count(*) FILTER (WHERE i.bucket = 'late')::int AS late,
            count(*) FILTER (WHERE i.bucket IN ('missed', 'escalated'))::int AS missed
       FROM visit_items i JOIN scoped s ON s.id = i.child_id WHERE i.due_date BETWEEN $3::date AND $4::date`,
  );

  const checkups = await one<{ examined: number; flaggedChildren: number }>(
    `SELECT count(DISTINCT k.child_id)::int AS examined, count(DISTINCT k.child_id) FILTER (WHERE cardinality(k.flags) > 0)::int AS "flaggedChildren"
       FROM checkups k JOIN scoped s ON s.id = k.child_id WHERE k.date BETWEEN $3::date AND $4::date`,
  );
  const flags = await many(
    `SELECT f AS k, count(DISTINCT k.child_id)::int AS n FROM checkups k JOIN scoped s ON s.id = k.child_id, unnest(k.flags) AS f
      WHERE k.date BETWEEN $3::date AND $4::date GROUP BY 1`,
  );

  const inTerm = (column: string) => `(${column} AT TIME ZONE 'Asia/Shanghai')::date BETWEEN $3::date AND $4::date`;
  const raisedByCategory = await many(
    `SELECT k.category AS k, count(*)::int AS n FROM concerns k JOIN scoped s ON s.id = k.child_id WHERE ${inTerm("k.raised_at")} GROUP BY 1`,
  );
  const concerns = await one<{ escalated: number; resolvedInTerm: number; openNow: number }>(
    `SELECT count(*) FILTER (WHERE ${inTerm("k.raised_at")} AND k.escalated)::int AS escalated,
            count(*) FILTER (WHERE ${inTerm("k.resolved_at")})::int AS "resolvedInTerm",
            count(*) FILTER (WHERE k.resolved_at IS NULL)::int AS "openNow"
       FROM concerns k JOIN scoped s ON s.id = k.child_id`,
  );

  const activities = q.schoolId
    ? null
    : await (async () => {
        const window = [q.orgUnit, q.from, q.to] as const;
        const byKind = await db.$queryRawUnsafe<{ k: string; n: number }[]>(
          `SELECT kind AS k, count(*)::int AS n FROM activities WHERE org_unit LIKE $1 || '%' AND date BETWEEN $2::date AND $3::date GROUP BY 1`,
          ...window,
        );
        const [totals] = await db.$queryRawUnsafe<{ attendances: number; sites: number }[]>(
          `SELECT COALESCE(sum(attendance), 0)::int AS attendances, count(DISTINCT site_id)::int AS sites
             FROM activities WHERE org_unit LIKE $1 || '%' AND date BETWEEN $2::date AND $3::date`,
          ...window,
        );
        return { sessions: byKind.reduce((a, r) => a + r.n, 0), ...totals!, byKind: tally(byKind) };
      })();
  const sum = (rows: { n: number }[]) => rows.reduce((a, r) => a + r.n, 0);
  return {
    children: { ...children, byType: tally(byType), byRisk: tally(byRisk), byCategory: tally(byCategory) },
    pairings,
    visits: { records: sum(records), byKind: tally(records), childrenVisited: visited.n, calls, due: items.onTime + items.late + items.missed, ...items },
    checkups: { ...checkups, flags: tally(flags) },
    concerns: { raised: sum(raisedByCategory), byCategory: tally(raisedByCategory), ...concerns },
    activities,
  };
}
