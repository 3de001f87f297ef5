import type { OrgUnitLevel } from "@shouhu/contracts";

/** Level of an administrative-division code by its length (6 / 9 / 12 digits). */
export function levelOf(code: string): OrgUnitLevel {
  if (code.length === 6) return "county";
  if (code.length === 9) return "township";
  return "village";
}

export const countyOf = (code: string): string => code.slice(0, 6);
export const townshipOf = (code: string): string => code.slice(0, 9);
