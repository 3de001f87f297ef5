import type { SqlTx } from "@shouhu/messaging";
import { VisitRule, seedCalendar, seedRules, type SemesterCalendar } from "../domain/rhythm.js";
import type { Tx } from "./db.js";

export interface RuleSet {
  countyCode: string;
  rules: VisitRule[];
  calendar: SemesterCalendar;
  /** False when the county has not set its own and the seed rhythm applies. */
  custom: boolean;
  updatedBy: string | null;
  updatedAt: Date | null;
}

type Db = Pick<SqlTx, "$queryRawUnsafe">;

export async function ruleSetFor(db: Db, countyCode: string): Promise<RuleSet> {
  const [row] = await db.$queryRawUnsafe<{ rules: VisitRule[]; calendar: SemesterCalendar; updatedBy: string; updatedAt: Date }[]>(
    `SELECT rules, calendar, updated_by AS "updatedBy", updated_at AS "updatedAt" FROM rule_sets WHERE county_code = $1`,
    countyCode,
  );
  return row
    ? // Parsed again so rules stored before a field existed get its default (responsible: mentor).
      { countyCode, rules: row.rules.map((r) => VisitRule.parse(r)), calendar: row.calendar, custom: true, updatedBy: row.updatedBy, updatedAt: row.updatedAt }
    : { countyCode, rules: seedRules, calendar: seedCalendar, custom: false, updatedBy: null, updatedAt: null };
}

export async function saveRuleSet(
  db: Pick<Tx, "$executeRawUnsafe">,
  countyCode: string,
  rules: VisitRule[],
  calendar: SemesterCalendar,
  by: string,
  at: Date,
): Promise<void> {
  await db.$executeRawUnsafe(
    `INSERT INTO rule_sets (county_code, rules, calendar, updated_at, updated_by) VALUES ($1, $2::jsonb, $3::jsonb, $5, $4)
     ON CONFLICT (county_code) DO UPDATE SET rules = EXCLUDED.rules, calendar = EXCLUDED.calendar, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
    countyCode,
    JSON.stringify(rules),
    JSON.stringify(calendar),
    by,
    at,
  );
}
