import { useState } from "react";
import { useNavigate, useParams } from "react-router";
import { App, Alert, Button, Card, Flex, Grid, Popconfirm, Progress, Space, Statistic, Table, Tabs, Tag, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, ApiError, unwrap } from "../../services/client";
import type { ReimportPreview, ReimportRow } from "../../services/models";
import { Value, fieldLabels } from "../children/ChangeHistory";

/** A tab: the rows of one kind, or (failed) every row the confirm refused. */
type Kind = "changed" | "new" | "missing" | "failed";
const KIND: Record<Kind, { text: string; color: string; hint: string }> = {
  changed: { text: "信息变更", color: "blue", hint: "确认后按登记表更新档案，原值与新值记入变更记录。" },
  new: { text: "新增儿童", color: "green", hint: "确认后为这些儿童建档。" },
  missing: { text: "登记表中缺失", color: "magenta", hint: "确认后标记为“待核实”并记入变更记录，档案不会删除。" },
  failed: { text: "未通过", color: "red", hint: "确认时未通过校验的行（原因见每行），其余行已照常确认。请核实后重新上传登记表。" },
};
const STATUS: Record<string, { text: string; color: string }> = {
  pending: { text: "待确认", color: "blue" },
  queued: { text: "确认中", color: "cyan" },
  applied: { text: "已确认", color: "green" },
  flagged: { text: "已标记待核实", color: "purple" },
  failed: { text: "未通过", color: "red" },
};

/** Every row of one kind (a register holds at most a few thousand children). */
async function allRows(id: string, kind: Kind): Promise<ReimportPreview> {
  let cursor: string | null = null;
  let first: ReimportPreview | null = null;
  const items: ReimportRow[] = [];
  do {
    const page: ReimportPreview = await unwrap(
      api.GET("/api/v1/imports/{id}/preview", {
        params: { path: { id }, query: { ...(kind === "failed" ? { status: "failed" as const } : { kind }), limit: 500, ...(cursor ? { cursor } : {}) } },
      }),
    );
    first ??= page;
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return { ...first!, items, nextCursor: null };
}

function Changes({ row }: { row: ReimportRow }) {
  if (row.status === "failed") return <Typography.Text type="danger">{row.error}</Typography.Text>;
  if (row.kind === "new") return <Typography.Text type="secondary">新建档</Typography.Text>;
  if (row.kind === "missing") return <Typography.Text type="secondary">本次登记表中没有该儿童</Typography.Text>;
  return (
    <ul style={{ margin: 0, paddingInlineStart: 18 }}>
      {row.changes.map((c) => (
        <li key={c.field}>
          {fieldLabels[c.field] ?? c.field}：<Value field={c.field} v={c.before} /> → <Value field={c.field} v={c.after} />
        </li>
      ))}
    </ul>
  );
}

/**
 * 重新导入预览: what a register uploaded again would change — children whose fields
 * differ (old → new), new children, children on file but not in the register. Nothing
 * changes until the supervisor confirms the selected rows or all of them.
 */
export default function ReimportPreviewPage() {
  const { id } = useParams<{ id: string }>();
  const navigate = useNavigate();
  const { message, modal } = App.useApp();
  const screens = Grid.useBreakpoint();
  const qc = useQueryClient();
  const [kind, setKind] = useState<Kind>("changed");
  const [selected, setSelected] = useState<string[]>([]);

  const preview = useQuery({
    queryKey: ["imports", id, "preview", kind],
    queryFn: () => allRows(id!, kind),
    // While the confirm job runs, its progress and the rows' status are read again every second.
    refetchInterval: (q) => (q.state.data?.batch.status === "confirming" ? 1000 : false),
  });
  const confirm = useMutation({
    mutationFn: (body: { rows: string[] } | { all: true }) =>
      unwrap<{ queued: number }>(api.POST("/api/v1/imports/{id}/confirm", { params: { path: { id: id! } }, body: body as never })),
    onSuccess: (r) => {
      setSelected([]);
      void qc.invalidateQueries({ queryKey: ["imports", id, "preview"] });
      message.success(`已提交 ${r.queued} 行，正在后台确认`);
    },
    onError: (err) => {
      void qc.invalidateQueries({ queryKey: ["imports", id, "preview"] });
      modal.error({ title: "未能确认", content: err instanceof ApiError ? err.message : "确认失败，请稍后重试" });
    },
  });

  const data = preview.data;
  const counts = data?.counts;
  const pendingHere = data?.items.filter((r) => r.status === "pending") ?? [];

  return (
    <Flex vertical gap={16}>
      <Flex justify="space-between" align="center" wrap gap={8}>
        <Typography.Title level={4} style={{ margin: 0 }}>
          重新导入预览{data ? `：${data.batch.fileName}` : ""}
        </Typography.Title>
        <Button onClick={() => navigate("/imports")}>返回批量导入</Button>
      </Flex>
      {preview.error && <Alert type="error" showIcon title={preview.error instanceof ApiError ? preview.error.message : "预览加载失败"} />}
      {data && data.batch.status !== "preview" && data.batch.status !== "confirming" && <Alert type="info" showIcon title="预览正在生成，请稍候刷新。" />}
      {data?.batch.status === "confirming" && (
        <Card size="small" data-testid="confirm-progress">
          <Typography.Text>
            正在后台确认：已处理 {data.batch.confirmDone} / {data.batch.confirmTotal} 行（可离开本页，确认不会中断）
          </Typography.Text>
          <Progress percent={data.batch.confirmTotal ? Math.floor((data.batch.confirmDone / data.batch.confirmTotal) * 100) : 0} status="active" />
        </Card>
      )}
      {counts && counts.failed > 0 && data?.batch.status !== "confirming" && (
        <Alert
          type="error"
          showIcon
          data-testid="confirm-failed"
          title={`${counts.failed} 行未通过确认，其余行已确认`}
          description="未通过的行及原因见“未通过”一栏；核实后可重新上传登记表。"
          action={
            kind !== "failed" && (
              <Button size="small" onClick={() => setKind("failed")}>
                查看未通过的行
              </Button>
            )
          }
        />
      )}
      {data?.batch.error && <Alert type="warning" showIcon title={data.batch.error} />}
      {counts && (
        <Card size="small">
          <Space wrap size={[32, 8]}>
            <Statistic title="信息变更" value={counts.changed} />
            <Statistic title="新增儿童" value={counts.new} />
            <Statistic title="登记表中缺失" value={counts.missing} />
            <Statistic title="无变化" value={counts.unchanged} />
            <Statistic title="待确认" value={counts.pending} />
            {counts.failed > 0 && <Statistic title="未通过" value={counts.failed} />}
            <Statistic title="未导入的行" value={data.batch.rejectedRows} />
          </Space>
        </Card>
      )}
      <Alert
        type="warning"
        showIcon
        title="确认之前，档案不会有任何改动。"
        description="可逐行勾选确认，也可一次确认全部待确认的行；若档案在预览之后被他人修改，确认会被拒绝，请重新上传登记表。"
      />
      <Card>
        <Tabs
          activeKey={kind}
          onChange={(k) => {
            setKind(k as Kind);
            setSelected([]);
          }}
          items={(Object.keys(KIND) as Kind[])
            .filter((k) => k !== "failed" || (counts?.failed ?? 0) > 0)
            .map((k) => ({ key: k, label: `${KIND[k].text}${counts ? `（${counts[k]}）` : ""}` }))}
        />
        <Typography.Paragraph type="secondary">{KIND[kind].hint}</Typography.Paragraph>
        <Space wrap style={{ marginBottom: 12, display: kind === "failed" ? "none" : undefined }}>
          <Button
            type="primary"
            disabled={selected.length === 0 || data?.batch.status === "confirming"}
            loading={confirm.isPending}
            onClick={() => confirm.mutate({ rows: selected })}
            data-testid="confirm-selected"
          >
            确认所选（{selected.length}）
          </Button>
          <Popconfirm
            title="确认全部待确认的行？"
            description="信息变更、新增儿童和缺失标记（所有分类）将一并生效。"
            okText="全部确认"
            cancelText="取消"
            onConfirm={() => confirm.mutate({ all: true })}
          >
            <Button disabled={!counts || counts.pending === 0 || data?.batch.status === "confirming"} loading={confirm.isPending} data-testid="confirm-all">
              全部确认（{counts?.pending ?? 0}）
            </Button>
          </Popconfirm>
        </Space>
        <Table<ReimportRow>
          data-testid="preview-table"
          rowKey="id"
          size="small"
          loading={preview.isLoading}
          dataSource={data?.items}
          pagination={{ pageSize: 20, hideOnSinglePage: true }}
          locale={{ emptyText: "没有此类的行" }}
          rowSelection={{
            selectedRowKeys: selected,
            onChange: (keys) => setSelected(keys.map(String)),
            getCheckboxProps: (r) => ({ disabled: r.status !== "pending", "aria-label": `选择 ${r.name}` }),
          }}
          columns={
            screens.md
              ? [
                  { title: "姓名", dataIndex: "name", width: 100 },
                  { title: "身份证号", dataIndex: "idNumber", width: 180 },
                  { title: "行号", dataIndex: "rowNumber", width: 70, render: (v: number | null) => v ?? "—" },
                  { title: kind === "failed" ? "未通过的原因" : "变更（原值 → 新值）", render: (_: unknown, r: ReimportRow) => <Changes row={r} /> },
                  { title: "状态", dataIndex: "status", width: 120, render: (s: string) => <Tag color={STATUS[s]?.color}>{STATUS[s]?.text ?? s}</Tag> },
                ]
              : [
                  {
                    title: "儿童与变更",
                    render: (_: unknown, r: ReimportRow) => (
                      <>
                        <Space wrap size={8}>
                          <Typography.Text strong>{r.name}</Typography.Text>
                          <Tag color={STATUS[r.status]?.color}>{STATUS[r.status]?.text ?? r.status}</Tag>
                        </Space>
                        <div style={{ wordBreak: "break-all" }}>{r.idNumber}</div>
                        <Changes row={r} />
                      </>
                    ),
                  },
                ]
          }
        />
        {kind !== "failed" && pendingHere.length === 0 && data && data.items.length > 0 && (
          <Typography.Text type="success">本类的行已全部确认。</Typography.Text>
        )}
      </Card>
    </Flex>
  );
}
