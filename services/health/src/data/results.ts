import { AppError, type FieldIssue } from "@shouhu/kit";
import { ExamInput } from "../domain/exam.js";
import { rowToInput } from "../domain/results-sheet.js";
import type { PrismaClient } from "./db.js";
import { recordExam, type Recorder } from "./exams.js";

/**
 * Records a results sheet row by row, each in its own transaction (a bad row never blocks the
 * good ones): the rows recorded, and each rejected row with its issues by field.
 */
export async function recordResults(
  prisma: PrismaClient,
  rows: { row: number; values: Record<string, unknown> }[],
  campaignId: string,
  recorder: Recorder,
  today: string,
): Promise<{ accepted: number; recordedFor: string[]; errors: { row: number; issues: FieldIssue[] }[] }> {
  const errors: { row: number; issues: FieldIssue[] }[] = [];
  const recordedFor: string[] = [];
  for (const { row, values } of rows) {
    const mapped = rowToInput(values, campaignId);
    if ("issues" in mapped) {
      errors.push({ row, issues: mapped.issues });
      continue;
    }
    const parsed = ExamInput.safeParse(mapped.input);
    if (!parsed.success) {
      errors.push({ row, issues: parsed.error.issues.map((i) => ({ field: i.path.join("."), message: i.message })) });
      continue;
    }
    try {
      await recordExam(prisma, parsed.data, recorder, today);
      recordedFor.push(parsed.data.childId);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      // A child not found (or outside the caller's area) is the row's 编号 that is wrong.
      const field = (err.details as { field?: string } | undefined)?.field ?? (err.statusCode === 404 ? "childId" : "row");
      const details = Array.isArray(err.details) ? (err.details as FieldIssue[]) : [{ field, message: err.message }];
      errors.push({ row, issues: details });
    }
  }
  return { accepted: recordedFor.length, recordedFor, errors };
}
