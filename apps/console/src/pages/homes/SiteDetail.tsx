import { useState } from "react";
import { App, Button, Card, Descriptions, Empty, Flex, Input, List, Modal, Result, Skeleton, Space, Table, Tabs, Tag, Typography } from "antd";
import { EditOutlined, PlusOutlined } from "@ant-design/icons";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { SessionPhotos } from "./SessionPhotos";
import { Link, useParams } from "react-router";
import { api, ApiError, unwrap } from "../../services/client";
import { useSession } from "../../auth/session";
import type { Session, SiteDetail as Detail } from "../../services/models";

const ACTION: Record<string, string> = { created: "新建", updated: "修改", retired: "撤销" };
const FIELD: Record<string, string> = {
  name: "名称",
  room: "活动室",
  equipment: "设施",
  openingHours: "开放时间",
  adults: "负责人",
  rules: "制度",
  plan: "三年规划",
};
const kindColor: Record<string, string> = { tutoring: "blue", counselling: "purple", safety: "red", family_call: "green", recreation: "orange" };

function describe(h: Detail["history"][number]): string {
  const c = (h.changes ?? {}) as { fields?: Record<string, unknown>; childrenAdded?: number; childrenRemoved?: number; reason?: string; children?: number };
  if (h.action === "created") return `服务儿童 ${c.children ?? 0} 名`;
  if (h.action === "retired") return `原因：${c.reason ?? ""}`;
  const parts = Object.keys(c.fields ?? {}).map((f) => FIELD[f] ?? f);
  if (c.childrenAdded) parts.push(`新增儿童 ${c.childrenAdded} 名`);
  if (c.childrenRemoved) parts.push(`移除儿童 ${c.childrenRemoved} 名`);
  return parts.join("、");
}

function Retire({ site, open, onClose }: { site: Detail; open: boolean; onClose: () => void }) {
  const { message } = App.useApp();
  const qc = useQueryClient();
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const retire = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/sites/{id}/retire", { params: { path: { id: site.id } }, body: { reason } })),
    onSuccess: () => {
      message.success("已撤销");
      void qc.invalidateQueries({ queryKey: ["site", site.id] });
      void qc.invalidateQueries({ queryKey: ["sites"] });
      onClose();
    },
    onError: (err) => setError(err instanceof ApiError && err.fieldIssues[0] ? err.fieldIssues[0].message : (err as Error).message),
  });
  return (
    <Modal
      title={`撤销 ${site.name}`}
      open={open}
      onCancel={onClose}
      okText="撤销"
      okButtonProps={{ danger: true }}
      confirmLoading={retire.isPending}
      onOk={() => retire.mutate()}
    >
      <Typography.Paragraph type="secondary">撤销后不能再登记活动，已有记录保留。</Typography.Paragraph>
      <Input.TextArea aria-label="撤销原因" rows={3} maxLength={500} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="撤销原因" />
      {error && <Typography.Text type="danger">{error}</Typography.Text>}
    </Modal>
  );
}

/** A site: what it holds, whom it serves (with attendance per child), its sessions, counts per kind and its history. */
export default function SiteDetail() {
  const { id } = useParams();
  const { access } = useSession();
  const [retiring, setRetiring] = useState(false);
  const site = useQuery({ queryKey: ["site", id], queryFn: () => unwrap<Detail>(api.GET("/api/v1/sites/{id}", { params: { path: { id: id! } } })) });
  const sessions = useQuery({
    queryKey: ["site", id, "sessions"],
    queryFn: async () => (await unwrap<{ items: Session[] }>(api.GET("/api/v1/sites/{id}/sessions", { params: { path: { id: id! } } }))).items,
  });
  if (site.isLoading) return <Skeleton active />;
  if (site.isError || !site.data) return <Result status="404" title="找不到该儿童之家" extra={<Link to="/homes">返回列表</Link>} />;
  const s = site.data;
  const active = s.status === "active";

  return (
    <Flex vertical gap={12}>
      <Flex justify="space-between" align="center" wrap gap={8}>
        <Space wrap>
          <Typography.Title level={4} style={{ margin: 0 }}>
            {s.name}
          </Typography.Title>
          {!active && <Tag>已撤销</Tag>}
          {s.stale && <Tag color="red">停摆：30天无活动</Tag>}
        </Space>
        {access.canKeepHomes && active && (
          <Space wrap>
            <Link to={`/homes/${s.id}/session`}>
              <Button type="primary" icon={<PlusOutlined />}>
                登记活动
              </Button>
            </Link>
            <Link to={`/homes/${s.id}/edit`}>
              <Button icon={<EditOutlined />}>编辑</Button>
            </Link>
            <Button danger onClick={() => setRetiring(true)}>
              撤销
            </Button>
          </Space>
        )}
      </Flex>
      <Flex gap={8} wrap data-testid="site-stats">
        <Card size="small">
          服务儿童 <Typography.Text strong>{s.childCount}</Typography.Text> 名
        </Card>
        <Card size="small">
          活动 <Typography.Text strong>{s.sessionCount}</Typography.Text> 次（近30天 {s.recentSessions}）
        </Card>
        {s.perKind.map((k) => (
          <Card size="small" key={k.kind}>
            {k.kindLabel} <Typography.Text strong>{k.sessions}</Typography.Text> 次 · {k.attendances} 人次
          </Card>
        ))}
      </Flex>
      <Tabs
        items={[
          {
            key: "sessions",
            label: `活动记录（${sessions.data?.length ?? 0}）`,
            children: (
              <List<Session>
                data-testid="sessions"
                loading={sessions.isLoading}
                dataSource={sessions.data ?? []}
                locale={{ emptyText: <Empty description="还没有活动记录" /> }}
                renderItem={(x) => (
                  <List.Item>
                    <Flex vertical gap={4} style={{ width: "100%" }}>
                      <Space wrap>
                        <Typography.Text strong>{x.date}</Typography.Text>
                        <Tag color={kindColor[x.kind]}>{x.kindLabel}</Tag>
                        <Typography.Text type="secondary">组织：{x.leader}</Typography.Text>
                        <Typography.Text type="secondary">参加 {x.attendanceCount} 人</Typography.Text>
                      </Space>
                      {x.summary && <Typography.Paragraph style={{ margin: 0 }}>{x.summary}</Typography.Paragraph>}
                      {x.attendance.length > 0 && (
                        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                          签到：{x.attendance.map((a) => a.name).join("、")}
                        </Typography.Text>
                      )}
                      <SessionPhotos siteId={id!} sessionId={x.id} photos={x.photos} canAdd={access.canKeepHomes && active} />
                    </Flex>
                  </List.Item>
                )}
              />
            ),
          },
          {
            key: "children",
            label: `服务儿童（${s.children.length}）`,
            children: (
              <Table
                data-testid="site-children"
                rowKey="id"
                size="small"
                dataSource={s.children}
                pagination={{ pageSize: 50, hideOnSinglePage: true }}
                columns={[
                  { title: "姓名", key: "name", render: (_, c) => <Link to={`/children/${c.id}`}>{c.name}</Link> },
                  { title: "出生日期", dataIndex: "birthDate", render: (v: string | null) => v ?? "—" },
                  { title: "参加活动", dataIndex: "attended", render: (v: number) => `${v ?? 0} 次` },
                ]}
              />
            ),
          },
          {
            key: "info",
            label: "基本情况",
            children: (
              <Descriptions bordered column={{ xs: 1, md: 2 }} size="small">
                <Descriptions.Item label="设在">
                  {s.kind === "school" ? "学校" : "村"} · {s.orgUnitName ?? s.orgUnit}
                  {s.schoolId ? ` · ${s.schoolId}` : ""}
                </Descriptions.Item>
                <Descriptions.Item label="活动室">{s.room ?? "—"}</Descriptions.Item>
                <Descriptions.Item label="开放时间">{s.openingHours ?? "—"}</Descriptions.Item>
                <Descriptions.Item label="设施">
                  {s.equipment.map((e) => (
                    <Tag key={e}>{e}</Tag>
                  ))}
                </Descriptions.Item>
                <Descriptions.Item label="制度">
                  {s.rules.map((e) => (
                    <Tag key={e} color="blue">
                      {e}
                    </Tag>
                  ))}
                </Descriptions.Item>
                <Descriptions.Item label="负责人">
                  {s.adults.map((a) => `${a.name}（${a.duty}${a.phone ? ` ${a.phone}` : ""}）`).join("；") || "—"}
                </Descriptions.Item>
                <Descriptions.Item label="三年规划" span={2}>
                  <Typography.Paragraph style={{ whiteSpace: "pre-wrap", margin: 0 }}>{s.plan ?? "—"}</Typography.Paragraph>
                </Descriptions.Item>
              </Descriptions>
            ),
          },
          {
            key: "history",
            label: "变更记录",
            children: (
              <Table
                rowKey="id"
                size="small"
                dataSource={s.history}
                pagination={false}
                columns={[
                  { title: "时间", dataIndex: "at", render: (v: string) => new Date(v).toLocaleString("zh-CN") },
                  { title: "操作", dataIndex: "action", render: (v: string) => ACTION[v] ?? v },
                  { title: "内容", key: "what", render: (_, h) => describe(h) },
                  { title: "操作人", dataIndex: "actorName" },
                ]}
              />
            ),
          },
        ]}
      />
      {active && <Retire site={s} open={retiring} onClose={() => setRetiring(false)} />}
    </Flex>
  );
}
