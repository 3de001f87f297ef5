import { z } from "zod";

/** Keycloak realm roles (DESIGN.md "Who uses it"). */
export const Role = z.enum(["county-admin", "federation-officer", "township-supervisor", "village-director", "teacher", "health-worker", "inspector"]);
export type Role = z.infer<typeof Role>;

/**
 * Realm roles that are not application roles: `ops` runs the queues (Bull Board in the
 * gateway) and sees no child data — a token with only this role holds no `Role`, so every
 * child route refuses it.
 */
export const OperationalRole = z.enum(["ops"]);
export type OperationalRole = z.infer<typeof OperationalRole>;

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

/** Who can be paired with a child (结对帮扶人). */
export const HelperKind = z.enum([
  "teacher", // 教师
  "proxy_parent", // 代理家长（爱心妈妈/爸爸）
  "volunteer", // 志愿者
  "village_director", // 村儿童主任
  "peer_student", // 手拉手好朋友（同伴学生）
  "village_cadre", // 村干部（包村干部、村两委成员）
]);
export type HelperKind = z.infer<typeof HelperKind>;

/** An adult mentor (at most one active per child) or a peer buddy (at most one). */
export const PairingKind = z.enum(["mentor", "peer"]);
export type PairingKind = z.infer<typeof PairingKind>;

/**
 * A mentor pairing's role: each child has at most one active primary (主要帮扶人, whom visits,
 * health and notifications treat as the child's mentor) and one active secondary (协助帮扶人).
 * Peer buddies are always primary.
 */
export const PairingRole = z.enum(["primary", "secondary"]);
export type PairingRole = z.infer<typeof PairingRole>;

export const PairingEndReason = z.enum([
  "child_exited", // 儿童退出关爱对象
  "child_moved", // 儿童迁至其他乡镇或转学
  "helper_deactivated", // 帮扶人调离/停用（含学年交接）
  "manual", // 人工解除
  "transferred", // 移交给其他帮扶人
]);
export type PairingEndReason = z.infer<typeof PairingEndReason>;

/** A transfer request between townships (registry): asked by the receiving side, decided by the sending side. */
export const TransferStatus = z.enum(["pending", "approved", "refused"]);
export type TransferStatus = z.infer<typeof TransferStatus>;

/** What a visit record is: the seed rhythm's kinds ("四个一次", "三个一") plus tutoring. */
export const VisitKind = z.enum([
  "home_visit", // 家访
  "parent_call", // 与父母通话（亲情电话）
  "talk", // 谈心
  "guardian_contact", // 与监护人联系
  "letter", // 书信
  "tutoring", // 学业辅导
]);
export type VisitKind = z.infer<typeof VisitKind>;

/** Who spoke with the child on a 亲情电话 (a call between the child and the parents away). */
export const CallParty = z.enum(["father", "mother"]);
export type CallParty = z.infer<typeof CallParty>;

/** What an activity at a children's home (留守儿童之家) was. */
export const ActivityKind = z.enum([
  "tutoring", // 课业辅导
  "counselling", // 心理辅导
  "safety", // 安全教育
  "family_call", // 亲情通话
  "recreation", // 文体活动
]);
export type ActivityKind = z.infer<typeof ActivityKind>;

export const ConcernCategory = z.enum([
  "safety", // 安全隐患
  "abuse_suspected", // 疑似遭受侵害（强制报告）
  "neglect", // 监护缺失
  "health", // 健康
  "psychological", // 心理
  "other",
  "dropout_risk", // 控辍保学：辍学风险（学籍状态改为辍学时由系统提出）
]);
export type ConcernCategory = z.infer<typeof ConcernCategory>;

/** A child's enrolment in a semester (控辍保学): 在读, 休学, 辍学, 转学 (left for a school outside the county's lists). */
export const EnrolmentStatus = z.enum(["enrolled", "suspended", "dropped_out", "transferred_out"]);
export type EnrolmentStatus = z.infer<typeof EnrolmentStatus>;

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
  helperKind: {
    teacher: "教师",
    proxy_parent: "代理家长",
    volunteer: "志愿者",
    village_director: "村儿童主任",
    peer_student: "同伴学生",
    village_cadre: "村干部",
  } satisfies Record<HelperKind, string>,
  pairingKind: { mentor: "结对帮扶人", peer: "手拉手伙伴" } satisfies Record<PairingKind, string>,
  pairingRole: { primary: "主要帮扶人", secondary: "协助帮扶人" } satisfies Record<PairingRole, string>,
  visitKind: {
    home_visit: "家访",
    parent_call: "与父母通话",
    talk: "谈心",
    guardian_contact: "与监护人联系",
    letter: "书信",
    tutoring: "学业辅导",
  } satisfies Record<VisitKind, string>,
  callParty: { father: "父亲", mother: "母亲" } satisfies Record<CallParty, string>,
  activityKind: {
    tutoring: "课业辅导",
    counselling: "心理辅导",
    safety: "安全教育",
    family_call: "亲情通话",
    recreation: "文体活动",
  } satisfies Record<ActivityKind, string>,
  concernCategory: {
    safety: "安全隐患",
    abuse_suspected: "疑似遭受侵害",
    neglect: "监护缺失",
    health: "健康问题",
    psychological: "心理问题",
    other: "其他",
    dropout_risk: "辍学风险",
  } satisfies Record<ConcernCategory, string>,
  enrolmentStatus: {
    enrolled: "在读",
    suspended: "休学",
    dropped_out: "辍学",
    transferred_out: "转学",
  } satisfies Record<EnrolmentStatus, string>,
  /** Check-up findings (services/health/src/domain/evaluate.ts). */
  checkupFlag: {
    overweight: "超重",
    obese: "肥胖",
    wasting_mild: "轻度消瘦",
    wasting_moderate_severe: "中重度消瘦",
    stunting: "生长迟缓",
    low_vision: "视力低下",
    anaemia: "贫血",
    dental_caries: "龋齿",
    elevated_bp: "血压偏高",
  } as Record<string, string>,
  pairingEndReason: {
    child_exited: "儿童已退出",
    child_moved: "儿童迁出或转学",
    helper_deactivated: "帮扶人调离或停用",
    manual: "人工解除",
    transferred: "移交其他帮扶人",
  } satisfies Record<PairingEndReason, string>,
  transferStatus: { pending: "待审批", approved: "已批准", refused: "已拒绝" } satisfies Record<TransferStatus, string>,
} as const;

/** Org-unit levels by code length (statistical administrative-division codes). */
export const OrgUnitLevel = z.enum(["county", "township", "village"]);
export type OrgUnitLevel = z.infer<typeof OrgUnitLevel>;
export { OrgUnitCode } from "./org-unit.js";
