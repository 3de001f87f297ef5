/** 0–1 as a percentage with one decimal, or — when there is nothing to divide by. */
export const pct = (v: number | null | undefined) => (v == null ? "—" : `${Math.round(v * 1000) / 10}%`);

/** The check-up findings' codes (services/health/src/domain/evaluate.ts) as staff read them. */
const flags: Record<string, string> = {
  overweight: "超重",
  obese: "肥胖",
  wasting_mild: "轻度消瘦",
  wasting_moderate_severe: "中重度消瘦",
  stunting: "生长迟缓",
  low_vision: "视力低下",
  anaemia: "贫血",
  dental_caries: "龋齿",
  elevated_bp: "血压偏高",
};
export const flagLabel = (code: string) => flags[code] ?? code;
