/** Full-width digits, letters and common punctuation (１２３, Ｘ, －) to half-width. */
const fullWidth = /[\uFF01-\uFF5E\u3000]/;

export function toHalfWidth(value: string): string {
  if (!fullWidth.test(value)) return value; // the common case: nothing to convert
  return value.replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0)).replace(/\u3000/g, " ");
}

/** Names: no spaces inside (Chinese names have none; typists add them); keeps the · of minority names. */
export function normalizeName(value: string): string {
  return toHalfWidth(value)
    .replace(/\s+/g, "")
    .replace(/[.．・]/g, "·");
}

export type PhoneResult = { ok: true; phone: string } | { ok: false; reason: string };

/**
 * Mobiles become 11 digits (spaces, dashes, brackets, +86/0086 dropped);
 * landlines keep `area-number` (e.g. 0797-1234567).
 */
export function normalizePhone(raw: string): PhoneResult {
  let s = toHalfWidth(raw)
    .trim()
    .replace(/[\s()（）]/g, "");
  s = s.replace(/^(\+|00)86-?/, "");
  const digits = s.replace(/-/g, "");
  if (/^1[3-9]\d{9}$/.test(digits)) return { ok: true, phone: digits };
  if (/^86(1[3-9]\d{9})$/.test(digits)) return { ok: true, phone: digits.slice(2) };
  const landline = /^(0\d{2,3})-?(\d{7,8})$/.exec(s) ?? /^(0\d{2,3})(\d{7,8})$/.exec(digits);
  if (landline) return { ok: true, phone: `${landline[1]}-${landline[2]}` };
  return { ok: false, reason: `电话号码格式不正确：${raw}` };
}

export type DateResult = { ok: true; date: string } | { ok: false; reason: string };

function isoDate(y: number, m: number, d: number): DateResult {
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d || y < 1900 || y > 2100) {
    return { ok: false, reason: `日期无效：${y}-${m}-${d}` };
  }
  return { ok: true, date: date.toISOString().slice(0, 10) };
}

/** Excel's 1900 date system, including its fictitious 1900-02-29 (serial 60). */
export function excelSerialToIso(serial: number): DateResult {
  if (!Number.isFinite(serial) || serial < 1 || serial > 80_000) return { ok: false, reason: `日期无效：${serial}` };
  const days = Math.floor(serial) - (serial > 60 ? 1 : 0);
  const ms = Date.UTC(1899, 11, 31) + days * 86_400_000;
  return { ok: true, date: new Date(ms).toISOString().slice(0, 10) };
}

/** Dates as registers have them: Date cells, Excel serials, 2012-05-03, 2012/5/3, 2012.5.3, 2012年5月3日, 20120503. */
export function normalizeDate(raw: unknown): DateResult {
  if (raw instanceof Date) {
    if (Number.isNaN(raw.getTime())) return { ok: false, reason: "日期无效" };
    // exceljs returns dates at UTC midnight of the calendar day typed.
    return { ok: true, date: raw.toISOString().slice(0, 10) };
  }
  if (typeof raw === "number") return excelSerialToIso(raw);
  if (typeof raw !== "string") return { ok: false, reason: "日期不能为空" };
  const s = toHalfWidth(raw).replace(/\s+/g, "");
  let m = /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$/.exec(s);
  if (m) return isoDate(Number(m[1]), Number(m[2]), Number(m[3]));
  m = /^(\d{4})(\d{2})(\d{2})$/.exec(s);
  if (m) return isoDate(Number(m[1]), Number(m[2]), Number(m[3]));
  if (/^\d{5}(\.\d+)?$/.test(s)) return excelSerialToIso(Number(s));
  return { ok: false, reason: `无法识别的日期：${raw}` };
}
