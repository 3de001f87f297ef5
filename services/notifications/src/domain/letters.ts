import type { Role } from "@shouhu/contracts";

/** Who writes letters home: the county, the women's federation and a township's supervisor, within their area (teachers cannot). */
export const LETTER_SENDERS: readonly Role[] = ["county-admin", "federation-officer", "township-supervisor"];

/** The variables a letter's text may use, filled per recipient on the read page. */
export const LETTER_VARIABLES = ["儿童姓名", "监护人姓名", "学校", "班级"] as const;
export type LetterVariable = (typeof LETTER_VARIABLES)[number];

export const LETTER_CATEGORIES = ["guardian", "father", "mother"] as const;
export type LetterCategory = (typeof LETTER_CATEGORIES)[number];

/** The SMS template of a letter (a registered one: the letter's text is on the read page, the SMS carries title and link). */
export const LETTER_SMS_TEMPLATE = "letter_home";

/** How long a letter's link opens it (then 410: the letter is old news, and a link found later reads nothing). */
export const LETTER_LINK_DAYS = 90;

export interface LetterScope {
  townshipCode: string;
  schoolId?: string | null;
  grade?: string | null;
  className?: string | null;
}

/** The variables in a text that are not letter variables, e.g. {地址}: the compose form names them. */
export function unknownVariables(text: string): string[] {
  const known = new Set<string>(LETTER_VARIABLES);
  return [...new Set([...text.matchAll(/\{([^{}\s]{1,20})\}/g)].map((m) => m[1]!).filter((v) => !known.has(v)))];
}

/** A letter for one recipient: every variable filled, a missing value read as blank-free wording. */
export function renderLetter(text: string, vars: Record<LetterVariable, string | null>): string {
  return text.replace(/\{([^{}\s]{1,20})\}/g, (whole, key: string) => {
    if (!(LETTER_VARIABLES as readonly string[]).includes(key)) return whole;
    const value = vars[key as LetterVariable];
    return value && value.trim() ? value : key === "监护人姓名" ? "家长" : "";
  });
}

export const LINK_CODE = /^[A-Za-z0-9_-]{22}$/;

/** A class as staff read it: 三年级2班. */
export const classLabel = (grade: string | null, className: string | null) => [grade, className].filter(Boolean).join("") || null;
