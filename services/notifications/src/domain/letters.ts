import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { smsReceiptSignature } from "@shouhu/cn/aliyun";
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

/** A link's code: 128 random bits, base64url (22 characters; plain path characters for the gateway's public check). */
export function newLinkCode(): string {
  return randomBytes(16).toString("base64url");
}

/** What is stored of a code: its SHA-256 (a leaked table opens no letter). */
export function hashLinkCode(code: string): string {
  return createHash("sha256").update(code).digest("hex");
}

export const LINK_CODE = /^[A-Za-z0-9_-]{22}$/;

/** A receipt's signature and timestamp (unix seconds, within `skewSeconds` of now): both or refused. */
export function receiptSignatureProblem(
  secret: string,
  timestamp: string | undefined,
  signature: string | undefined,
  body: string,
  now: Date,
  skewSeconds = 300,
): string | null {
  if (!secret) return "未配置回执密钥";
  if (!timestamp || !/^\d{9,11}$/.test(timestamp)) return "缺少或无效的时间戳";
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > skewSeconds) return "时间戳已过期";
  if (!signature || !/^[0-9a-f]{64}$/i.test(signature)) return "缺少签名";
  const expected = Buffer.from(smsReceiptSignature(secret, timestamp, body), "hex");
  return timingSafeEqual(expected, Buffer.from(signature.toLowerCase(), "hex")) ? null : "签名不匹配";
}

/** A class as staff read it: 三年级2班. */
export const classLabel = (grade: string | null, className: string | null) => [grade, className].filter(Boolean).join("") || null;
