import { z } from "zod";

/** Keycloak realm roles (DESIGN.md "Who uses it"). */
export const Role = z.enum([
  "county-admin",
  "federation-officer",
  "township-supervisor",
  "village-director",
  "teacher",
  "health-worker",
  "inspector",
]);
export type Role = z.infer<typeof Role>;

/** 留守类型. */
export const LeftBehindType = z.enum([
  "both_parents_away", // 双留守 / 纯留守
  "one_parent_away", // 单留守
  "one_away_other_unable", // 一方外出、另一方无监护能力
  "not_left_behind", // 非留守 (e.g. a child in difficulty only)
]);
export type LeftBehindType = z.infer<typeof LeftBehindType>;

/** 困境类型. A child may have several. */
export const DifficultyCategory = z.enum([
  "de_facto_unattended", // 事实无人抚养
  "severe_illness", // 重病
  "disability", // 残疾
  "economic_hardship", // 家庭经济困难
  "orphan", // 孤儿
  "other", // 其他
]);
export type DifficultyCategory = z.infer<typeof DifficultyCategory>;

export const RiskLevel = z.enum(["low", "medium", "high"]);
export type RiskLevel = z.infer<typeof RiskLevel>;

export const Sex = z.enum(["male", "female"]);
export type Sex = z.infer<typeof Sex>;

/** A child is in the programme (active) or has left it (exited) for a reason. */
export const ChildStatus = z.enum(["active", "exited"]);
export type ChildStatus = z.infer<typeof ChildStatus>;

export const ExitReason = z.enum([
  "parent_returned", // 父母返乡
  "turned_16", // 年满16周岁
  "moved_away", // 随迁/迁出
  "transferred_out", // 转出本县
  "deceased", // 死亡
]);
export type ExitReason = z.infer<typeof ExitReason>;

/** Chinese labels shown to staff (UI, exports, import reports). */
export const labels = {
  leftBehindType: {
    both_parents_away: "双留守",
    one_parent_away: "单留守",
    one_away_other_unable: "一方外出另一方无监护能力",
    not_left_behind: "非留守",
  } satisfies Record<LeftBehindType, string>,
  difficultyCategory: {
    de_facto_unattended: "事实无人抚养",
    severe_illness: "重病",
    disability: "残疾",
    economic_hardship: "家庭经济困难",
    orphan: "孤儿",
    other: "其他",
  } satisfies Record<DifficultyCategory, string>,
  riskLevel: { low: "低", medium: "中", high: "高" } satisfies Record<RiskLevel, string>,
  sex: { male: "男", female: "女" } satisfies Record<Sex, string>,
  status: { active: "在册", exited: "已退出" } satisfies Record<ChildStatus, string>,
  exitReason: {
    parent_returned: "父母返乡",
    turned_16: "年满16周岁",
    moved_away: "迁出",
    transferred_out: "转出本县",
    deceased: "死亡",
  } satisfies Record<ExitReason, string>,
} as const;

/** Org-unit levels by code length (statistical administrative-division codes). */
export const OrgUnitLevel = z.enum(["county", "township", "village"]);
export type OrgUnitLevel = z.infer<typeof OrgUnitLevel>;
export const orgUnitCodeLength: Record<OrgUnitLevel, number> = { county: 6, township: 9, village: 12 };
export const OrgUnitCode = z.string().regex(/^(\d{6}|\d{9}|\d{12})$/, "应为6位（县）、9位（乡镇）或12位（村/社区）行政区划代码");
