/**
 * The township register's columns (DESIGN.md "The township register as kept
 * today"), in the order the template and exports use, with the header texts
 * real files use for each.
 */
export const registerColumns = [
  { key: "seq", label: "序号", aliases: ["序号", "编号"] },
  { key: "name", label: "姓名", aliases: ["姓名", "儿童姓名", "学生姓名"] },
  { key: "sex", label: "性别", aliases: ["性别"] },
  { key: "ethnicity", label: "民族", aliases: ["民族"] },
  { key: "birthDate", label: "出生日期", aliases: ["出生日期", "出生年月", "出生年月日"] },
  { key: "idNumber", label: "身份证号", aliases: ["身份证号", "身份证号码", "公民身份号码", "身份证"] },
  { key: "address", label: "户籍地址", aliases: ["户籍地址", "家庭住址", "住址", "户籍所在地", "家庭地址"] },
  { key: "school", label: "就读学校", aliases: ["就读学校", "学校", "所在学校"] },
  { key: "grade", label: "年级", aliases: ["年级"] },
  { key: "className", label: "班级", aliases: ["班级"] },
  { key: "leftBehindType", label: "留守类型", aliases: ["留守类型", "留守情况"] },
  { key: "difficulty", label: "困境类型", aliases: ["困境类型", "困境儿童类型", "困境情况"] },
  { key: "guardianName", label: "监护人姓名", aliases: ["监护人姓名", "监护人"] },
  { key: "guardianRelation", label: "与儿童关系", aliases: ["与儿童关系", "与儿童的关系", "关系"] },
  { key: "guardianAge", label: "监护人年龄", aliases: ["监护人年龄"] },
  { key: "guardianHealth", label: "监护人健康状况", aliases: ["监护人健康状况", "监护人身体状况"] },
  { key: "guardianPhone", label: "监护人电话", aliases: ["监护人电话", "监护人联系电话", "监护人手机"] },
  { key: "fatherName", label: "父亲姓名", aliases: ["父亲姓名"] },
  { key: "fatherWork", label: "父亲务工地", aliases: ["父亲务工地", "父亲务工地点", "父亲工作地"] },
  { key: "fatherPhone", label: "父亲电话", aliases: ["父亲电话", "父亲联系电话", "父亲手机"] },
  { key: "motherName", label: "母亲姓名", aliases: ["母亲姓名"] },
  { key: "motherWork", label: "母亲务工地", aliases: ["母亲务工地", "母亲务工地点", "母亲工作地"] },
  { key: "motherPhone", label: "母亲电话", aliases: ["母亲电话", "母亲联系电话", "母亲手机"] },
  { key: "familySituation", label: "家庭经济状况", aliases: ["家庭经济状况", "家庭情况", "家庭经济情况"] },
  { key: "healthNotes", label: "健康状况", aliases: ["健康状况", "儿童健康状况", "身体状况"] },
  { key: "psychologicalNotes", label: "心理状况", aliases: ["心理状况", "心理健康状况"] },
  { key: "helperName", label: "帮扶责任人", aliases: ["帮扶责任人", "结对帮扶人", "帮扶人", "代理家长"] },
  { key: "remarks", label: "备注", aliases: ["备注"] },
] as const;

export type ColumnKey = (typeof registerColumns)[number]["key"];

/** Sub-columns under a grouped header ("监护人情况" over 姓名/关系/电话 …). */
const grouped: Record<"guardian" | "father" | "mother", Record<string, ColumnKey>> = {
  guardian: {
    姓名: "guardianName",
    关系: "guardianRelation",
    与儿童关系: "guardianRelation",
    年龄: "guardianAge",
    健康状况: "guardianHealth",
    身体状况: "guardianHealth",
    电话: "guardianPhone",
    联系电话: "guardianPhone",
    手机: "guardianPhone",
  },
  father: {
    姓名: "fatherName",
    务工地: "fatherWork",
    务工地点: "fatherWork",
    工作地: "fatherWork",
    电话: "fatherPhone",
    联系电话: "fatherPhone",
    手机: "fatherPhone",
  },
  mother: {
    姓名: "motherName",
    务工地: "motherWork",
    务工地点: "motherWork",
    工作地: "motherWork",
    电话: "motherPhone",
    联系电话: "motherPhone",
    手机: "motherPhone",
  },
};

/** Header text without spaces, line breaks, or notes in brackets: "留守类型\n(单留守/双留守)" → "留守类型". */
function cleanHeader(text: string): string {
  return text
    .replace(/[（(][^）)]*[）)]/g, "")
    .replace(/\s+/g, "")
    .replace(/[:：*＊]/g, "");
}

const byAlias = new Map<string, ColumnKey>(registerColumns.flatMap((c) => c.aliases.map((a) => [a, c.key] as const)));

/** The column a header cell names, given the group header above it (if any). */
export function columnFor(label: string, group: string): ColumnKey | undefined {
  const l = cleanHeader(label);
  const g = cleanHeader(group);
  if (g && g !== l) {
    const family = /监护人/.test(g) ? "guardian" : /父/.test(g) ? "father" : /母/.test(g) ? "mother" : undefined;
    if (family) {
      const key = grouped[family][l];
      if (key) return key;
    }
  }
  return byAlias.get(l);
}

export const labelOf = Object.fromEntries(registerColumns.map((c) => [c.key, c.label])) as Record<ColumnKey, string>;
