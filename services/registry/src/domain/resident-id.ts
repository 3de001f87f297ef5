import { toHalfWidth } from "@shouhu/cn";

/** GB 11643-1999: weights of the first 17 digits and the ISO 7064 MOD 11-2 check characters. */
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECKS = "10X98765432";

export type ResidentIdResult = { ok: true; idNumber: string; birthDate: string; sex: "male" | "female" } | { ok: false; reason: string };

const EXCEL_NUMBER_REASON = "身份证号被 Excel 存为数字，末尾数字已丢失，无法恢复，请将该列设为文本后重新录入";

export function checkDigit(first17: string): string {
  const sum = [...first17].reduce((acc, d, i) => acc + Number(d) * WEIGHTS[i]!, 0);
  return CHECKS[sum % 11]!;
}

/** Trim, drop inner spaces, full-width → half-width, lower-case x → X. */
export function normalizeResidentId(raw: string): string {
  return toHalfWidth(raw).replace(/\s+/g, "").toUpperCase();
}

/**
 * Validates a resident ID number and reads birth date and sex from it. `today`
 * (yyyy-mm-dd) bounds the birth date. A value Excel turned into a number
 * (4.31102E+17) has lost its last digits and is rejected as unrecoverable.
 */
export function parseResidentId(raw: unknown, today: string): ResidentIdResult {
  if (typeof raw === "number") return { ok: false, reason: EXCEL_NUMBER_REASON };
  if (typeof raw !== "string" || raw.trim() === "") return { ok: false, reason: "身份证号不能为空" };
  const id = normalizeResidentId(raw);
  if (/^\d(\.\d+)?E\+\d+$/.test(id)) return { ok: false, reason: EXCEL_NUMBER_REASON };
  if (id.length !== 18) return { ok: false, reason: `身份证号应为18位，实际${id.length}位` };
  if (!/^\d{17}[\dX]$/.test(id)) return { ok: false, reason: "身份证号只能包含数字，末位可为X" };
  if (!/^[1-9]\d{5}$/.test(id.slice(0, 6))) return { ok: false, reason: "身份证号地区码无效" };
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d || y < 1900) {
    return { ok: false, reason: "身份证号中的出生日期无效" };
  }
  const birthDate = date.toISOString().slice(0, 10);
  if (birthDate > today) return { ok: false, reason: "身份证号中的出生日期晚于今天" };
  const expected = checkDigit(id.slice(0, 17));
  if (id[17] !== expected) return { ok: false, reason: `身份证号校验位错误，应为 ${expected}` };
  return { ok: true, idNumber: id, birthDate, sex: Number(id[16]) % 2 === 1 ? "male" : "female" };
}
