import { ValidationError } from "@shouhu/kit";

/** Where a primary school's last grade goes: a decision on the middle school, made in the console (待分配初中). */
export const AWAITING_MIDDLE_SCHOOL = "待分配初中";

export type SchoolType = "小学" | "初中" | "九年一贯制";

const gradeNames = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "七年级", "八年级", "九年级"] as const;
const aliases: Record<string, number> = { 初一: 7, 初二: 8, 初三: 9, 初中一年级: 7, 初中二年级: 8, 初中三年级: 9 };

/** The grade as a number 1–9, from how registers write it (三年级, 3年级, 初一); null when not a grade. */
export function gradeNumber(grade: string | null | undefined): number | null {
  if (!grade) return null;
  const g = grade.replace(/\s+/g, "");
  const i = gradeNames.indexOf(g as (typeof gradeNames)[number]);
  if (i >= 0) return i + 1;
  if (aliases[g]) return aliases[g]!;
  const m = /^([1-9])年级$/.exec(g);
  return m ? Number(m[1]) : null;
}

export const gradeName = (n: number): string => gradeNames[n - 1]!;

/** The grades a school of this type teaches. */
export function gradeRange(type: SchoolType): { first: number; last: number } {
  return type === "小学" ? { first: 1, last: 6 } : type === "初中" ? { first: 7, last: 9 } : { first: 1, last: 9 };
}

export type PromotionStep =
  | { kind: "promote"; from: string; to: string }
  | { kind: "awaiting"; from: string }
  | { kind: "graduating"; from: string }
  | { kind: "unrecognised"; from: string | null };

/**
 * What year-end promotion does to one child of a school of this type: up one grade; the last
 * grade of a primary school waits for a middle school; the last grade of a middle or nine-year
 * school finishes (left as it is: the register keeps them until they leave or turn 16); a grade
 * the school does not teach or that is not a grade is left alone and counted, for staff to fix.
 */
export function promotionStep(type: SchoolType, grade: string | null): PromotionStep {
  const n = gradeNumber(grade);
  const { first, last } = gradeRange(type);
  if (n === null || n < first || n > last) return { kind: "unrecognised", from: grade };
  if (n < last) return { kind: "promote", from: gradeName(n), to: gradeName(n + 1) };
  return type === "小学" ? { kind: "awaiting", from: gradeName(n) } : { kind: "graduating", from: gradeName(n) };
}

/** "2026-2027": the school year children are promoted into; the second year follows the first. */
export function parseSchoolYear(value: unknown): string {
  if (typeof value !== "string" || value.trim() === "") throw ValidationError.field("schoolYear", "请填写学年，如 2026-2027");
  const m = /^(\d{4})-(\d{4})$/.exec(value.trim());
  if (!m) throw ValidationError.field("schoolYear", `学年格式应为“2026-2027”：${value.slice(0, 20)}`);
  const [a, b] = [Number(m[1]), Number(m[2])];
  if (b !== a + 1) throw ValidationError.field("schoolYear", `学年的两个年份应相邻：${value}`);
  if (a < 2000 || a > 2100) throw ValidationError.field("schoolYear", `学年年份不合理：${value}`);
  return `${a}-${b}`;
}

/** The school year a date falls in (a year starts on 1 September). */
export function schoolYearOf(date: string): string {
  const [y, m] = date.split("-").map(Number) as [number, number];
  return m >= 9 ? `${y}-${y + 1}` : `${y - 1}-${y}`;
}
