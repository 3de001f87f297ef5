/**
 * zh-CN labels of the API's codes. Kept equal to `labels` in @shouhu/contracts by
 * test/labels.test.ts (importing contracts here would bundle zod into the app).
 */
export const labels = {
  leftBehindType: { both_parents_away: "双留守", one_parent_away: "单留守", one_away_other_unable: "一方外出另一方无监护能力", not_left_behind: "非留守" },
  difficultyCategory: {
    de_facto_unattended: "事实无人抚养",
    severe_illness: "重病",
    disability: "残疾",
    economic_hardship: "家庭经济困难",
    orphan: "孤儿",
    other: "其他",
  },
  riskLevel: { low: "低", medium: "中", high: "高" },
  sex: { male: "男", female: "女" },
  status: { active: "在册", exited: "已退出" },
  exitReason: { parent_returned: "父母返乡", turned_16: "年满16周岁", moved_away: "迁出", transferred_out: "转出本县", deceased: "死亡" },
  helperKind: {
    teacher: "教师",
    proxy_parent: "代理家长",
    volunteer: "志愿者",
    village_director: "村儿童主任",
    peer_student: "同伴学生",
    village_cadre: "村干部",
  },
  pairingKind: { mentor: "结对帮扶人", peer: "手拉手伙伴" },
  pairingRole: { primary: "主要帮扶人", secondary: "协助帮扶人" },
  concernCategory: {
    safety: "安全隐患",
    abuse_suspected: "疑似遭受侵害",
    neglect: "监护缺失",
    health: "健康问题",
    psychological: "心理问题",
    other: "其他",
    dropout_risk: "辍学风险",
  },
  enrolmentStatus: { enrolled: "在读", suspended: "休学", dropped_out: "辍学", transferred_out: "转学" },
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
  callParty: { father: "父亲", mother: "母亲" },
  activityKind: { tutoring: "课业辅导", counselling: "心理辅导", safety: "安全教育", family_call: "亲情通话", recreation: "文体活动" },
  visitKind: { home_visit: "家访", parent_call: "与父母通话", talk: "谈心", guardian_contact: "与监护人联系", letter: "书信", tutoring: "学业辅导" },
  transferStatus: { pending: "待审批", approved: "已批准", refused: "已拒绝" },
} as const;

export const riskColor: Record<string, string> = { low: "green", medium: "orange", high: "red" };

export const options = (map: Record<string, string>) => Object.entries(map).map(([value, label]) => ({ value, label }));

export function label<K extends keyof typeof labels>(kind: K, code: string | null | undefined): string {
  if (!code) return "—";
  return (labels[kind] as Record<string, string>)[code] ?? code;
}
