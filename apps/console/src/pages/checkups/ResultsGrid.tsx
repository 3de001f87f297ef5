import { useCallback, useEffect, useRef, useState } from "react";
import { App, Button, DatePicker, Flex, Input, Space, Switch, Table, Tag, Typography } from "antd";
import { useQueryClient } from "@tanstack/react-query";
import dayjs, { type Dayjs } from "dayjs";
import { api, ApiError, unwrap } from "../../services/client";
import { MEASURES, type Campaign, type Evaluation, type MeasureKey, type RosterEntry } from "./model";

type Values = Partial<Record<MeasureKey, string>>;
interface RowState {
  evaluation?: Evaluation;
  issues?: { field: string; message: string }[];
  saving?: boolean;
  saved?: { flags: { label: string }[]; bloodPressure: Evaluation["bloodPressure"] };
}

/** Full-width digits and points as staff type them on a Chinese IME. */
const halfWidth = (s: string) => s.replace(/[０-９．]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0)).trim();
function parse(values: Values): { numbers: Partial<Record<MeasureKey, number>>; issues: { field: string; message: string }[] } {
  const numbers: Partial<Record<MeasureKey, number>> = {};
  const issues: { field: string; message: string }[] = [];
  for (const m of MEASURES) {
    const text = halfWidth(values[m.key] ?? "");
    if (text === "") continue;
    const n = Number(text);
    if (Number.isFinite(n)) numbers[m.key] = n;
    else issues.push({ field: m.key, message: `${m.label}请填写数字` });
  }
  return { numbers, issues };
}

function EvaluationCell({ state }: { state: RowState | undefined }) {
  if (!state) return <Typography.Text type="secondary">—</Typography.Text>;
  if (state.issues?.length)
    return (
      <Typography.Text type="danger" role="alert">
        {state.issues.map((i) => i.message).join("；")}
      </Typography.Text>
    );
  const e = state.saved ?? state.evaluation;
  if (!e) return <Typography.Text type="secondary">—</Typography.Text>;
  const bp = e.bloodPressure;
  const assessedNothing = !state.saved && state.evaluation?.assessed.length === 0;
  return (
    <div style={{ display: "flex", flexWrap: "wrap", gap: 4, alignItems: "center" }}>
      {e.flags.length === 0 && !assessedNothing && <Tag color="green">未见异常</Tag>}
      {e.flags.map((f) => (
        <Tag key={f.label} color="red">
          {f.label}
        </Tag>
      ))}
      {bp.result === "high_normal" && <Tag color="magenta">正常高值血压</Tag>}
      {bp.result === "not_applicable" && <Typography.Text type="secondary">血压：{bp.label}</Typography.Text>}
      {state.evaluation?.bmi != null && <Typography.Text type="secondary">BMI {state.evaluation.bmi}</Typography.Text>}
      {assessedNothing && bp.result !== "not_applicable" && <Typography.Text type="secondary">暂无可评价的项目</Typography.Text>}
    </div>
  );
}

/**
 * 结果录入: the campaign's children as rows, the measures as cells. Tab moves along a
 * row, Enter (Shift+Enter) down (up) a column, Ctrl+Enter saves the row. As a value is
 * typed the row is evaluated by the service's own standards (POST /exams/evaluate,
 * nothing stored), so 血压偏高, 贫血, 超重… show before saving; each row saves on its own.
 */
export function ResultsGrid({ campaign, roster }: { campaign: Campaign; roster: RosterEntry[] }) {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const today = dayjs();
  const [date, setDate] = useState<Dayjs>(() => {
    const end = dayjs(campaign.endDate);
    return today.isAfter(end) ? end : today;
  });
  const [examiner, setExaminer] = useState("");
  const [showDone, setShowDone] = useState(false);
  const [values, setValues] = useState<Record<string, Values>>({});
  const [rows, setRows] = useState<Record<string, RowState>>({});
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  const seq = useRef(new Map<string, number>());
  const data = roster.filter((r) => showDone || r.status !== "done" || rows[r.id]?.saved);

  const patchRow = (id: string, patch: RowState) => setRows((s) => ({ ...s, [id]: { ...s[id], ...patch } }));

  const evaluate = useCallback(
    (childId: string, v: Values) => {
      const { numbers, issues } = parse(v);
      if (issues.length) return patchRow(childId, { issues, evaluation: undefined });
      // Nothing typed (any more): nothing to show.
      if (Object.keys(numbers).length === 0) {
        seq.current.set(childId, (seq.current.get(childId) ?? 0) + 1);
        return patchRow(childId, { issues: [], evaluation: undefined });
      }
      const n = (seq.current.get(childId) ?? 0) + 1;
      seq.current.set(childId, n);
      unwrap<Evaluation>(api.POST("/api/v1/exams/evaluate", { body: { childId, date: date.format("YYYY-MM-DD"), ...numbers } }))
        .then((evaluation) => seq.current.get(childId) === n && patchRow(childId, { evaluation, issues: [] }))
        .catch(
          (err) =>
            seq.current.get(childId) === n &&
            patchRow(childId, {
              issues: err instanceof ApiError && err.fieldIssues.length ? err.fieldIssues : [{ field: "row", message: (err as Error).message }],
            }),
        );
    },
    [date],
  );

  useEffect(() => () => timers.current.forEach((t) => clearTimeout(t)), []);

  const change = (childId: string, key: MeasureKey, text: string) => {
    const next = { ...values[childId], [key]: text };
    setValues((s) => ({ ...s, [childId]: next }));
    clearTimeout(timers.current.get(childId));
    timers.current.set(
      childId,
      setTimeout(() => evaluate(childId, next), 300),
    );
  };

  const save = async (childId: string) => {
    const { numbers, issues } = parse(values[childId] ?? {});
    if (issues.length) return patchRow(childId, { issues });
    if (!examiner.trim()) {
      message.warning("请先填写检查医生");
      document.getElementById("grid-examiner")?.focus();
      return;
    }
    patchRow(childId, { saving: true });
    try {
      const saved = await unwrap<NonNullable<RowState["saved"]>>(
        api.POST("/api/v1/exams", {
          body: { childId, campaignId: campaign.id, date: date.format("YYYY-MM-DD"), examiner: examiner.trim(), ...numbers },
        }),
      );
      patchRow(childId, { saving: false, saved, issues: [] });
      message.success(`已保存：${roster.find((r) => r.id === childId)?.name ?? ""}`);
      void qc.invalidateQueries({ queryKey: ["roster", campaign.id] });
      void qc.invalidateQueries({ queryKey: ["follow-ups"] });
    } catch (err) {
      patchRow(childId, {
        saving: false,
        issues: err instanceof ApiError && err.fieldIssues.length ? err.fieldIssues : [{ field: "row", message: (err as Error).message }],
      });
    }
  };

  /** Enter / Shift+Enter / arrows move down and up a column; Ctrl+Enter saves the row. */
  const onKey = (e: React.KeyboardEvent<HTMLInputElement>, rowIndex: number, col: number, childId: string) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      void save(childId);
      return;
    }
    const down = (e.key === "Enter" && !e.shiftKey) || e.key === "ArrowDown";
    const up = (e.key === "Enter" && e.shiftKey) || e.key === "ArrowUp";
    if (!down && !up) return;
    e.preventDefault();
    const target = document.querySelector<HTMLInputElement>(`[data-cell="${rowIndex + (down ? 1 : -1)}:${col}"]`);
    target?.focus();
    target?.select();
  };

  return (
    <Flex vertical gap={12}>
      <Space wrap size={[16, 8]}>
        <label>
          检查日期{" "}
          <DatePicker
            aria-label="检查日期"
            value={date}
            allowClear={false}
            onChange={(d) => d && setDate(d)}
            disabledDate={(d) => d.isAfter(today, "day") || d.isBefore(dayjs(campaign.startDate), "day") || d.isAfter(dayjs(campaign.endDate), "day")}
          />
        </label>
        <label>
          检查医生 <Input id="grid-examiner" value={examiner} onChange={(e) => setExaminer(e.target.value)} style={{ width: 140 }} maxLength={40} />
        </label>
        <label>
          <Switch size="small" checked={showDone} onChange={setShowDone} aria-label="显示已录入" /> 显示已录入
        </label>
        <Typography.Text type="secondary">Tab 右移，Enter 下移，Ctrl+Enter 保存本行</Typography.Text>
      </Space>
      <Table<RosterEntry>
        data-testid="results-grid"
        size="small"
        rowKey="id"
        dataSource={data}
        scroll={{ x: 1150 }}
        pagination={{ pageSize: 50, hideOnSinglePage: true }}
        columns={[
          { title: "姓名", key: "name", fixed: "left", width: 88, render: (_, r) => r.name },
          ...MEASURES.map((m, col) => ({
            title: m.label,
            key: m.key,
            width: m.width,
            render: (_: unknown, r: RosterEntry, rowIndex: number) => {
              const done = r.status === "done" || Boolean(rows[r.id]?.saved);
              if (done) return r.exam?.[m.key] ?? values[r.id]?.[m.key] ?? "—";
              const bad = rows[r.id]?.issues?.some((i) => i.field === m.key);
              return (
                <Input
                  size="small"
                  inputMode="decimal"
                  aria-label={`${r.name} ${m.label}`}
                  data-cell={`${rowIndex}:${col}`}
                  status={bad ? "error" : undefined}
                  value={values[r.id]?.[m.key] ?? ""}
                  onChange={(e) => change(r.id, m.key, e.target.value)}
                  onKeyDown={(e) => onKey(e, rowIndex, col, r.id)}
                />
              );
            },
          })),
          {
            title: "评价（按国家标准）",
            key: "evaluation",
            width: 340,
            render: (_, r) =>
              // Recorded before this page was opened: the findings stored with the exam.
              !rows[r.id] && r.exam ? (
                <div style={{ display: "flex", flexWrap: "wrap", gap: 4 }}>
                  {r.exam.flags.length === 0 ? (
                    <Typography.Text type="secondary">无异常记录</Typography.Text>
                  ) : (
                    r.exam.flags.map((f) => (
                      <Tag key={f.kind} color="red">
                        {f.label}
                      </Tag>
                    ))
                  )}
                </div>
              ) : (
                <EvaluationCell state={rows[r.id]} />
              ),
          },
          {
            title: "操作",
            key: "op",
            fixed: "right",
            width: 80,
            render: (_, r) =>
              r.status === "done" || rows[r.id]?.saved ? (
                <Tag color="green">已录入</Tag>
              ) : (
                <Button size="small" type="primary" loading={rows[r.id]?.saving} onClick={() => void save(r.id)} aria-label={`保存 ${r.name}`}>
                  保存
                </Button>
              ),
          },
        ]}
      />
    </Flex>
  );
}
