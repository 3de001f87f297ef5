import { App, Alert, Button, Card, Descriptions, Flex, Modal, Popconfirm, Statistic, Table, Tag, Typography } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useParams } from "react-router";
import { api, unwrap } from "../../services/client";
import { CATEGORY_LABELS, STATUS_LABELS, type Letter, type Preview, type Reach, type ReachCounts, type SchoolOption } from "./model";

const scopeText = (l: Letter, schools: SchoolOption[] | undefined) =>
  [
    l.scope.schoolId ? (schools?.find((s) => s.id === l.scope.schoolId)?.name ?? l.scope.schoolId) : "全乡镇",
    [l.scope.grade, l.scope.className].filter(Boolean).join(""),
  ]
    .filter(Boolean)
    .join(" · ");

/** The sample letter as a guardian will read it. */
function Sample({ preview }: { preview: Preview }) {
  if (!preview.sample) return <Alert type="warning" showIcon title="范围内没有可发送的手机号" />;
  return (
    <Card size="small" title={`示例：${preview.sample.title}`} data-testid="letter-sample">
      <Typography.Paragraph style={{ whiteSpace: "pre-wrap", marginBottom: 8 }}>{preview.sample.body}</Typography.Paragraph>
      <Typography.Text type="secondary">{preview.sample.signature}</Typography.Text>
    </Card>
  );
}

/** Draft: how many phones it reaches, a sample, the children it cannot reach; then send. */
function DraftView({ letter }: { letter: Letter }) {
  const { message } = App.useApp();
  const navigate = useNavigate();
  const qc = useQueryClient();
  const preview = useQuery({
    queryKey: ["letter-preview", letter.id, letter.body, letter.scope, letter.categories],
    queryFn: async () => unwrap<Preview>(api.GET("/api/v1/letters/{id}/preview", { params: { path: { id: letter.id } } })),
  });
  const send = useMutation({
    mutationFn: async () => unwrap<Letter>(api.POST("/api/v1/letters/{id}/send", { params: { path: { id: letter.id } } })),
    onSuccess: () => {
      message.success("已开始发送");
      void qc.invalidateQueries({ queryKey: ["letter", letter.id] });
      void qc.invalidateQueries({ queryKey: ["letters"] });
    },
    onError: (err) => message.error(err instanceof Error ? err.message : "发送失败"),
  });
  const p = preview.data;
  return (
    <Flex vertical gap={12}>
      {p && (
        <>
          <Flex gap={24} wrap data-testid="letter-preview">
            <Statistic title="收信人（按手机号）" value={p.recipients} />
            {Object.entries(p.byCategory).map(([c, n]) => (
              <Statistic key={c} title={CATEGORY_LABELS[c] ?? c} value={n} />
            ))}
            <Statistic title="无手机号的儿童" value={p.unreachableTotal} />
          </Flex>
          <Sample preview={p} />
          {p.unreachable.length > 0 && (
            <Card size="small" title={`无可用手机号（${p.unreachableTotal}名儿童，不会收到短信）`}>
              <Table
                size="small"
                rowKey="childId"
                dataSource={p.unreachable}
                pagination={{ pageSize: 10, hideOnSinglePage: true }}
                columns={[
                  { title: "儿童", dataIndex: "childName" },
                  { title: "学校", dataIndex: "schoolName", responsive: ["sm"], render: (v: string | null) => v ?? "—" },
                  { title: "班级", dataIndex: "classLabel", responsive: ["md"], render: (v: string | null) => v ?? "—" },
                  { title: "缺少", dataIndex: "missing", render: (m: string[]) => m.map((c) => CATEGORY_LABELS[c] ?? c).join("、") },
                ]}
              />
            </Card>
          )}
        </>
      )}
      <Flex gap={8}>
        <Button
          type="primary"
          disabled={!p || p.recipients === 0}
          loading={send.isPending}
          onClick={() =>
            Modal.confirm({
              title: "确认发送",
              content: `将向 ${p?.recipients ?? 0} 个手机号发送短信（免打扰时段内的顺延到时段结束）。发送后不能修改。`,
              okText: "发送",
              cancelText: "取消",
              onOk: () => send.mutateAsync(),
            })
          }
        >
          发送
        </Button>
        <Button onClick={() => navigate(`/letters/${letter.id}/edit`)}>修改</Button>
      </Flex>
    </Flex>
  );
}

const reachColumns = [
  { title: "收信人", dataIndex: "recipients" },
  { title: "已发出", dataIndex: "sent" },
  { title: "已送达", dataIndex: "delivered" },
  { title: "失败", dataIndex: "failed" },
  { title: "已阅", dataIndex: "read" },
  { title: "待发（免打扰）", dataIndex: "held", responsive: ["md" as const] },
];

/** Sent: reach per school, refreshed while receipts and reads come in. */
function ReachView({ letter }: { letter: Letter }) {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const reach = useQuery({
    queryKey: ["letter-reach", letter.id],
    queryFn: async () => unwrap<Reach>(api.GET("/api/v1/letters/{id}/reach", { params: { path: { id: letter.id } } })),
    // While sending or receipts are still due: every 3 s; after that a read can still come, every 30 s.
    refetchInterval: (q) => {
      const t = q.state.data?.total;
      return letter.status === "sending" || !t || t.delivered + t.failed < t.recipients ? 3000 : 30_000;
    },
  });
  const withdraw = useMutation({
    mutationFn: async () => unwrap<Letter>(api.POST("/api/v1/letters/{id}/withdraw", { params: { path: { id: letter.id } } })),
    onSuccess: () => {
      message.success("已撤回");
      void qc.invalidateQueries({ queryKey: ["letter", letter.id] });
    },
    onError: (err) => message.error(err instanceof Error ? err.message : "撤回失败"),
  });
  const t: ReachCounts | undefined = reach.data?.total;
  return (
    <Flex vertical gap={12}>
      {t && (
        <Flex gap={24} wrap data-testid="letter-reach-total">
          <Statistic title="收信人" value={t.recipients} />
          <Statistic title="已送达" value={t.delivered} />
          <Statistic title="失败" value={t.failed} />
          <Statistic title="已阅" value={t.read} />
        </Flex>
      )}
      <Table
        data-testid="letter-reach"
        size="small"
        rowKey={(r) => r.schoolId ?? "none"}
        loading={reach.isLoading}
        dataSource={reach.data?.schools ?? []}
        pagination={false}
        columns={[{ title: "学校", dataIndex: "schoolName", render: (v: string | null) => v ?? "未登记学校" }, ...reachColumns]}
        summary={() =>
          t && (reach.data?.schools.length ?? 0) > 1 ? (
            <Table.Summary.Row>
              <Table.Summary.Cell index={0}>乡镇合计</Table.Summary.Cell>
              {reachColumns.map((c, i) => (
                <Table.Summary.Cell key={c.dataIndex} index={i + 1}>
                  {t[c.dataIndex as keyof ReachCounts]}
                </Table.Summary.Cell>
              ))}
            </Table.Summary.Row>
          ) : null
        }
      />
      {letter.status !== "withdrawn" && (
        <Popconfirm title="撤回后链接失效，尚未发出的短信不再发送。确认撤回？" okText="撤回" cancelText="取消" onConfirm={() => withdraw.mutateAsync()}>
          <Button danger style={{ alignSelf: "flex-start" }}>
            撤回
          </Button>
        </Popconfirm>
      )}
    </Flex>
  );
}

/** A letter: what it says and to whom; a draft's preview and send, a sent letter's reach. */
export default function LetterDetail() {
  const { id } = useParams();
  const letter = useQuery({
    queryKey: ["letter", id],
    queryFn: async () => unwrap<Letter>(api.GET("/api/v1/letters/{id}", { params: { path: { id: id! } } })),
    refetchInterval: (q) => (q.state.data?.status === "sending" ? 1000 : false),
  });
  const l = letter.data;
  const schools = useQuery({
    queryKey: ["letter-schools", l?.scope.townshipCode],
    enabled: Boolean(l?.scope.schoolId),
    queryFn: async () =>
      (await unwrap<{ schools: SchoolOption[] }>(api.GET("/api/v1/letters/schools", { params: { query: { townshipCode: l!.scope.townshipCode } } }))).schools,
  });
  if (letter.error) return <Alert type="error" showIcon title={letter.error.message} />;
  if (!l) return <Card loading />;
  return (
    <Flex vertical gap={12} style={{ maxWidth: 1000 }}>
      <Flex align="center" gap={8} wrap>
        <Typography.Title level={4} style={{ margin: 0 }}>
          {l.title}
        </Typography.Title>
        <Tag color={STATUS_LABELS[l.status].color}>{STATUS_LABELS[l.status].text}</Tag>
      </Flex>
      <Descriptions
        size="small"
        column={{ xs: 1, sm: 2 }}
        styles={{ label: { color: "rgba(0, 0, 0, 0.65)" } }}
        items={[
          { key: "to", label: "收信人", children: l.categories.map((c) => CATEGORY_LABELS[c] ?? c).join("、") },
          { key: "scope", label: "范围", children: scopeText(l, schools.data) },
          { key: "signature", label: "落款", children: l.signature },
          { key: "sent", label: "发送时间", children: l.sentAt ? new Date(l.sentAt).toLocaleString("zh-CN") : "—" },
        ]}
      />
      {l.status === "draft" ? <DraftView letter={l} /> : <ReachView letter={l} />}
    </Flex>
  );
}
