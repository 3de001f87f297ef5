import { z } from "zod";
import type { FieldIssue } from "@shouhu/kit";

const between = (min: number, max: number, what: string, unit: string) =>
  z.number().min(min, `${what}应在${min}–${max}${unit}之间`).max(max, `${what}应在${min}–${max}${unit}之间`).nullish();
const vision = z
  .number()
  .min(3.0, "视力（5分记录）应在3.0–5.3之间")
  .max(5.3, "视力（5分记录）应在3.0–5.3之间")
  .refine((v) => Math.abs(v * 10 - Math.round(v * 10)) < 1e-9, "视力（5分记录）保留一位小数")
  .nullish();

/**
 * An exam as entered. Bounds are physical plausibility for children 3–18: a value
 * outside them is a typing error (a weight in 斤, a height in metres), not a finding.
 */
export const ExamInput = z.object({
  childId: z.uuid({ message: "儿童编号格式不正确" }),
  campaignId: z.uuid({ message: "体检活动编号格式不正确" }).nullish(),
  date: z.iso.date("日期格式应为 YYYY-MM-DD"),
  examiner: z.string().trim().min(1, "请填写检查医生").max(40),
  heightCm: between(50, 220, "身高", "厘米"),
  weightKg: between(8, 150, "体重", "千克"),
  visionLeft: vision,
  visionRight: vision,
  hemoglobin: z
    .number()
    .int("血红蛋白以g/L填写整数（如108），是否按g/dL填写了？")
    .min(30, "血红蛋白应在30–250 g/L之间")
    .max(250, "血红蛋白应在30–250 g/L之间")
    .nullish(),
  caries: z.number().int("龋齿数为整数").min(0, "龋齿数不能为负").max(32, "龋齿数不超过32颗").nullish(),
  bpSystolic: z.number().int().min(50, "收缩压应在50–250 mmHg之间").max(250, "收缩压应在50–250 mmHg之间").nullish(),
  bpDiastolic: z.number().int().min(30, "舒张压应在30–150 mmHg之间").max(150, "舒张压应在30–150 mmHg之间").nullish(),
  notes: z.string().max(1000).nullish(),
});
export type ExamInput = z.output<typeof ExamInput>;

/** The values of an exam being typed, to evaluate without storing (no examiner, no campaign). */
export const EvaluateInput = ExamInput.omit({ campaignId: true, examiner: true, notes: true });
export type EvaluateInput = z.output<typeof EvaluateInput>;

/** Checks across fields and against the child and the calendar. */
export function checkExam(input: ExamInput, ctx: { today: string; birthDate: string; campaign: { startDate: string; endDate: string } | null }): FieldIssue[] {
  const issues: FieldIssue[] = [];
  if (input.date > ctx.today) issues.push({ field: "date", message: `检查日期不能晚于今天（${ctx.today}）` });
  if (input.date < ctx.birthDate) issues.push({ field: "date", message: "检查日期早于儿童出生日期" });
  if (ctx.campaign && (input.date < ctx.campaign.startDate || input.date > ctx.campaign.endDate)) {
    issues.push({ field: "date", message: `检查日期不在本次体检活动期间（${ctx.campaign.startDate}至${ctx.campaign.endDate}）` });
  }
  if (input.bpSystolic != null && input.bpDiastolic != null && input.bpSystolic <= input.bpDiastolic) {
    issues.push({ field: "bpDiastolic", message: "舒张压应低于收缩压" });
  }
  if (input.heightCm != null && input.weightKg != null) {
    const bmi = input.weightKg / (input.heightCm / 100) ** 2;
    if (bmi < 8 || bmi > 60)
      issues.push({ field: "weightKg", message: `身高${input.heightCm}厘米、体重${input.weightKg}千克不可能同时成立，请核对（是否以斤或米填写）` });
  }
  const measured = [input.heightCm, input.weightKg, input.visionLeft, input.visionRight, input.hemoglobin, input.caries, input.bpSystolic].some(
    (v) => v != null,
  );
  if (!measured) issues.push({ field: "heightCm", message: "至少填写一项检查结果" });
  return issues;
}
