import type { Sex } from "@shouhu/contracts";
import { wst586 } from "./standards/wst-586-2018.js";
import { wst456 } from "./standards/wst-456-2014.js";
import { whoHemoglobin, type HbGroup } from "./standards/who-hemoglobin.js";
import { heightGroups, highNormalFloor, wst610, type HeightGroup } from "./standards/wst-610-2018.js";

export type Severity = "mild" | "moderate" | "severe";
export interface Flag {
  kind: "overweight" | "obese" | "wasting_mild" | "wasting_moderate_severe" | "stunting" | "low_vision" | "anaemia" | "dental_caries" | "elevated_bp";
  severity: Severity | null;
  /** What staff and guardians read. */
  label: string;
}

const severityLabel: Record<Severity, string> = { mild: "轻度", moderate: "中度", severe: "重度" };

/** Whole months of age on the exam date (a birthday later in the month is not yet reached). */
function ageInMonths(birthDate: string, examDate: string): number {
  const [by, bm, bd] = birthDate.split("-").map(Number) as [number, number, number];
  const [ey, em, ed] = examDate.split("-").map(Number) as [number, number, number];
  return (ey - by) * 12 + (em - bm) - (ed < bd ? 1 : 0);
}

/**
 * The standards' age band: exact age rounded down to the half year
 * (7 years 5 months → 7.0; 7 years 6 months → 7.5).
 */
export function ageBand(birthDate: string, examDate: string): number {
  const months = ageInMonths(birthDate, examDate);
  return Math.floor(months / 6) / 2;
}

/** BMI to one decimal, as the cut-offs are given (round half up). */
export function bmiOf(heightCm: number, weightKg: number): number {
  const raw = weightKg / (heightCm / 100) ** 2;
  return Math.round(raw * 10 + 1e-9) / 10;
}

function rowFor<T extends { age: number }>(rows: readonly T[], band: number): T | undefined {
  return rows.find((r) => r.age === band);
}

export type BmiResult = "normal" | "overweight" | "obese" | "wasting_mild" | "wasting_moderate_severe" | "not_applicable";

/** WS/T 586-2018 (overweight ≥, obesity ≥) and WS/T 456-2014 table B.1 (wasting ≤). */
export function evaluateBmi(sex: Sex, band: number, bmi: number): BmiResult {
  const over = rowFor(wst586[sex], band);
  const thin = rowFor(wst456.wasting[sex], band);
  if (!over && !thin) return "not_applicable";
  if (over && bmi >= over.obese) return "obese";
  if (over && bmi >= over.overweight) return "overweight";
  if (thin && bmi <= thin.moderateSevere) return "wasting_moderate_severe";
  if (thin && bmi <= thin.mild) return "wasting_mild";
  return "normal";
}

/** WS/T 456-2014 table A.1: height at or below the cut-off is stunting. */
export function evaluateStunting(sex: Sex, band: number, heightCm: number): "stunting" | "normal" | "not_applicable" {
  const row = rowFor(wst456.stunting[sex], band);
  if (!row) return "not_applicable";
  return heightCm <= row.height ? "stunting" : "normal";
}

/**
 * Five-point record (5分记录, logMAR-based): below 5.0 is reduced vision; by the
 * worse eye, 4.9 mild, 4.6–4.8 moderate, 4.5 and below severe (the grading of the
 * national school health examination and myopia-prevention guidance).
 */
export function evaluateVision(left: number | null, right: number | null): Severity | "normal" | "not_tested" {
  const eyes = [left, right].filter((v): v is number => v !== null);
  if (eyes.length === 0) return "not_tested";
  const worse = Math.min(...eyes);
  if (worse >= 5.0) return "normal";
  if (worse >= 4.9 - 1e-9) return "mild";
  if (worse >= 4.6 - 1e-9) return "moderate";
  return "severe";
}

function hemoglobinGroup(sex: Sex, ageMonths: number): HbGroup | null {
  if (ageMonths < 6) return null;
  if (ageMonths < 60) return whoHemoglobin.months6to59;
  if (ageMonths < 144) return whoHemoglobin.years5to11;
  if (ageMonths < 180) return whoHemoglobin.years12to14;
  return sex === "female" ? whoHemoglobin.female15plus : whoHemoglobin.male15plus;
}

/** WHO 2011: anaemia below the group's threshold, graded mild / moderate / severe. */
export function evaluateHemoglobin(sex: Sex, ageMonths: number, hb: number): Severity | "normal" | "not_applicable" {
  const group = hemoglobinGroup(sex, ageMonths);
  if (!group) return "not_applicable";
  if (hb >= group.normalFrom) return "normal";
  if (hb >= group.mildFrom) return "mild";
  if (hb >= group.moderateFrom) return "moderate";
  return "severe";
}

type BpResult = "normal" | "high_normal" | "elevated" | "not_applicable" | "not_tested";
export interface BpEvaluation {
  result: BpResult;
  /** What staff read: 正常 / 正常高值血压 / 血压偏高 / 不适用（…） / 未测. */
  label: string;
  /** The age, height group and P95 cut-offs used, when evaluated. */
  basis: { age: number; heightGroup: HeightGroup; systolicP95: number; diastolicP95: number } | null;
}

/** Whole years reached on the exam date (实足年龄). */
function ageInYears(birthDate: string, examDate: string): number {
  return Math.floor(ageInMonths(birthDate, examDate) / 12);
}

/**
 * WS/T 610-2018: 血压偏高 when SBP or DBP is at or above the P95 of the child's sex,
 * age and height group; 正常高值血压 when at or above 120/80 but below P95 (the
 * standard's second definition; see wst-610-2018.ts for what the table lacks).
 * Under 7 the standard does not apply.
 */
export function evaluateBloodPressure(sex: Sex, age: number, heightCm: number | null, systolic: number | null, diastolic: number | null): BpEvaluation {
  if (systolic === null && diastolic === null) return { result: "not_tested", label: "未测", basis: null };
  if (age < 7) return { result: "not_applicable", label: "不适用（WS/T 610 适用于7岁及以上）", basis: null };
  const row = wst610[sex].find((r) => r.age === age);
  if (!row) return { result: "not_applicable", label: "不适用（18岁及以上按成人标准评价）", basis: null };
  if (heightCm === null) return { result: "not_applicable", label: "不适用（须同时测量身高）", basis: null };
  let group = 0;
  for (const cut of row.heightPercentiles) if (heightCm >= cut) group++;
  const [sbp95, dbp95] = row.p95[group]!;
  const basis = { age, heightGroup: heightGroups[group]!, systolicP95: sbp95, diastolicP95: dbp95 };
  if ((systolic !== null && systolic >= sbp95) || (diastolic !== null && diastolic >= dbp95)) return { result: "elevated", label: "血压偏高", basis };
  if ((systolic !== null && systolic >= highNormalFloor.systolic) || (diastolic !== null && diastolic >= highNormalFloor.diastolic))
    return { result: "high_normal", label: "正常高值血压", basis };
  return { result: "normal", label: "正常", basis };
}

export interface ExamValues {
  sex: Sex;
  birthDate: string;
  date: string;
  heightCm: number | null;
  weightKg: number | null;
  visionLeft: number | null;
  visionRight: number | null;
  hemoglobin: number | null;
  caries: number | null;
  bpSystolic?: number | null;
  bpDiastolic?: number | null;
}

export type FlagKind = Flag["kind"];

/**
 * Everything an exam's values say, as flags, and which findings it assessed at
 * all. Values not measured say nothing: an exam without haemoglobin neither
 * finds nor clears anaemia.
 */
export function evaluateExam(e: ExamValues): { bmi: number | null; ageBand: number; flags: Flag[]; assessed: FlagKind[]; bloodPressure: BpEvaluation } {
  const flags: Flag[] = [];
  const assessed = new Set<FlagKind>();
  const band = ageBand(e.birthDate, e.date);
  let bmi: number | null = null;
  if (e.heightCm !== null && e.weightKg !== null) {
    bmi = bmiOf(e.heightCm, e.weightKg);
    const result = evaluateBmi(e.sex, band, bmi);
    if (result !== "not_applicable") {
      if (rowFor(wst586[e.sex], band)) assessed.add("overweight").add("obese");
      if (rowFor(wst456.wasting[e.sex], band)) assessed.add("wasting_mild").add("wasting_moderate_severe");
    }
    const labels: Partial<Record<BmiResult, Flag>> = {
      overweight: { kind: "overweight", severity: null, label: "超重" },
      obese: { kind: "obese", severity: null, label: "肥胖" },
      wasting_mild: { kind: "wasting_mild", severity: "mild", label: "轻度消瘦" },
      wasting_moderate_severe: { kind: "wasting_moderate_severe", severity: "moderate", label: "中重度消瘦" },
    };
    const flag = labels[result];
    if (flag) flags.push(flag);
  }
  if (e.heightCm !== null) {
    const stunting = evaluateStunting(e.sex, band, e.heightCm);
    if (stunting !== "not_applicable") assessed.add("stunting");
    if (stunting === "stunting") flags.push({ kind: "stunting", severity: null, label: "生长迟缓" });
  }
  const vision = evaluateVision(e.visionLeft, e.visionRight);
  // One eye tested says nothing about the other: only both eyes at 5.0 or better clear reduced vision.
  if (e.visionLeft !== null && e.visionRight !== null) assessed.add("low_vision");
  if (vision === "mild" || vision === "moderate" || vision === "severe")
    flags.push({ kind: "low_vision", severity: vision, label: `视力低下（${severityLabel[vision]}）` });
  if (e.hemoglobin !== null) {
    const hb = evaluateHemoglobin(e.sex, ageInMonths(e.birthDate, e.date), e.hemoglobin);
    if (hb !== "not_applicable") assessed.add("anaemia");
    if (hb === "mild" || hb === "moderate" || hb === "severe") flags.push({ kind: "anaemia", severity: hb, label: `贫血（${severityLabel[hb]}）` });
  }
  if (e.caries !== null) assessed.add("dental_caries");
  if (e.caries !== null && e.caries > 0) flags.push({ kind: "dental_caries", severity: null, label: `龋齿（${e.caries}颗）` });
  // 血压偏高 is a finding (follow-up); 正常高值 is reported with the exam but opens nothing.
  const bloodPressure = evaluateBloodPressure(e.sex, ageInYears(e.birthDate, e.date), e.heightCm, e.bpSystolic ?? null, e.bpDiastolic ?? null);
  if (bloodPressure.basis && e.bpSystolic != null && e.bpDiastolic != null) assessed.add("elevated_bp");
  if (bloodPressure.result === "elevated") flags.push({ kind: "elevated_bp", severity: null, label: "血压偏高" });
  for (const f of flags) assessed.add(f.kind);
  return { bmi, ageBand: band, flags, assessed: [...assessed], bloodPressure };
}
