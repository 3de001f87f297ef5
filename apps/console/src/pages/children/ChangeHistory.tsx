import { Alert, Empty, Skeleton, Tag, Timeline, Typography } from "antd";
import type { HistoryEntry } from "../../services/models";
import { label, labels } from "../../services/labels";
import { ROLE_LABELS } from "../../access";

export const fieldLabels: Record<string, string> = {
  idNumber: "身份证号",
  name: "姓名",
  sex: "性别",
  birthDate: "出生日期",
  ethnicity: "民族",
  villageCode: "村（社区）代码",
  address: "住址",
  schoolId: "学校",
  grade: "年级",
  className: "班级",
  leftBehindType: "留守类型",
  difficultyCategories: "困境类别",
  riskLevel: "风险等级",
  guardians: "监护人",
  parents: "父母",
  familySituation: "家庭情况",
  healthNotes: "健康情况",
  psychologicalNotes: "心理情况",
  helperName: "帮扶责任人",
  remarks: "备注",
  status: "状态",
  exitReason: "退出原因",
  exitNote: "退出说明",
};
const enumOf: Record<string, keyof typeof labels> = {
  sex: "sex",
  leftBehindType: "leftBehindType",
  riskLevel: "riskLevel",
  status: "status",
  exitReason: "exitReason",
};
const actionLabels: Record<string, string> = {
  created: "建档",
  updated: "修改",
  status_changed: "变更状态",
  imported: "批量导入",
  reimported: "重新导入更新",
  "review-flagged": "待核实（登记表中缺失）",
};

/** A recorded value as staff read it; `***` is what the API sends for a field this role may not see. */
export function Value({ field, v }: { field: string; v: unknown }) {
  if (v === "***")
    return (
      <span>
        *** <Tag data-testid="masked">已脱敏</Tag>
      </span>
    );
  if (v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0)) return <Typography.Text type="secondary">（空）</Typography.Text>;
  if (enumOf[field]) return <>{label(enumOf[field], String(v))}</>;
  if (field === "difficultyCategories" && Array.isArray(v)) return <>{v.map((d) => label("difficultyCategory", String(d))).join("、")}</>;
  if (field === "guardians" && Array.isArray(v))
    return (
      <>
        {v
          .map((g: { name?: string; relation?: string; phone?: string }) => [g.name, g.relation && `（${g.relation}）`, g.phone].filter(Boolean).join(" "))
          .join("；")}
      </>
    );
  if (field === "parents" && Array.isArray(v))
    return (
      <>
        {v
          .map((p: { role?: string; name?: string; phone?: string; workCity?: string }) =>
            [p.role === "father" ? "父" : "母", p.name, p.phone, p.workCity].filter(Boolean).join(" "),
          )
          .join("；")}
      </>
    );
  return <>{typeof v === "object" ? JSON.stringify(v) : String(v)}</>;
}

/** 变更记录: each revision, who made it and when, and every field's old → new value. */
export function ChangeHistory({ items, loading, error }: { items: HistoryEntry[]; loading: boolean; error: Error | null }) {
  if (error) return <Alert type="warning" showIcon title={error.message} />;
  if (loading) return <Skeleton active />;
  if (!items.length) return <Empty description="暂无变更记录" />;
  const entries = [...items].reverse();
  return (
    <Timeline
      data-testid="history"
      items={entries.map((h) => ({
        key: h.revision,
        color: h.action === "status_changed" ? "red" : h.action === "created" ? "green" : "blue",
        content: (
          <div>
            <Typography.Text strong>{actionLabels[h.action] ?? h.action}</Typography.Text>
            <Typography.Text type="secondary" style={{ marginLeft: 8 }}>
              {h.at.replace("T", " ").slice(0, 16)} · {h.actor.name ?? "系统"}
              {h.actor.role ? `（${ROLE_LABELS[h.actor.role] ?? h.actor.role}）` : ""} · 第 {h.revision} 版
            </Typography.Text>
            {h.reason && <div>原因：{label("exitReason", h.reason)}</div>}
            {h.action === "created" ? (
              <div style={{ color: "#666" }}>登记 {h.changes.length} 项信息</div>
            ) : (
              <ul style={{ margin: "4px 0 0", paddingLeft: 20 }}>
                {h.changes.map((c) => (
                  <li key={c.field}>
                    {fieldLabels[c.field] ?? c.field}：<Value field={c.field} v={c.before} /> → <Value field={c.field} v={c.after} />
                  </li>
                ))}
              </ul>
            )}
          </div>
        ),
      }))}
    />
  );
}
