import { normalizeDate, toHalfWidth } from "@shouhu/cn";
import type { FieldIssue } from "@shouhu/kit";

/**
 * Rows per upload. Results are recorded synchronously, one transaction per row (a
 * bad row never blocks the good ones); a township campaign is a few hundred to
 * two thousand children, well inside the gateway's timeout. Larger files: split
 * by village.
 */
export const MAX_RESULT_ROWS = 2000;

/** A row of the results sheet → the exam input (numbers and dates as staff type them), or the row's issues. */
export function rowToInput(values: Record<string, unknown>, campaignId: string): { input: unknown } | { issues: FieldIssue[] } {
  const issues: FieldIssue[] = [];
  const num = (v: unknown) => {
    if (v === null || v === undefined || v === "") return null;
    if (typeof v === "number") return v;
    const text = toHalfWidth(String(v)).trim();
    return text === "" ? null : Number(text);
  };
  const str = (v: unknown) => (v === null || v === undefined ? null : String(v).trim());
  let date: string | null = null;
  if (values.date === null || values.date === undefined || values.date === "") issues.push({ field: "date", message: "请填写检查日期" });
  else {
    const parsed = normalizeDate(values.date);
    if (parsed.ok) date = parsed.date;
    else issues.push({ field: "date", message: parsed.reason });
  }
  if (issues.length) return { issues };
  return {
    input: {
      childId: str(values.childId),
      campaignId,
      date,
      examiner: str(values.examiner) ?? "",
      heightCm: num(values.heightCm),
      weightKg: num(values.weightKg),
      visionLeft: num(values.visionLeft),
      visionRight: num(values.visionRight),
      hemoglobin: num(values.hemoglobin),
      caries: num(values.caries),
      bpSystolic: num(values.bpSystolic),
      bpDiastolic: num(values.bpDiastolic),
      notes: str(values.notes),
    },
  };
}
