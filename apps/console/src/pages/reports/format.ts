import { labels } from "../../services/labels";

/** 0–1 as a percentage with one decimal, or — when there is nothing to divide by. */
export const pct = (v: number | null | undefined) => (v == null ? "—" : `${Math.round(v * 1000) / 10}%`);

/** The check-up findings' codes as staff read them (labels in @shouhu/contracts). */
export const flagLabel = (code: string) => labels.checkupFlag[code] ?? code;

/**
 * School semesters as the API names them (packages/cn/src/semester.ts): `2026-2027-1` is the
 * autumn term (September to January), `2026-2027-2` the spring term with the summer (February to August).
 * The one `day` falls in first, then the `count - 1` before it.
 */
export function recentSemesters(day: string, count = 4): { value: string; label: string }[] {
  const year = Number(day.slice(0, 4));
  const month = Number(day.slice(5, 7));
  let [first, term] = month >= 9 ? [year, 1] : month === 1 ? [year - 1, 1] : [year - 1, 2];
  const out: { value: string; label: string }[] = [];
  for (let i = 0; i < count; i++) {
    out.push({ value: `${first}-${first + 1}-${term}`, label: `${first}—${first + 1}学年第${term === 1 ? "一" : "二"}学期` });
    if (term === 2) term = 1;
    else [first, term] = [first - 1, 2];
  }
  return out;
}
