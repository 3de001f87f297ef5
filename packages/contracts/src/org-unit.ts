import { z } from "zod";

/**
 * Org-unit codes (行政区划代码) as the system uses them: county 6 digits ⊃ township 9 ⊃
 * village/community 12, each the prefix of the ones inside it. One place for parsing,
 * levels and containment, so no route writes its own regex or `startsWith`.
 */
export type OrgLevel = "county" | "township" | "village";
const LENGTH: Record<OrgLevel, number> = { county: 6, township: 9, village: 12 };
const NAME: Record<OrgLevel, string> = { county: "6位（县）", township: "9位（乡镇）", village: "12位（村/社区）" };

/** The level of a well-formed code; null for anything else. */
export function orgLevel(code: string): OrgLevel | null {
  if (!/^\d+$/.test(code)) return null;
  return (Object.keys(LENGTH) as OrgLevel[]).find((l) => LENGTH[l] === code.length) ?? null;
}

/** A zod schema for codes of the given levels, with a zh-CN message naming them. */
export function orgUnitCode(levels: OrgLevel[] = ["county", "township", "village"], message?: string) {
  const text = message ?? `应为${levels.map((l) => NAME[l]).join("或")}行政区划代码`;
  return z.string().refine((code) => levels.includes(orgLevel(code) as OrgLevel), { message: text });
}

/** Any level. */
export const OrgUnitCode = orgUnitCode();

/** Whether `inner` lies within `outer` (a unit contains itself). An empty `outer` contains nothing. */
export function contains(outer: string, inner: string): boolean {
  return outer.length > 0 && inner.startsWith(outer);
}

/** Whether either unit lies within the other (a campaign for a township seen by its county, or by one of its villages). */
export function overlaps(a: string, b: string): boolean {
  return contains(a, b) || contains(b, a);
}

export const countyOf = (code: string): string => code.slice(0, LENGTH.county);
/** The township of a township or village code. */
export const townshipOf = (code: string): string => code.slice(0, LENGTH.township);
