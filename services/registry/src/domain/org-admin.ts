import { z } from "zod";
import { countyOf, orgLevel, townshipOf, type OrgLevel } from "@shouhu/contracts";

/** 办学类型 of the schools this system follows (compulsory education). */
export const SchoolType = z.enum(["小学", "初中", "九年一贯制"], { message: "办学类型应为 小学、初中 或 九年一贯制" });
export type SchoolType = z.infer<typeof SchoolType>;

/** 学校标识码: the 10-digit code the Ministry of Education issues to every school. */
export const SchoolCode = z.string().regex(/^\d{10}$/, { message: "学校标识码应为10位数字" });

export const LEVEL_LABEL: Record<OrgLevel, string> = { county: "县", township: "乡镇", village: "村（社区）" };

/** What staff write in a level column, to the level it means. */
const LEVEL_WORDS: [RegExp, OrgLevel][] = [
  [/^(county|县|县级|区|县级市|县（区）)$/u, "county"],
  [/^(township|乡|镇|乡镇|街道|乡级|乡镇（街道）)$/u, "township"],
  [/^(village|村|社区|居委会|村委会|村级|村（社区）|村（居）)$/u, "village"],
];

export function parseLevelWord(word: string): OrgLevel | null {
  const w = word.trim();
  return LEVEL_WORDS.find(([re]) => re.test(w))?.[1] ?? null;
}

/**
 * A code as the statistical division table writes it, to the code the system keeps: the
 * official table pads every level to 12 digits (360999000000 is the county, 360999100000 a
 * township); the system keeps 6, 9 and 12 digits. Null when it is neither.
 */
export function normaliseDivisionCode(raw: string): string | null {
  const code = raw.trim();
  if (orgLevel(code) === null) return null;
  // No village's own part is 000, nor a township's: trailing zeros are padding.
  if (orgLevel(code) === "village" && code.endsWith("000000")) return countyOf(code);
  if (orgLevel(code) === "village" && code.endsWith("000")) return townshipOf(code);
  return code;
}

/** The parent a code must have: its county for a township, its township for a village. */
export function parentCodeOf(code: string): string | null {
  const level = orgLevel(code);
  if (level === "township") return countyOf(code);
  if (level === "village") return townshipOf(code);
  return null;
}
