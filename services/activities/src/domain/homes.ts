import { z } from "zod";
import { ActivityKind, orgLevel, orgUnitCode } from "@shouhu/contracts";

/** A calendar day `days` after (or before) another, both YYYY-MM-DD. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** What a children's home (留守儿童之家) usually holds and the rules the summaries name; staff may add their own. */
export const EQUIPMENT = ["电脑", "亲情电话", "图书", "视频通话设备", "文体器材", "学习桌椅", "电视"] as const;
export const RULES = ["心理咨询", "健康教育", "代理家长", "安全教育", "学习辅导", "亲情联系", "值班管理"] as const;
/** A site with no activity for this many days is flagged (停摆). */
export const STALE_DAYS = 30;
/** How far back a session may be recorded. */
const SESSION_BACKDATE_DAYS = 92;
export const SAFETY_TOPICS = ["防溺水", "交通安全", "防性侵", "消防安全", "食品安全", "防欺凌", "网络安全", "其他"] as const;

const text = (max: number, what: string) => z.string().trim().max(max, `${what}不超过${max}个字`);
const label = z.string().trim().min(1, "不能为空").max(20, "每项不超过20个字");
const Adult = z.object({
  name: z.string().trim().min(1, "请填写负责人姓名").max(40, "姓名不超过40个字"),
  duty: z.string().trim().min(1, "请填写职责（如 管理员、代理家长）").max(40, "职责不超过40个字"),
  phone: z
    .string()
    .trim()
    .regex(/^1\d{10}$|^0\d{2,3}-?\d{7,8}$/, "电话应为11位手机号或带区号的固定电话")
    .nullish(),
});

const SiteFields = {
  name: z.string().trim().min(1, "请填写儿童之家名称").max(60, "名称不超过60个字"),
  room: text(100, "活动室").nullish(),
  equipment: z.array(label).max(30, "设施最多30项").default([]),
  openingHours: text(100, "开放时间").nullish(),
  adults: z.array(Adult).max(20, "负责人最多20位").default([]),
  rules: z.array(label).max(30, "制度最多30项").default([]),
  plan: text(5000, "三年规划").nullish(),
  childIds: z
    .array(z.uuid({ message: "儿童编号格式不正确" }))
    .max(500, "一个儿童之家最多登记500名儿童")
    .default([]),
};

export const SiteInput = z
  .object({
    kind: z.enum(["village", "school"], { message: "类型应为 village（村）或 school（学校）" }),
    orgUnit: orgUnitCode(),
    schoolId: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9]{1,32}$/, "学校代码应为1–32位字母或数字")
      .nullish(),
    ...SiteFields,
  })
  .superRefine((s, ctx) => {
    if (s.kind === "village" && orgLevel(s.orgUnit) !== "village")
      ctx.addIssue({ code: "custom", path: ["orgUnit"], message: "村级儿童之家应选择村（12位区划代码）" });
    if (s.kind === "school" && orgLevel(s.orgUnit) !== "township")
      ctx.addIssue({ code: "custom", path: ["orgUnit"], message: "学校儿童之家应选择学校所在乡镇（9位区划代码）" });
    if (s.kind === "school" && !s.schoolId) ctx.addIssue({ code: "custom", path: ["schoolId"], message: "请选择学校" });
    if (s.kind === "village" && s.schoolId) ctx.addIssue({ code: "custom", path: ["schoolId"], message: "村级儿童之家不填学校" });
  });
export type SiteInput = z.infer<typeof SiteInput>;

/** An edit: any of the fields; kind, place and school stay as created (retire and create anew to move a home). */
export const SitePatch = z
  .object({
    name: SiteFields.name.optional(),
    room: SiteFields.room,
    equipment: z.array(label).max(30, "设施最多30项").optional(),
    openingHours: SiteFields.openingHours,
    adults: z.array(Adult).max(20, "负责人最多20位").optional(),
    rules: z.array(label).max(30, "制度最多30项").optional(),
    plan: SiteFields.plan,
    childIds: z
      .array(z.uuid({ message: "儿童编号格式不正确" }))
      .max(500, "一个儿童之家最多登记500名儿童")
      .optional(),
  })
  .strict();
export type SitePatch = z.infer<typeof SitePatch>;

export const SessionInput = z.object({
  date: z.iso.date("日期格式应为 YYYY-MM-DD"),
  kind: ActivityKind,
  leader: z.string().trim().min(1, "请填写组织人或主讲人").max(40, "组织人不超过40个字"),
  summary: z.string().trim().min(1, "请填写活动情况（文字记录）").max(5000, "活动记录不超过5000字"),
  attendance: z.array(z.uuid({ message: "儿童编号格式不正确" })).max(500, "参加儿童最多500名"),
});
export type SessionInput = z.infer<typeof SessionInput>;

export function checkSessionDate(date: string, today: string): { field: string; message: string } | null {
  if (date > today) return { field: "date", message: `活动日期不能晚于今天（${today}）` };
  const earliest = addDays(today, -SESSION_BACKDATE_DAYS);
  if (date < earliest) return { field: "date", message: `只能补录${SESSION_BACKDATE_DAYS}天内的活动（最早 ${earliest}）` };
  return null;
}

export const CampaignInput = z.object({
  title: z.string().trim().min(1, "请填写专题教育名称").max(60, "名称不超过60个字"),
  topic: z.enum(SAFETY_TOPICS, { message: `主题应为：${SAFETY_TOPICS.join("、")}` }),
  description: text(2000, "要求").nullish(),
  orgUnit: orgUnitCode(["county", "township"], "专题教育应由县或乡镇布置（6位或9位区划代码）"),
  deadline: z.iso.date("日期格式应为 YYYY-MM-DD"),
});
export type CampaignInput = z.infer<typeof CampaignInput>;

export const ReachInput = z.object({
  date: z.iso.date("日期格式应为 YYYY-MM-DD"),
  childIds: z
    .array(z.uuid({ message: "儿童编号格式不正确" }))
    .min(1, "请至少选择一名儿童")
    .max(2000, "一次最多登记2000名儿童"),
});

/** Field → [old, new] for what an edit changed (the site's history). */
export function siteChanges(before: Record<string, unknown>, patch: Record<string, unknown>): Record<string, [unknown, unknown]> {
  const out: Record<string, [unknown, unknown]> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined || k === "childIds") continue;
    const old = before[k] ?? null;
    if (JSON.stringify(old) !== JSON.stringify(v ?? null)) out[k] = [old, v ?? null];
  }
  return out;
}

/** Whether a site is flagged: no activity in the last STALE_DAYS days (a new site gets STALE_DAYS from its creation). */
export function isStale(lastDate: string | null, createdOn: string, today: string): boolean {
  const since = addDays(today, -STALE_DAYS);
  return (lastDate ?? createdOn) < since;
}
