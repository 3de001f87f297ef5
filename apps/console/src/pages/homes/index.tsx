import { useState } from "react";
import { Alert, Button, Flex, Segmented, Table, Tag, Typography } from "antd";
import { PlusOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../../services/client";
import { useSession } from "../../auth/session";
import type { ActivityCounts, Site } from "../../services/models";
import { labels } from "../../services/labels";

const KINDS = Object.entries(labels.activityKind) as [keyof typeof labels.activityKind, string][];

/** Activities per township and month (reporting's projection of activity.recorded), for those who read reports. */
function ActivityStats() {
  const counts = useQuery({
    queryKey: ["reports", "activities"],
    retry: false,
    queryFn: () => unwrap<ActivityCounts>(api.GET("/api/v1/reports/activities", { params: { query: { months: 6 } } })),
  });
  if (!counts.data || counts.data.rows.length === 0) return null;
  const groups = new Map<string, { key: string; township: string; month: string; total: number; people: number } & Record<string, number | string>>();
  for (const r of counts.data.rows) {
    const key = `${r.townshipCode} ${r.month}`;
    const g = groups.get(key) ?? { key, township: r.townshipName ?? r.townshipCode, month: r.month, total: 0, people: 0 };
    g[r.kind] = r.sessions;
    g.total += r.sessions;
    g.people += r.attendances;
    groups.set(key, g);
  }
  return (
    <Flex vertical gap={8}>
      <Typography.Title level={5} style={{ margin: 0 }}>
        活动统计（近6个月，按乡镇、月份）
      </Typography.Title>
      <Table
        data-testid="activity-stats"
        rowKey="key"
        size="small"
        dataSource={[...groups.values()].sort((a, b) => b.month.localeCompare(a.month) || a.township.localeCompare(b.township))}
        scroll={{ x: 640 }}
        pagination={{ pageSize: 12, hideOnSinglePage: true }}
        columns={[
          { title: "乡镇", dataIndex: "township", fixed: "left" },
          { title: "月份", dataIndex: "month" },
          ...KINDS.map(([kind, label]) => ({
            title: label,
            key: kind,
            render: (_: unknown, g: Record<string, unknown>) => (g[kind] as number | undefined) ?? 0,
          })),
          { title: "合计（次）", dataIndex: "total" },
          { title: "参加（人次）", dataIndex: "people" },
        ]}
      />
    </Flex>
  );
}

type View = "active" | "stale" | "retired";

/** 儿童之家: the sites in the user's area, with activity in the last 30 days and the ones with none (停摆) flagged. */
export default function Homes() {
  const { access } = useSession();
  const [view, setView] = useState<View>("active");
  const list = useQuery({
    queryKey: ["sites", view],
    queryFn: async () =>
      (
        await unwrap<{ items: Site[] }>(
          api.GET("/api/v1/sites", { params: { query: view === "stale" ? { stale: "true" } : { status: view === "retired" ? "retired" : "active" } } }),
        )
      ).items,
  });
  const stale = useQuery({
    queryKey: ["sites", "stale"],
    queryFn: async () => (await unwrap<{ items: Site[] }>(api.GET("/api/v1/sites", { params: { query: { stale: "true" } } }))).items,
  });
  return (
    <Flex vertical gap={12}>
      <Flex justify="space-between" align="center" wrap gap={8}>
        <Typography.Title level={4} style={{ margin: 0 }}>
          儿童之家
        </Typography.Title>
        {access.canKeepHomes && (
          <Link to="/homes/new">
            <Button type="primary" icon={<PlusOutlined />}>
              新建儿童之家
            </Button>
          </Link>
        )}
      </Flex>
      {(stale.data?.length ?? 0) > 0 && (
        <Alert
          type="warning"
          showIcon
          data-testid="stale-alert"
          title={`${stale.data!.length} 个儿童之家近30天没有开展活动`}
          description={stale.data!.map((s) => s.name).join("、")}
        />
      )}
      <Segmented<View>
        aria-label="筛选"
        value={view}
        onChange={setView}
        options={[
          { value: "active", label: "在用" },
          { value: "stale", label: "停摆（30天无活动）" },
          { value: "retired", label: "已撤销" },
        ]}
      />
      <Table<Site>
        data-testid="sites"
        rowKey="id"
        loading={list.isLoading}
        dataSource={list.data ?? []}
        scroll={{ x: 640 }}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        columns={[
          {
            title: "名称",
            key: "name",
            render: (_, s) => (
              <Flex vertical gap={2}>
                <Link to={`/homes/${s.id}`}>{s.name}</Link>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {s.kind === "school" ? "学校" : "村"} · {s.orgUnitName ?? s.orgUnit}
                </Typography.Text>
              </Flex>
            ),
          },
          { title: "服务儿童", dataIndex: "childCount", width: 90 },
          { title: "近30天活动", dataIndex: "recentSessions", width: 100 },
          {
            title: "最近活动",
            key: "last",
            width: 140,
            render: (_, s) =>
              s.status === "retired" ? <Tag>已撤销</Tag> : s.stale ? <Tag color="red">{s.lastActivity ?? "从未"} · 停摆</Tag> : (s.lastActivity ?? "—"),
          },
        ]}
      />
      {access.canSeeReports && <ActivityStats />}
    </Flex>
  );
}
