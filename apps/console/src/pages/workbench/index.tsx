import { Card, Col, List, Row, Statistic, Tag, Typography } from "antd";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../../services/client";
import type { Child, InboxMessage, Page } from "../../services/models";
import { useSession } from "../../auth/session";
import { label, riskColor } from "../../services/labels";

/** Counts come from the list routes themselves (limit 1 … the page size is the count cap). */
function useCount(query: Record<string, string>) {
  return useQuery({
    queryKey: ["children-count", query],
    queryFn: async () => {
      let n = 0;
      let cursor: string | undefined;
      // Counts by paging the registry list (at most 5 pages of 100) — no count route exists yet.
      for (let i = 0; i < 5; i++) {
        const page = await unwrap<Page<Child>>(api.GET("/api/v1/children", { params: { query: { ...query, limit: 100, ...(cursor ? { cursor } : {}) } } }));
        n += page.items.length;
        if (!page.nextCursor) return { n, more: false };
        cursor = page.nextCursor;
      }
      return { n, more: true };
    },
  });
}

export default function Workbench() {
  const { claims, access } = useSession();
  const all = useCount({ status: "active" });
  const high = useCount({ status: "active", riskLevel: "high" });
  const both = useCount({ status: "active", leftBehindType: "both_parents_away" });
  const highList = useQuery({
    queryKey: ["children", "high-risk-todo"],
    queryFn: () => unwrap<Page<Child>>(api.GET("/api/v1/children", { params: { query: { status: "active", riskLevel: "high", limit: 8 } } })),
  });
  const inbox = useQuery({
    queryKey: ["inbox", "todo"],
    retry: false,
    queryFn: () => unwrap<{ unread: number; items: InboxMessage[] }>(api.GET("/api/v1/inbox", { params: { query: { unread: "true", limit: 5 } } })),
  });
  const fmt = (q: typeof all) => (q.data ? `${q.data.n}${q.data.more ? "+" : ""}` : q.isError ? "—" : "…");
  return (
    <div>
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        工作台
      </Typography.Title>
      <Typography.Paragraph type="secondary">
        {claims.name || claims.username}，您好。您以「{access.roleLabel}」身份查看本辖区的数据。
      </Typography.Paragraph>
      <Row gutter={[16, 16]}>
        <Col xs={8}>
          <Card>
            <Statistic title="在册儿童" value={fmt(all)} data-testid="count-active" />
          </Card>
        </Col>
        <Col xs={8}>
          <Card>
            <Statistic title="高风险儿童" value={fmt(high)} valueStyle={{ color: "#cf1322" }} />
          </Card>
        </Col>
        <Col xs={8}>
          <Card>
            <Statistic title="双留守儿童" value={fmt(both)} />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title="待关注：高风险儿童" extra={<Link to="/children?riskLevel=high">查看全部</Link>}>
            <List
              loading={highList.isLoading}
              dataSource={highList.data?.items ?? []}
              locale={{ emptyText: "暂无高风险儿童" }}
              renderItem={(c) => (
                <List.Item extra={<Tag color={riskColor[c.riskLevel]}>{label("riskLevel", c.riskLevel)}风险</Tag>}>
                  <Link to={`/children/${c.id}`}>{c.name}</Link>
                  <Typography.Text type="secondary" style={{ marginLeft: 8 }}>
                    {label("leftBehindType", c.leftBehindType)}
                  </Typography.Text>
                </List.Item>
              )}
            />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title="未读消息">
            <List
              loading={inbox.isLoading}
              dataSource={inbox.data?.items ?? []}
              locale={{ emptyText: inbox.isError ? "消息服务暂不可用" : "没有未读消息" }}
              renderItem={(m) => (
                <List.Item>
                  {m.urgent && <Tag color="red">紧急</Tag>}
                  {m.title}
                </List.Item>
              )}
            />
          </Card>
        </Col>
      </Row>
    </div>
  );
}
