import { z } from "zod";
import { HelperKind, Sex, orgUnitCode, townshipOf } from "@shouhu/contracts";
import { normalizeName, normalizePhone } from "@shouhu/cn";
import type { FieldIssue } from "@shouhu/kit";
import { MAX_CAPACITY } from "./match-rules.js";

const code = orgUnitCode(["township", "village"]);

const helperFields = {
  name: z.string().trim().min(1, "姓名不能为空").max(40),
  sex: Sex.nullish(),
  birthDate: z.iso.date("日期格式应为 YYYY-MM-DD").nullish(),
  phone: z.string().max(30).nullish(),
  orgUnitCode: code,
  schoolId: z.string().trim().min(1).max(32).nullish(),
  username: z.string().trim().min(1).max(100).nullish(),
  capacity: z.number().int().min(1, "帮扶人数至少为1").max(MAX_CAPACITY, `帮扶人数不超过${MAX_CAPACITY}`).optional(),
};

export const HelperInput = z.object({ kind: HelperKind, ...helperFields }).strict();
export type HelperInput = z.output<typeof HelperInput>;
export const HelperPatch = z.object(helperFields).partial().strict();
export type HelperPatch = z.output<typeof HelperPatch>;

/** A helper as stored: every field decided. */
export interface HelperValues {
  kind: HelperKind;
  name: string;
  sex: Sex | null;
  birthDate: string | null;
  phone: string | null;
  orgUnitCode: string;
  townshipCode: string;
  schoolId: string | null;
  username: string | null;
  capacity: number;
}

/** Seed documents: a teacher or proxy parent takes 2–3 children; a peer buddy one. */
function defaultCapacity(kind: HelperKind): number {
  return kind === "peer_student" ? 1 : 3;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] };

/**
 * The rules a helper must meet to be matched: teachers and peer students belong
 * to a school; peers need sex and birth date (same sex, age gap ≤ 2 years);
 * adults need a phone (they are who visits and notifications reach); a village
 * child director serves one village.
 */
export function validateHelper(input: HelperInput, today: string): Validated<HelperValues> {
  const issues: FieldIssue[] = [];
  const kind = input.kind;
  let phone: string | null = null;
  if (input.phone) {
    const result = normalizePhone(input.phone);
    if (result.ok) phone = result.phone;
    else issues.push({ field: "phone", message: result.reason });
  }
  if (kind !== "peer_student" && !input.phone) issues.push({ field: "phone", message: "帮扶人须留联系电话" });
  if ((kind === "teacher" || kind === "peer_student") && !input.schoolId) issues.push({ field: "schoolId", message: "教师和同伴学生须填写所在学校" });
  if (kind === "peer_student") {
    if (!input.sex) issues.push({ field: "sex", message: "同伴学生须填写性别（同性别结对）" });
    if (!input.birthDate) issues.push({ field: "birthDate", message: "同伴学生须填写出生日期（年龄相差不超过2岁）" });
    if (input.capacity !== undefined && input.capacity > 2) issues.push({ field: "capacity", message: "同伴学生最多结对2名儿童" });
  }
  if (kind === "village_director" && input.orgUnitCode.length !== 12) issues.push({ field: "orgUnitCode", message: "村儿童主任应填写12位村（社区）代码" });
  if (kind === "village_cadre" && input.orgUnitCode.length !== 12) issues.push({ field: "orgUnitCode", message: "村干部应填写12位村（社区）代码" });
  if (input.birthDate && input.birthDate > today) issues.push({ field: "birthDate", message: "出生日期不能晚于今天" });
  if (issues.length > 0) return { ok: false, issues };
  return {
    ok: true,
    value: {
      kind,
      name: normalizeName(input.name),
      sex: input.sex ?? null,
      birthDate: input.birthDate ?? null,
      phone,
      orgUnitCode: input.orgUnitCode,
      townshipCode: townshipOf(input.orgUnitCode),
      schoolId: input.schoolId ?? null,
      username: input.username ?? null,
      capacity: input.capacity ?? defaultCapacity(kind),
    },
  };
}

/** A patch applied to the stored helper, then validated as a whole. */
export function applyHelperPatch(current: HelperValues, patch: HelperPatch, today: string): Validated<HelperValues> {
  const merged: HelperInput = {
    kind: current.kind,
    name: patch.name ?? current.name,
    sex: patch.sex === undefined ? current.sex : patch.sex,
    birthDate: patch.birthDate === undefined ? current.birthDate : patch.birthDate,
    phone: patch.phone === undefined ? current.phone : patch.phone,
    orgUnitCode: patch.orgUnitCode ?? current.orgUnitCode,
    schoolId: patch.schoolId === undefined ? current.schoolId : patch.schoolId,
    username: patch.username === undefined ? current.username : patch.username,
    capacity: patch.capacity ?? current.capacity,
  };
  return validateHelper(merged, today);
}
