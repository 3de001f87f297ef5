import { z } from "zod";
import { ConcernCategory, VisitKind } from "@shouhu/contracts";
import type { FieldIssue } from "@shouhu/kit";
import { addDays } from "./rhythm.js";

const finding = z.string().trim().max(1000).nullish();

export const RecordInput = z.object({
  childId: z.uuid({ message: "儿童档案编号格式不正确" }),
  kind: VisitKind,
  date: z.iso.date("日期格式应为 YYYY-MM-DD"),
  location: z.string().trim().max(200).nullish(),
  durationMinutes: z
    .number()
    .int()
    .min(1, "时长至少1分钟")
    .max(24 * 60, "时长不超过24小时")
    .nullish(),
  findings: z.object({ livingConditions: finding, study: finding, health: finding, mood: finding, safety: finding }).strict().default({}),
  followUpNeeded: z.boolean().default(false),
  followUpNote: z.string().trim().max(1000).nullish(),
  /** A safety or abuse suspicion found on the visit: opens a concern case at once (强制报告). */
  concern: z.object({ category: ConcernCategory, description: z.string().trim().min(1, "请描述发现的情况").max(2000) }).nullish(),
});
export type RecordInput = z.output<typeof RecordInput>;

/**
 * Dates staff can vouch for: not in the future, and back-dated at most
 * `backdateDays` (a visit written up a few days later is normal; one from last
 * term is not a record, it is a guess).
 */
export function checkRecordDate(date: string, today: string, backdateDays: number): FieldIssue | null {
  if (date > today) return { field: "date", message: `走访日期不能晚于今天（${today}）` };
  const earliest = addDays(today, -backdateDays);
  if (date < earliest) return { field: "date", message: `只能补录${backdateDays}天内的走访（最早 ${earliest}）` };
  return null;
}

export function checkFollowUp(input: RecordInput): FieldIssue | null {
  return input.followUpNeeded && !input.followUpNote ? { field: "followUpNote", message: "需要跟进时请写明跟进事项" } : null;
}
