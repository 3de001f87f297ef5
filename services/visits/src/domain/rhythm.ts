import { z } from "zod";
import { VisitKind } from "@shouhu/contracts";

/** Kinds a rule can ask for; tutoring is recorded but never scheduled. */
const ScheduledKind = VisitKind.exclude(["tutoring"]);
type ScheduledKind = z.infer<typeof ScheduledKind>;

export const Frequency = z.enum(["monthly", "semester", "yearly"]);
export type Frequency = z.infer<typeof Frequency>;

/**
 * Who must make the visit: the child's paired mentor (the village child director
 * while there is none), or always the village child director (e.g. a county that
 * keeps guardian contact with the village).
 */
const Responsible = z.enum(["mentor", "village_director"]);
type Responsible = z.infer<typeof Responsible>;

export const VisitRule = z.object({
  kind: ScheduledKind,
  frequency: Frequency,
  responsible: Responsible.default("mentor"),
  /** Days after the period ends before the item counts as overdue. */
  graceDays: z.number().int().min(0).max(31),
  /** Days before the due date the responsible person is reminded (visit.due). */
  remindDaysBefore: z.number().int().min(0).max(31),
  /** Days after the due date an open item is escalated to the township supervisor. */
  escalateAfterDays: z.number().int().min(1).max(90),
});
export type VisitRule = z.output<typeof VisitRule>;

const MONTH_DAY = /^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/;
const daysInMonth = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
/** A day every year has: 02-29 would make the semester start or end on a day that does not exist three years in four. */
const monthDay = z
  .string()
  .regex(MONTH_DAY, "应为 MM-DD，如 03-01")
  // A malformed value already has the format issue; only a well-formed one can name a day that does not exist.
  .refine((v) => !MONTH_DAY.test(v) || isRealMonthDay(v), "该月没有这一天（2月按28天计）");

function isRealMonthDay(v: unknown): v is string {
  return typeof v === "string" && MONTH_DAY.test(v) && Number(v.slice(3)) <= daysInMonth[Number(v.slice(0, 2)) - 1]!;
}

/** Semesters as month-day ranges; autumn usually runs into January of the next year. */
export const SemesterCalendar = z.object({
  spring: z.object({ start: monthDay, end: monthDay }),
  autumn: z.object({ start: monthDay, end: monthDay }),
});
export type SemesterCalendar = z.infer<typeof SemesterCalendar>;

/** Days of the year (non-leap, 0-based) a semester covers; one crossing the year change wraps round. */
function semesterDays(range: { start: string; end: string }): Set<number> {
  const dayOfYear = (md: string) => daysInMonth.slice(0, Number(md.slice(0, 2)) - 1).reduce((a, b) => a + b, 0) + Number(md.slice(3)) - 1;
  const [from, to] = [dayOfYear(range.start), dayOfYear(range.end)];
  const days = new Set<number>();
  for (let d = from; ; d = (d + 1) % 365) {
    days.add(d);
    if (d === to) return days;
  }
}

export const RuleSetInput = z
  .object({ rules: z.array(VisitRule).min(1, "至少需要一条走访规则").max(20), calendar: SemesterCalendar })
  .superRefine((value, ctx) => {
    const seen = new Set<string>();
    // Refinements may see a half-valid value: nothing here may throw on it.
    (Array.isArray(value.rules) ? value.rules : []).forEach((rule, i) => {
      if (seen.has(rule.kind)) ctx.addIssue({ code: "custom", path: ["rules", i, "kind"], message: "每种走访只能有一条规则" });
      seen.add(rule.kind);
    });
    const { spring, autumn } = value.calendar ?? {};
    // Only a calendar whose four days are real can overlap (the field issues above say what is wrong otherwise).
    const days = [spring?.start, spring?.end, autumn?.start, autumn?.end];
    if (!days.every(isRealMonthDay)) return;
    const springDays = semesterDays(spring!);
    if ([...semesterDays(autumn!)].some((d) => springDays.has(d))) {
      ctx.addIssue({ code: "custom", path: ["calendar", "autumn", "start"], message: `秋季学期与春季学期（${spring.start}至${spring.end}）重叠` });
    }
  });
export type RuleSetInput = z.infer<typeof RuleSetInput>;

/**
 * The seed documents' rhythm: a home visit and a call with the parents every
 * month (每月一次家访、每月与家长通一次话); each semester a talk, a contact with
 * the guardian and a letter ("四个一次", "三个一").
 */
export const seedRules: VisitRule[] = [
  { kind: "home_visit", frequency: "monthly", responsible: "mentor", graceDays: 5, remindDaysBefore: 7, escalateAfterDays: 7 },
  { kind: "parent_call", frequency: "monthly", responsible: "mentor", graceDays: 5, remindDaysBefore: 7, escalateAfterDays: 7 },
  { kind: "talk", frequency: "semester", responsible: "mentor", graceDays: 7, remindDaysBefore: 14, escalateAfterDays: 14 },
  { kind: "guardian_contact", frequency: "semester", responsible: "mentor", graceDays: 7, remindDaysBefore: 14, escalateAfterDays: 14 },
  { kind: "letter", frequency: "semester", responsible: "mentor", graceDays: 7, remindDaysBefore: 14, escalateAfterDays: 14 },
];

export const seedCalendar: SemesterCalendar = { spring: { start: "03-01", end: "07-31" }, autumn: { start: "09-01", end: "01-31" } };

export interface Period {
  /** 2026-11 | 2026-autumn | 2026 */
  key: string;
  start: string;
  end: string;
}

/** Calendar arithmetic on ISO dates (UTC, no time of day). */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

function lastDayOfMonth(year: number, month: number): string {
  return new Date(Date.UTC(year, month, 0)).toISOString().slice(0, 10);
}

/** The period of a frequency that contains `date`; null for a semester rule in the holidays. */
export function periodOn(frequency: Frequency, date: string, calendar: SemesterCalendar): Period | null {
  const year = Number(date.slice(0, 4));
  const month = Number(date.slice(5, 7));
  if (frequency === "monthly") return { key: date.slice(0, 7), start: `${date.slice(0, 7)}-01`, end: lastDayOfMonth(year, month) };
  if (frequency === "yearly") return { key: String(year), start: `${year}-01-01`, end: `${year}-12-31` };
  for (const [name, range] of [
    ["spring", calendar.spring],
    ["autumn", calendar.autumn],
  ] as const) {
    const crosses = range.end < range.start;
    // A semester running into the next year (autumn into January) belongs to the year it starts in.
    for (const startYear of crosses ? [year, year - 1] : [year]) {
      const start = `${startYear}-${range.start}`;
      const end = `${crosses ? startYear + 1 : startYear}-${range.end}`;
      if (start <= date && date <= end) return { key: `${startYear}-${name}`, start, end: validDate(end) };
    }
  }
  return null;
}

/**
 * Every period of a frequency that holds a day between `from` and `to` (both
 * included), oldest first: what the scan must have created items for after not
 * running since `from`. Empty when `from` is after `to`.
 */
export function periodsBetween(frequency: Frequency, from: string, to: string, calendar: SemesterCalendar): Period[] {
  const periods: Period[] = [];
  for (let day = from; day <= to;) {
    const period = periodOn(frequency, day, calendar);
    // Holidays belong to no semester: step a day at a time to the next one (at most a few weeks).
    if (!period) {
      day = addDays(day, 1);
      continue;
    }
    periods.push(period);
    day = addDays(period.end, 1);
  }
  return periods;
}

/** "2027-02-29"-style ends (a calendar written without leap years in mind) become the month's last day. */
function validDate(date: string): string {
  const [y, m] = [Number(date.slice(0, 4)), Number(date.slice(5, 7))];
  const last = lastDayOfMonth(y, m);
  return date > last ? last : date;
}

export interface ItemDates {
  dueDate: string;
  remindOn: string;
  escalateOn: string;
}

/** Due the period's last day plus grace; overdue the day after; escalated `escalateAfterDays` later. */
export function itemDates(period: Period, rule: VisitRule): ItemDates {
  const dueDate = addDays(period.end, rule.graceDays);
  return { dueDate, remindOn: addDays(dueDate, -rule.remindDaysBefore), escalateOn: addDays(dueDate, rule.escalateAfterDays + 1) };
}

/**
 * A plan (预约) must be ahead — a minute's grace for a phone's clock. While the item's period runs, within it (a
 * visit planned after it would count late); once the period is over (the item overdue, a make-up visit still
 * owed), within the next 14 days.
 */
export function checkPlan(at: string, now: Date, periodEnd: string): { field: string; message: string } | null {
  const when = Date.parse(at);
  if (when < now.getTime() - 60_000) return { field: "at", message: "预约时间不能早于现在" };
  // The period's last day ends at midnight China time.
  const periodOver = Date.parse(`${addDays(periodEnd, 1)}T00:00:00+08:00`);
  if (periodOver > now.getTime()) {
    if (when >= periodOver) return { field: "at", message: `预约时间应在本期截止日（${periodEnd}）之前` };
  } else if (when > now.getTime() + 14 * 86_400_000) return { field: "at", message: "逾期事项请在14天内预约补访" };
  return null;
}
