import type { paths } from "../../services/schema";

/** Shapes the health service answers (services/health/src/routes; the evaluation is documented, the rest named here). */
export interface Campaign {
  id: string;
  name: string;
  orgUnits: string[];
  startDate: string;
  endDate: string;
  provider: string;
}
interface Flag {
  kind: string;
  severity: string | null;
  label: string;
}
interface ExamValues {
  id: string;
  date: string;
  examiner: string;
  heightCm: number | null;
  weightKg: number | null;
  visionLeft: number | null;
  visionRight: number | null;
  hemoglobin: number | null;
  caries: number | null;
  bpSystolic: number | null;
  bpDiastolic: number | null;
  bmi: number | null;
  flags: Flag[];
}
export interface RosterEntry {
  id: string;
  name: string;
  sex: "male" | "female";
  birthDate: string;
  villageCode: string;
  status: "done" | "due" | "missed";
  exam: ExamValues | null;
}
export interface FollowUp {
  id: string;
  childId: string;
  childName: string;
  villageCode: string;
  kind: string;
  label: string;
  ownerName: string;
  ownerRole: string;
  status: "open" | "resolved" | "referred" | "closed";
  statusLabel: string;
  createdAt: string;
  closedAt: string | null;
}
export interface Coverage {
  total: { inScope: number; examined: number; missed: number };
}
export interface ImportResult {
  rows: number;
  accepted: number;
  rejected: number;
  errors: { row: number; issues: { field: string; message: string }[] }[];
}
export type Evaluation = paths["/api/v1/exams/evaluate"]["post"]["responses"][200]["content"]["application/json"];

/** The grid's and the results sheet's measured fields, in the roster's column order (services/health/src/domain/roster.ts). */
export const MEASURES = [
  { key: "heightCm", label: "身高(cm)", width: 84 },
  { key: "weightKg", label: "体重(kg)", width: 84 },
  { key: "visionLeft", label: "左眼视力", width: 76 },
  { key: "visionRight", label: "右眼视力", width: 76 },
  { key: "hemoglobin", label: "血红蛋白(g/L)", width: 96 },
  { key: "caries", label: "龋齿数", width: 68 },
  { key: "bpSystolic", label: "收缩压", width: 72 },
  { key: "bpDiastolic", label: "舒张压", width: 72 },
] as const;
export type MeasureKey = (typeof MEASURES)[number]["key"];

/** Column names of the results sheet, for rejections read back in Chinese. */
export const FIELD_LABEL: Record<string, string> = {
  childId: "编号",
  date: "检查日期",
  examiner: "检查医生",
  notes: "备注",
  row: "整行",
  file: "文件",
  campaignId: "体检活动",
  ...Object.fromEntries(MEASURES.map((m) => [m.key, m.label])),
};
