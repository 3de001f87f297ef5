import { Alert, Button, Card, Descriptions, Empty, Result, Skeleton, Space, Table, Tabs, Tag, Typography } from "antd";
import { EditOutlined, PlusOutlined, PrinterOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { api, unwrap } from "../../services/client";
import type { Child, HistoryEntry } from "../../services/models";
import { label, riskColor } from "../../services/labels";
import { Field } from "../../components/Masked";
import { useSession } from "../../auth/session";
import { GrowthFile } from "./GrowthFile";
import { ChangeHistory } from "./ChangeHistory";
import { ExitProgramme } from "./ExitProgramme";
import { VisitHistory } from "../visits/VisitHistory";
import { ChildAttachments } from "./ChildAttachments";
import { ChildEnrolment } from "../enrolment/ChildEnrolment";
// Type-only imports inside: the need-to-know table itself, so 无权查看 is told from 未填写.
import { childView } from "../../../../../packages/auth/src/need-to-know";

type Row = Record<string, unknown> & { id?: string };

/** A list from another service's route filtered by childId; failures stay inside the tab. */
function useChildList(path: string, childId: string) {
  return useQuery({
    queryKey: [path, childId],
    retry: false,
    queryFn: async () => {
      const res = await unwrap<{ items: Row[] } | Row[]>(
        // The paths are checked against the schema where used below.
        api.GET(path as "/api/v1/pairings", { params: { query: { childId } } }),
      );
      const rows = Array.isArray(res) ? res : res.items;
      // Every route filters by childId on the server; the check stays as a guard.
      return rows.filter((r) => !("childId" in r) || r.childId === childId);
    },
  });
}

function RemoteTable({
  path,
  childId,
  columns,
}: {
  path: string;
  childId: string;
  columns: { title: string; key: string; render?: (r: Row) => React.ReactNode }[];
}) {
  const q = useChildList(path, childId);
  if (q.isError) return <Alert type="warning" showIcon title={(q.error as Error).message} />;
  return (
    <Table<Row>
      rowKey={(r) => String(r.id ?? JSON.stringify(r))}
      loading={q.isLoading}
      dataSource={q.data ?? []}
      pagination={{ pageSize: 10, hideOnSinglePage: true }}
      scroll={{ x: 600 }}
      locale={{ emptyText: <Empty description="暂无记录" /> }}
      columns={columns.map((c) => ({ title: c.title, key: c.key, render: (_: unknown, r: Row) => (c.render ? c.render(r) : String(r[c.key] ?? "—")) }))}
    />
  );
}

const day = (v: unknown) => (typeof v === "string" ? v.slice(0, 10) : "—");

export default function ChildDetail() {
  const { id = "" } = useParams();
  const { claims, access } = useSession();
  const navigate = useNavigate();
  // The open tab is in the address (?tab=growth), so a link can open the 成长档案 and a reload keeps it.
  const [params, setParams] = useSearchParams();
  // A field the caller's roles do not see (unless paired with the child) comes as null.
  const view = childView({ roles: claims.roles as never }, { paired: false });
  const withheld = (f: keyof typeof view) => view[f] === "none";
  const child = useQuery({ queryKey: ["child", id], queryFn: () => unwrap<Child>(api.GET("/api/v1/children/{id}", { params: { path: { id } } })) });
  const history = useQuery({
    queryKey: ["child-history", id],
    queryFn: () => unwrap<{ items: HistoryEntry[] }>(api.GET("/api/v1/children/{id}/history", { params: { path: { id } } })),
  });
  if (child.isLoading) return <Skeleton active />;
  if (child.isError || !child.data)
    return <Result status="warning" title={(child.error as Error)?.message ?? "无法加载档案"} extra={<Link to="/children">返回列表</Link>} />;
  const c = child.data;

  const tabs = [
    {
      key: "basic",
      label: "基本信息",
      children: (
        <Descriptions bordered column={{ xs: 1, md: 2 }} size="small">
          <Descriptions.Item label="姓名">{c.name}</Descriptions.Item>
          <Descriptions.Item label="身份证号">
            <Field value={c.idNumber} />
          </Descriptions.Item>
          <Descriptions.Item label="性别">{label("sex", c.sex)}</Descriptions.Item>
          <Descriptions.Item label="出生日期">{c.birthDate}</Descriptions.Item>
          <Descriptions.Item label="民族">{c.ethnicity}</Descriptions.Item>
          <Descriptions.Item label="住址">
            <Field value={c.address} withheld={withheld("address")} />
          </Descriptions.Item>
          <Descriptions.Item label="学校">
            {c.schoolName ?? "—"} {c.grade ?? ""} {c.className ?? ""}
          </Descriptions.Item>
          <Descriptions.Item label="留守类型">{label("leftBehindType", c.leftBehindType)}</Descriptions.Item>
          <Descriptions.Item label="困境类别">
            {c.difficultyCategories.length ? c.difficultyCategories.map((d) => <Tag key={d}>{label("difficultyCategory", d)}</Tag>) : "无"}
          </Descriptions.Item>
          <Descriptions.Item label="风险等级">
            <Tag color={riskColor[c.riskLevel]}>{label("riskLevel", c.riskLevel)}</Tag>
          </Descriptions.Item>
          <Descriptions.Item label="状态">
            {label("status", c.status)}
            {c.exitReason ? `（${label("exitReason", c.exitReason)}）` : ""}
          </Descriptions.Item>
          <Descriptions.Item label="健康情况">
            <Field value={c.healthNotes} withheld={withheld("healthNotes")} />
          </Descriptions.Item>
          <Descriptions.Item label="心理情况">
            <Field value={c.psychologicalNotes} withheld={withheld("psychologicalNotes")} />
          </Descriptions.Item>
          <Descriptions.Item label="备注">
            <Field value={c.remarks} withheld={withheld("familyNotes")} />
          </Descriptions.Item>
        </Descriptions>
      ),
    },
    {
      key: "family",
      label: "家庭与监护",
      children: (
        <>
          <Descriptions bordered column={1} size="small" style={{ marginBottom: 16 }}>
            <Descriptions.Item label="家庭情况">
              <Field value={c.familySituation} withheld={withheld("familyNotes")} />
            </Descriptions.Item>
          </Descriptions>
          <Typography.Title level={5}>监护人</Typography.Title>
          <Table
            rowKey={(g) => g.name + g.relation}
            pagination={false}
            size="small"
            dataSource={c.guardians}
            scroll={{ x: 500 }}
            columns={[
              { title: "姓名", dataIndex: "name" },
              { title: "关系", dataIndex: "relation" },
              { title: "电话", dataIndex: "phone", render: (v) => <Field value={v} /> },
              { title: "年龄", dataIndex: "age", render: (v) => v ?? "—" },
              { title: "健康状况", dataIndex: "health", render: (v) => v ?? "—" },
            ]}
          />
          <Typography.Title level={5} style={{ marginTop: 16 }}>
            父母
          </Typography.Title>
          <Table
            rowKey="role"
            pagination={false}
            size="small"
            dataSource={c.parents}
            scroll={{ x: 500 }}
            columns={[
              { title: "", dataIndex: "role", render: (v) => (v === "father" ? "父亲" : "母亲") },
              { title: "姓名", dataIndex: "name", render: (v) => <Field value={v} /> },
              { title: "电话", dataIndex: "phone", render: (v) => <Field value={v} /> },
              { title: "务工地", render: (_, p) => [p.workProvince, p.workCity].filter(Boolean).join(" ") || "—" },
              { title: "外出时间", dataIndex: "awaySince", render: (v) => v ?? "—" },
            ]}
          />
        </>
      ),
    },
    {
      key: "attachments",
      label: "附件",
      children: <ChildAttachments childId={id} />,
    },
    {
      key: "pairing",
      label: "结对帮扶",
      children: (
        <RemoteTable
          path="/api/v1/pairings"
          childId={id}
          columns={[
            {
              title: "类型",
              key: "kindLabel",
              // A mentor's role: 主要帮扶人 or 协助帮扶人 (both may be active at once).
              render: (r) => (r.kind === "mentor" && r.roleLabel ? String(r.roleLabel) : String(r.kindLabel ?? "—")),
            },
            { title: "帮扶人", key: "helper", render: (r) => (r.helper as { name?: string } | undefined)?.name ?? "—" },
            { title: "距离", key: "proximityLabel" },
            { title: "状态", key: "statusLabel" },
            { title: "开始", key: "startDate", render: (r) => day(r.startDate ?? r.proposedAt) },
            {
              title: "结束",
              key: "endDate",
              render: (r) => (r.endDate ? `${day(r.endDate)}${r.endReasonLabel ? `（${String(r.endReasonLabel)}）` : ""}` : "—"),
            },
          ]}
        />
      ),
    },
    {
      key: "visits",
      label: "走访",
      children: (
        <>
          {access.canRecordVisits && c.status === "active" && (
            <Button icon={<PlusOutlined />} onClick={() => void navigate(`/visits/new?childId=${c.id}`)} style={{ marginBottom: 8 }}>
              登记走访
            </Button>
          )}
          <VisitHistory childId={id} />
        </>
      ),
    },
    {
      key: "exams",
      label: "体检",
      children: (
        <RemoteTable
          path="/api/v1/exams"
          childId={id}
          columns={[
            { title: "体检日期", key: "date", render: (r) => day(r.date) },
            { title: "身高(cm)", key: "heightCm" },
            { title: "体重(kg)", key: "weightKg" },
            {
              title: "异常提示",
              key: "flags",
              render: (r) => (Array.isArray(r.flags) && r.flags.length ? (r.flags as { label: string }[]).map((f) => f.label).join("、") : "无"),
            },
          ]}
        />
      ),
    },
    {
      key: "concerns",
      label: "关注事项",
      children: (
        <RemoteTable
          path="/api/v1/concerns"
          childId={id}
          columns={[
            { title: "登记日期", key: "raisedAt", render: (r) => day(r.raisedAt) },
            { title: "类别", key: "categoryLabel" },
            { title: "状态", key: "statusLabel" },
            { title: "说明", key: "description" },
          ]}
        />
      ),
    },
    { key: "growth", label: "成长档案", children: <GrowthFile child={c} /> },
    ...(access.canSeeEnrolment ? [{ key: "enrolment", label: "学籍", children: <ChildEnrolment child={{ id: c.id, name: c.name }} /> }] : []),
    {
      key: "history",
      label: "变更记录",
      children: <ChangeHistory items={history.data?.items ?? []} loading={history.isLoading} error={history.isError ? (history.error as Error) : null} />,
    },
  ];

  return (
    <div>
      <Space wrap style={{ width: "100%", justifyContent: "space-between", marginBottom: 12 }}>
        <Typography.Title level={4} style={{ margin: 0 }}>
          <Link to="/children">儿童档案</Link> / {c.name}
          {c.status === "exited" && <Tag style={{ marginLeft: 8 }}>已退出</Tag>}
        </Typography.Title>
        <Space wrap>
          <Button icon={<PrinterOutlined />} onClick={() => navigate(`/print/cards/${c.id}`)}>
            联系卡
          </Button>
          {access.canEditChildren && (
            <Button type="primary" icon={<EditOutlined />} onClick={() => navigate(`/children/${c.id}/edit`)}>
              编辑
            </Button>
          )}
          {access.canEditChildren && c.status === "active" && <ExitProgramme child={c} />}
        </Space>
      </Space>
      <Card>
        <Tabs items={tabs} activeKey={params.get("tab") ?? tabs[0]!.key} onChange={(tab) => setParams({ tab }, { replace: true })} />
      </Card>
    </div>
  );
}
