import { z } from "zod";
import { DifficultyCategory, LeftBehindType, RiskLevel, Sex, orgUnitCode } from "@shouhu/contracts";
import type { FieldIssue } from "@shouhu/kit";
import { ageOn } from "@shouhu/cn";
import { normalizeDate, normalizeName, normalizePhone, toHalfWidth } from "@shouhu/cn";
import { parseResidentId } from "./resident-id.js";
import { PROGRAMME_AGE_LIMIT } from "./status-rules.js";
import type { ChildRecord } from "./child-record.js";

const text = (max: number) => z.string().max(max, `不能超过${max}个字`);
const optionalText = (max: number) => text(max).nullish();

const Guardian = z.object({
  name: text(40).min(1, "监护人姓名不能为空"),
  relation: text(20).min(1, "请填写与儿童关系"),
  phone: optionalText(30),
  age: z.number().int().min(10).max(120).nullish(),
  health: optionalText(100),
});

const Parent = z.object({
  role: z.enum(["father", "mother"]),
  name: optionalText(40),
  phone: optionalText(30),
  workProvince: optionalText(20),
  workCity: optionalText(40),
  employer: optionalText(100),
  awaySince: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, "格式应为 yyyy-mm")
    .nullish(),
});

const childFields = {
  idNumber: z.string().min(1, "身份证号不能为空").max(40),
  name: text(40).min(1, "姓名不能为空"),
  sex: Sex.optional(),
  birthDate: z.string().max(20).optional(),
  ethnicity: text(20).optional(),
  villageCode: orgUnitCode(["village"], "应为12位村（社区）代码"),
  address: optionalText(200),
  schoolId: z.string().max(32).nullish(),
  grade: optionalText(20),
  className: optionalText(20),
  leftBehindType: LeftBehindType,
  difficultyCategories: z.array(DifficultyCategory).max(6),
  riskLevel: RiskLevel,
  guardians: z.array(Guardian).max(4),
  parents: z.array(Parent).max(2),
  familySituation: optionalText(2000),
  healthNotes: optionalText(2000),
  psychologicalNotes: optionalText(2000),
  helperName: optionalText(40),
  remarks: optionalText(500),
};

/**
 * A child as staff submit it (API body and import rows). Unknown fields are
 * refused so a misspelt field is an error, not silently lost data.
 */
export const ChildInput = z
  .object({
    ...childFields,
    difficultyCategories: childFields.difficultyCategories.default([]),
    riskLevel: childFields.riskLevel.default("low"),
    guardians: childFields.guardians.default([]),
    parents: childFields.parents.default([]),
  })
  .strict();

/** After validation: normalized, with sex and birth date settled from the ID number. */
export type ChildInput = Omit<z.output<typeof ChildInput>, "sex" | "birthDate"> & { sex: "male" | "female"; birthDate: string };

// No defaults here: in a patch, an absent field means "leave it alone".
export const ChildPatch = z.object(childFields).partial().strict();
export type ChildPatch = Partial<ChildInput>;

export type Validated<T> = { ok: true; value: T } | { ok: false; issues: FieldIssue[] };

function zodIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ field: i.path.join(".") || "body", message: i.message }));
}

/**
 * Everything a record must satisfy beyond its shape: a valid resident ID whose
 * birth date and sex agree with the record, under 16, phones that are phones,
 * and a guardian for every left-behind child. Returns every problem at once.
 */
export function validateChildInput(raw: unknown, today: string): Validated<ChildInput> {
  const parsed = ChildInput.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: zodIssues(parsed.error) };
  const input = parsed.data;
  const issues: FieldIssue[] = [];

  const id = parseResidentId(input.idNumber, today);
  let sex = input.sex;
  let birthDate = input.birthDate;
  if (!id.ok) {
    issues.push({ field: "idNumber", message: id.reason });
  } else {
    if (birthDate !== undefined) {
      const date = normalizeDate(birthDate);
      if (!date.ok) issues.push({ field: "birthDate", message: date.reason });
      else if (date.date !== id.birthDate) issues.push({ field: "birthDate", message: `出生日期 ${date.date} 与身份证号中的 ${id.birthDate} 不一致` });
      else birthDate = date.date;
    } else birthDate = id.birthDate;
    if (sex !== undefined && sex !== id.sex) issues.push({ field: "sex", message: `性别与身份证号不一致（身份证号为${id.sex === "male" ? "男" : "女"}）` });
    sex ??= id.sex;
    if (birthDate && ageOn(id.birthDate, today) >= PROGRAMME_AGE_LIMIT) {
      issues.push({ field: "birthDate", message: "已满16周岁，不在农村留守儿童关爱保护范围" });
    }
  }

  const phone = (value: string | null | undefined, field: string) => {
    if (value === null || value === undefined || value.trim() === "") return null;
    const r = normalizePhone(value);
    if (!r.ok) {
      issues.push({ field, message: r.reason });
      return null;
    }
    return r.phone;
  };
  const guardians = input.guardians.map((g, i) => ({ ...g, name: normalizeName(g.name), phone: phone(g.phone, `guardians.${i}.phone`) }));
  const parents = input.parents.map((p, i) => ({ ...p, name: p.name ? normalizeName(p.name) : (p.name ?? null), phone: phone(p.phone, `parents.${i}.phone`) }));
  if (new Set(parents.map((p) => p.role)).size !== parents.length) issues.push({ field: "parents", message: "父亲、母亲各只能填写一条" });
  if (input.leftBehindType !== "not_left_behind" && guardians.length === 0) {
    issues.push({ field: "guardians", message: "留守儿童须登记至少一名监护人" });
  }

  if (issues.length) return { ok: false, issues };
  return {
    ok: true,
    value: {
      ...input,
      idNumber: id.ok ? id.idNumber : input.idNumber,
      name: normalizeName(input.name),
      sex: sex!,
      birthDate: birthDate!,
      ethnicity: input.ethnicity ? toHalfWidth(input.ethnicity).trim() : "汉族",
      guardians,
      parents,
    },
  };
}

/**
 * A partial update is valid when the record it produces is: merge onto the
 * current record, validate the whole, and return just the touched fields, normalized.
 */
export function validateChildPatch(raw: unknown, current: ChildRecord, today: string): Validated<ChildPatch> {
  const parsed = ChildPatch.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: zodIssues(parsed.error) };
  const touched = Object.keys(raw as object) as (keyof ChildInput)[];
  const merged = {
    idNumber: current.idNumber,
    name: current.name,
    sex: current.sex,
    birthDate: current.birthDate,
    ethnicity: current.ethnicity,
    villageCode: current.villageCode,
    address: current.address,
    schoolId: current.schoolId,
    grade: current.grade,
    className: current.className,
    leftBehindType: current.leftBehindType,
    difficultyCategories: current.difficultyCategories,
    riskLevel: current.riskLevel,
    guardians: current.guardians,
    parents: current.parents,
    familySituation: current.familySituation,
    healthNotes: current.healthNotes,
    psychologicalNotes: current.psychologicalNotes,
    helperName: current.helperName,
    remarks: current.remarks,
    ...(raw as object),
  };
  const full = validateChildInput(merged, today);
  if (!full.ok) return full;
  return { ok: true, value: Object.fromEntries(touched.map((k) => [k, full.value[k]])) as ChildPatch };
}
