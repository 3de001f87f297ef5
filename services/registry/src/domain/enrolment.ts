import { z } from "zod";
import { EnrolmentStatus, labels } from "@shouhu/contracts";
import { bornOnOrBefore, parseSemester, type Semester } from "@shouhu/cn";
import { ValidationError } from "@shouhu/kit";

/** Compulsory education (义务教育): children 6 to 15 at the start of the semester are expected in some school's list. */
const SCHOOL_AGE = { from: 6, to: 15 } as const;

/** The semester a request names, or a 400 on `field` in words staff can act on. */
export function requireSemester(code: string, field = "semester"): Semester {
  const s = parseSemester(code);
  if (!s) throw ValidationError.field(field, `学期格式应为“2026-2027-1”（学年-第几学期，1 秋季、2 春季）：${code.slice(0, 20)}`);
  return s;
}

/** Birth dates of school-age children in a semester: born in (`after`, `onOrBefore`]. */
export function schoolAgeBirthDates(semester: Semester): { onOrBefore: string; after: string } {
  return { onOrBefore: bornOnOrBefore(semester.from, SCHOOL_AGE.from), after: bornOnOrBefore(semester.from, SCHOOL_AGE.to + 1) };
}

const STATUS_WORDS: Record<string, EnrolmentStatus> = {
  在读: "enrolled",
  在校: "enrolled",
  正常: "enrolled",
  在籍在读: "enrolled",
  休学: "suspended",
  辍学: "dropped_out",
  失学: "dropped_out",
  流失: "dropped_out",
  转学: "transferred_out",
  转出: "transferred_out",
  已转出: "transferred_out",
  已转学: "transferred_out",
};

/** A list's 就读状态 as schools write it; empty means 在读 (a school's list names the children it teaches). */
export function parseStatusWord(word: string): EnrolmentStatus | null {
  const w = word.replace(/\s/gu, "");
  if (w === "") return "enrolled";
  if ((EnrolmentStatus.options as string[]).includes(w)) return w as EnrolmentStatus;
  return STATUS_WORDS[w] ?? null;
}

export const statusLabel = (s: EnrolmentStatus): string => labels.enrolmentStatus[s];

/** One row of a school's list as the preview shows it. */
export interface ListRow {
  rowNumber: number;
  idNumber: string | null;
  name: string;
  grade: string | null;
  className: string | null;
  status: EnrolmentStatus | null;
  kind: "matched" | "name_mismatch" | "not_in_register" | "invalid";
  childId: string | null;
  /** The name the register holds, when it differs from the list's. */
  registerName: string | null;
  reasons: string[];
}

export const ROW_KIND_LABEL: Record<ListRow["kind"], string> = {
  matched: "已匹配",
  name_mismatch: "姓名不一致",
  not_in_register: "未在档案中",
  invalid: "未通过",
};

/** By hand: a child's status in a semester. */
export const SetEnrolmentBody = z.strictObject({
  semester: z.string({ message: "请选择学期" }).max(20, { message: "学期格式应为“2026-2027-1”" }),
  status: z.enum(EnrolmentStatus.options, { message: "就读状态应为 enrolled（在读）、suspended（休学）、dropped_out（辍学）或 transferred_out（转学）" }),
  schoolId: z.string().min(1, { message: "请选择学校" }).max(32, { message: "学校编号过长" }).nullish(),
  note: z.string().trim().max(500, { message: "说明不超过500字" }).nullish(),
});
export type SetEnrolmentBody = z.infer<typeof SetEnrolmentBody>;
