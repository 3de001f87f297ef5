import { useState } from "react";
import { Alert, App, Button, Card, Descriptions, Flex, Form, Grid, Input, Select, Space, Table, Tabs, Tag, Typography } from "antd";
import type { ColumnsType } from "antd/es/table";
import { PrinterOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Navigate } from "react-router";
import { useSession } from "../../auth/session";
import { api, ApiError, unwrap } from "../../services/client";
import { useSchools, useVillageNames } from "../../services/hooks";
import { HandoverPack } from "./HandoverPack";

/** services/registry/src/data/school-year.ts PromotionPlan. */
interface PromotionPlan {
  schoolId: string;
  schoolName: string;
  schoolType: string;
  schoolYear: string;
  done: { at: string; actorName: string | null; promoted: number; awaiting: number } | null;
  steps: { from: string | null; to: string | null; kind: "promote" | "awaiting" | "graduating" | "unrecognised"; count: number }[];
  promoted: number;
  awaiting: number;
  graduating: number;
  unrecognised: number;
  replayed?: boolean;
}
interface AwaitingChild {
  id: string;
  name: string;
  sex: string;
  birthDate: string;
  villageCode: string;
}
interface HandoverItem {
  id: string;
  name: string;
  sex: string;
  birthDate: string;
  grade: string | null;
  className: string | null;
  villageCode: string;
  riskLevel: string;
  guardians?: { name: string; relation: string; phone?: string | null }[];
  helper: { name: string; phone: string | null; helperKind: string } | null;
}

/** services/visits POST /concerns/summary: open cases per child by the need-to-know table (inspectors: totals only). */
interface ConcernSummary {
  access: "all" | "own" | "counts";
  items: { childId: string; open: number; overdue: number; concerns: { id: string; categoryLabel: string; statusLabel: string; overdue: boolean }[] }[];
  total: { open: number; overdue: number };
}

const errorText = (err: unknown) => (err instanceof ApiError ? err.message : "操作失败，请稍后再试");
const KIND: Record<string, { label: string; color: string }> = {
  promote: { label: "升级", color: "green" },
  awaiting: { label: "待分配初中", color: "blue" },
  graduating: { label: "毕业（不变）", color: "purple" },
  unrecognised: { label: "年级无法识别（不变）", color: "red" },
};
const RISK: Record<string, string> = { low: "低", medium: "中", high: "高" };
const SEX: Record<string, string> = { male: "男", female: "女" };

/** The school year the coming September starts. */
function nextSchoolYear(): string {
  const now = new Date();
  const y = now.getMonth() >= 8 ? now.getFullYear() + 1 : now.getFullYear();
  return `${y}-${y + 1}`;
}

function Promotion() {
  const { message } = App.useApp();
  const schools = useSchools();
  const [schoolId, setSchoolId] = useState<string>();
  const [schoolYear, setSchoolYear] = useState(nextSchoolYear());
  const [plan, setPlan] = useState<PromotionPlan>();
  const [error, setError] = useState<string>();
  const qc = useQueryClient();
  const preview = useMutation({
    mutationFn: () => unwrap<PromotionPlan>(api.POST("/api/v1/schools/{id}/promotion-preview", { params: { path: { id: schoolId! } }, body: { schoolYear } })),
    onSuccess: (p) => {
      setPlan(p);
      setError(undefined);
    },
    onError: (err) => {
      setPlan(undefined);
      setError(errorText(err));
    },
  });
  const promote = useMutation({
    mutationFn: () => unwrap<PromotionPlan>(api.POST("/api/v1/schools/{id}/promotions", { params: { path: { id: schoolId! } }, body: { schoolYear } })),
    onSuccess: (p) => {
      setPlan(p);
      void qc.invalidateQueries({ queryKey: ["awaiting-middle-school"] });
      message.success(p.replayed ? `${p.schoolName}已于此前完成${p.schoolYear}学年升级，未重复升级` : `已升级 ${p.promoted} 人，待分配初中 ${p.awaiting} 人`);
    },
    onError: (err) => setError(errorText(err)),
  });
  const columns: ColumnsType<PromotionPlan["steps"][number]> = [
    { title: "现年级", dataIndex: "from", render: (v: string | null) => v ?? "（未填）" },
    { title: "升级后", dataIndex: "to", render: (v: string | null) => v ?? "不变" },
    { title: "处理", dataIndex: "kind", render: (k: string) => <Tag color={KIND[k]!.color}>{KIND[k]!.label}</Tag> },
    { title: "人数", dataIndex: "count", align: "right" },
  ];
  return (
    <Card title="学年升级">
      <Form layout="inline" style={{ rowGap: 12 }}>
        <Form.Item label="学校" required>
          <Select
            aria-label="学校"
            style={{ minWidth: 220 }}
            placeholder="选择学校"
            value={schoolId}
            onChange={(v) => {
              setSchoolId(v);
              setPlan(undefined);
            }}
            options={(schools.data ?? []).filter((s) => !s.retiredAt).map((s) => ({ value: s.id, label: `${s.name}${s.type ? `（${s.type}）` : ""}` }))}
          />
        </Form.Item>
        <Form.Item label="升入学年" required>
          <Input
            aria-label="升入学年"
            style={{ width: 130 }}
            value={schoolYear}
            onChange={(e) => {
              setSchoolYear(e.target.value);
              setPlan(undefined);
            }}
          />
        </Form.Item>
        <Button disabled={!schoolId} loading={preview.isPending} onClick={() => preview.mutate()}>
          预览
        </Button>
      </Form>
      {error && <Alert style={{ marginTop: 16 }} type="error" showIcon title={error} />}
      {plan && (
        <Flex vertical gap={12} style={{ marginTop: 16 }}>
          {plan.done ? (
            <Alert
              type="info"
              showIcon
              title={`${plan.schoolName}已完成${plan.schoolYear}学年升级`}
              description={`${new Date(plan.done.at).toLocaleString("zh-CN")}，${plan.done.actorName ?? "—"}：升级 ${plan.done.promoted} 人，待分配初中 ${plan.done.awaiting} 人。同一学年不会重复升级。`}
            />
          ) : (
            <>
              <Descriptions size="small" column={{ xs: 2, sm: 4 }} bordered>
                <Descriptions.Item label="升级">{plan.promoted}</Descriptions.Item>
                <Descriptions.Item label="待分配初中">{plan.awaiting}</Descriptions.Item>
                <Descriptions.Item label="毕业">{plan.graduating}</Descriptions.Item>
                <Descriptions.Item label="年级无法识别">{plan.unrecognised}</Descriptions.Item>
              </Descriptions>
              <Table rowKey={(r) => `${r.kind}-${r.from}`} size="small" pagination={false} columns={columns} dataSource={plan.steps} />
              <Space>
                <Button type="primary" loading={promote.isPending} onClick={() => promote.mutate()}>
                  确认升级
                </Button>
                <Typography.Text type="secondary">每名儿童的年级变更都写入档案修改记录；同一学年只升级一次。</Typography.Text>
              </Space>
            </>
          )}
        </Flex>
      )}
    </Card>
  );
}

function AwaitingMiddleSchool() {
  const { message } = App.useApp();
  const { access } = useSession();
  const names = useVillageNames(access.orgUnit);
  const schools = useSchools();
  const qc = useQueryClient();
  const [chosen, setChosen] = useState<Record<string, string>>({});
  const list = useQuery({
    queryKey: ["awaiting-middle-school"],
    queryFn: async () => (await unwrap<{ items: AwaitingChild[] }>(api.GET("/api/v1/children/awaiting-middle-school"))).items,
  });
  const assign = useMutation({
    mutationFn: ({ id, schoolId }: { id: string; schoolId: string }) =>
      unwrap(api.POST("/api/v1/children/{id}/middle-school", { params: { path: { id } }, body: { schoolId } })),
    onSuccess: () => {
      message.success("已分配初中");
      void qc.invalidateQueries({ queryKey: ["awaiting-middle-school"] });
    },
    onError: (err) => message.error(errorText(err)),
  });
  const middle = (schools.data ?? []).filter((s) => !s.retiredAt && (s.type === "初中" || s.type === "九年一贯制"));
  const columns: ColumnsType<AwaitingChild> = [
    { title: "姓名", dataIndex: "name" },
    { title: "村（社区）", dataIndex: "villageCode", render: (v: string) => names.data?.get(v) ?? v, responsive: ["sm"] },
    {
      title: "分配初中",
      key: "assign",
      render: (_, c) => (
        <Space wrap>
          <Select
            aria-label={`${c.name}的初中`}
            style={{ minWidth: 160 }}
            placeholder="选择初中"
            value={chosen[c.id]}
            onChange={(v) => setChosen({ ...chosen, [c.id]: v })}
            options={middle.map((s) => ({ value: s.id, label: s.name }))}
          />
          <Button type="primary" disabled={!chosen[c.id]} onClick={() => assign.mutate({ id: c.id, schoolId: chosen[c.id]! })}>
            分配
          </Button>
        </Space>
      ),
    },
  ];
  return (
    <Card title="待分配初中">
      <Typography.Paragraph type="secondary">小学最高年级升级后在此等待分配初中；分配后年级为七年级。</Typography.Paragraph>
      <Table rowKey="id" size="small" loading={list.isLoading} columns={columns} dataSource={list.data ?? []} locale={{ emptyText: "没有待分配初中的儿童" }} />
    </Card>
  );
}

function Handover() {
  const schools = useSchools();
  const { access } = useSession();
  const names = useVillageNames(access.orgUnit);
  const [form] = Form.useForm<{ schoolId?: string; grade?: string; className?: string }>();
  const [query, setQuery] = useState<{ schoolId: string; grade?: string; className?: string }>();
  const list = useQuery({
    queryKey: ["handover", query],
    enabled: Boolean(query),
    queryFn: () =>
      unwrap<{ school: { id: string; name: string }; items: HandoverItem[] }>(
        api.GET("/api/v1/schools/{id}/handover", {
          params: {
            path: { id: query!.schoolId },
            query: { ...(query!.grade ? { grade: query!.grade } : {}), ...(query!.className ? { className: query!.className } : {}) },
          },
        }),
      ),
  });
  const childIds = list.data?.items.map((c) => c.id) ?? [];
  // Open cases live in visits: asked for by the list's children (at most 500 per call), as the need-to-know table allows.
  const concerns = useQuery({
    queryKey: ["handover", query, "concerns", list.dataUpdatedAt],
    enabled: access.canSeeConcerns && childIds.length > 0,
    queryFn: async () => {
      const parts: ConcernSummary[] = [];
      for (let i = 0; i < childIds.length; i += 500) {
        parts.push(await unwrap<ConcernSummary>(api.POST("/api/v1/concerns/summary", { body: { childIds: childIds.slice(i, i + 500) } })));
      }
      return {
        access: parts[0]!.access,
        byChild: new Map(parts.flatMap((p) => p.items).map((c) => [c.childId, c])),
        total: parts.reduce((t, p) => ({ open: t.open + p.total.open, overdue: t.overdue + p.total.overdue }), { open: 0, overdue: 0 }),
      };
    },
  });
  const perChild = concerns.data && concerns.data.access !== "counts";
  const nowrap = () => ({ style: { whiteSpace: "nowrap" as const } });
  const columns: ColumnsType<HandoverItem> = [
    { title: "姓名", dataIndex: "name", onCell: nowrap },
    { title: "性别", dataIndex: "sex", render: (s: string) => SEX[s] ?? s, responsive: ["md"] },
    { title: "出生日期", dataIndex: "birthDate", responsive: ["md"] },
    { title: "年级班级", key: "class", onCell: nowrap, render: (_, c) => `${c.grade ?? ""}${c.className ?? ""}` },
    { title: "村（社区）", dataIndex: "villageCode", render: (v: string) => names.data?.get(v) ?? v, responsive: ["lg"] },
    { title: "风险", dataIndex: "riskLevel", render: (r: string) => RISK[r] ?? r, responsive: ["sm"] },
    {
      title: "监护人",
      key: "guardian",
      responsive: ["sm"],
      render: (_, c) => (c.guardians?.[0] ? `${c.guardians[0].name}（${c.guardians[0].relation}）${c.guardians[0].phone ?? ""}` : "—"),
    },
    {
      title: "帮扶人",
      key: "helper",
      render: (_, c) => (c.helper ? `${c.helper.name}${c.helper.phone ? ` ${c.helper.phone}` : ""}` : <Tag color="red">未结对</Tag>),
    },
    ...(perChild
      ? [
          {
            title: concerns.data!.access === "own" ? "本人报告的关注事项" : "关注事项",
            key: "concerns",
            render: (_: unknown, c: HandoverItem) => {
              const s = concerns.data!.byChild.get(c.id);
              if (!s) return <Typography.Text type="secondary">无</Typography.Text>;
              return (
                <Space size={[4, 4]} wrap data-testid={`concerns-${c.id}`}>
                  {s.concerns.map((k) => (
                    <Tag key={k.id} color={k.overdue ? "red" : "orange"}>
                      {k.categoryLabel}·{k.statusLabel}
                      {k.overdue ? "·超时" : ""}
                    </Tag>
                  ))}
                </Space>
              );
            },
          },
        ]
      : []),
  ];
  return (
    <Card
      title="交接名单"
      extra={
        list.data && (
          <Button icon={<PrinterOutlined />} onClick={() => window.print()}>
            打印
          </Button>
        )
      }
    >
      <Form
        form={form}
        layout="inline"
        style={{ rowGap: 12 }}
        className="no-print"
        onFinish={(v) => v.schoolId && setQuery({ schoolId: v.schoolId, grade: v.grade?.trim() || undefined, className: v.className?.trim() || undefined })}
      >
        <Form.Item name="schoolId" label="学校" rules={[{ required: true, message: "请选择学校" }]}>
          <Select
            aria-label="交接学校"
            style={{ minWidth: 200 }}
            placeholder="选择学校"
            options={(schools.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
          />
        </Form.Item>
        <Form.Item name="grade" label="年级">
          <Input aria-label="年级" placeholder="如 三年级" style={{ width: 110 }} />
        </Form.Item>
        <Form.Item name="className" label="班级">
          <Input aria-label="班级" placeholder="如 2班" style={{ width: 90 }} />
        </Form.Item>
        <Button htmlType="submit">查询</Button>
      </Form>
      {list.error && <Alert style={{ marginTop: 16 }} type="error" showIcon title={errorText(list.error)} />}
      {list.data && (
        <div style={{ marginTop: 16 }}>
          <Typography.Title level={5}>
            {list.data.school.name} {query?.grade ?? ""}
            {query?.className ?? ""} 交接名单（{list.data.items.length} 人）
          </Typography.Title>
          {concerns.data && (
            <Typography.Paragraph data-testid="handover-concerns">
              {concerns.data.total.open === 0 ? (
                "本名单中的儿童没有未解决的关注事项。"
              ) : (
                <>
                  <Tag color="orange">未解决的关注事项 {concerns.data.total.open} 件</Tag>
                  {concerns.data.total.overdue > 0 && <Tag color="red">其中超时未受理 {concerns.data.total.overdue} 件</Tag>}
                  {concerns.data.access === "own" && "（仅列出本人报告的）"}
                  {concerns.data.access === "counts" && "（督查角色只显示件数）"}
                </>
              )}
            </Typography.Paragraph>
          )}
          {concerns.error && <Alert type="warning" showIcon title={`关注事项暂时无法加载：${errorText(concerns.error)}`} style={{ marginBottom: 8 }} />}
          {query && list.data.items.length > 0 && (
            <div style={{ marginBottom: 12 }}>
              <HandoverPack key={JSON.stringify(query)} schoolId={query.schoolId} grade={query.grade} className={query.className} />
            </div>
          )}
          <Table rowKey="id" size="small" pagination={false} columns={columns} dataSource={list.data.items} />
          <Typography.Paragraph type="secondary" style={{ marginTop: 8 }}>
            未结对的儿童请在“结对帮扶”中安排；关注事项的详情与处理记录请在“关注事项”中按儿童查看。
          </Typography.Paragraph>
        </div>
      )}
    </Card>
  );
}

/** 学年: year-end promotion, middle-school decisions, the 交接 list per class (issue 19.5) and its 交接包 PDF (issue 21.6). */
export default function SchoolYearPage() {
  const { access } = useSession();
  const screens = Grid.useBreakpoint();
  if (!access.canRunSchoolYear && !access.canMakeHandoverPack) return <Navigate to="/" replace />;
  // Teachers get the 交接 tab only (their school's classes); promotion stays with the register's keepers.
  return (
    <Tabs
      size={screens.md ? "middle" : "small"}
      items={[
        ...(access.canRunSchoolYear
          ? [
              { key: "promotion", label: "学年升级", children: <Promotion /> },
              { key: "awaiting", label: "待分配初中", children: <AwaitingMiddleSchool /> },
            ]
          : []),
        { key: "handover", label: "交接名单", children: <Handover /> },
      ]}
    />
  );
}
