import { labels } from "../../services/labels";

/** 0–1 as a percentage with one decimal, or — when there is nothing to divide by. */
export const pct = (v: number | null | undefined) => (v == null ? "—" : `${Math.round(v * 1000) / 10}%`);

/** The check-up findings' codes as staff read them (labels in @shouhu/contracts). */
export const flagLabel = (code: string) => labels.checkupFlag[code] ?? code;
