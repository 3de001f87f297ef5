/**
 * Org-unit codes (行政区划代码) in the console, the same rules as `@shouhu/contracts`
 * org-unit.ts (importing it would bundle zod into the app; test/org-unit-codes.test.ts keeps
 * the two equal): county 6 digits ⊃ township 9 ⊃ village 12, each the prefix of the next.
 */
export type OrgLevel = "county" | "township" | "village";
const LENGTH: Record<OrgLevel, number> = { county: 6, township: 9, village: 12 };

/** The level of a well-formed code; null for anything else. */
export function orgLevel(code: string): OrgLevel | null {
  if (!/^\d+$/.test(code)) return null;
  return (Object.keys(LENGTH) as OrgLevel[]).find((l) => LENGTH[l] === code.length) ?? null;
}

/** Whether `inner` lies within `outer` (a unit contains itself). An empty `outer` contains nothing. */
export function contains(outer: string, inner: string): boolean {
  return outer.length > 0 && inner.startsWith(outer);
}

export const countyOf = (code: string): string => code.slice(0, LENGTH.county);
/** The township of a township or village code. */
export const townshipOf = (code: string): string => code.slice(0, LENGTH.township);
