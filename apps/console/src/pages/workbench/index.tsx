import { Badge, Card, Col, List, Row, Statistic, Tag, Typography } from "antd";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../../services/client";
import type { ChildCounts, ChildPage, ImportBatchList, InboxPage, UnpairedSummary } from "../../services/models";
import { useSession } from "../../auth/session";
import { label, riskColor } from "../../services/labels";

/** One to-do line: what is waiting, how many, where to act. Unavailable services show 暂不可用, not zero. */
function Todo({ title, count, to, error, testId }: { title: string; count: number | undefined; to: string; error: boolean; testId: string }) {
  return (
    <List.Item
      data-testid={testId}
      extra={error ? <Typography.Text type="secondary">暂不可用</Typography.Text> : <Badge count={count ?? 0} showZero color={count ? "#cf1322" : "#8c8c8c"} />}
    >
      <Link to={to}>{title}</Link>
    </List.Item>
  );
}

/**
 * 工作台: what this person must do today — proposals to approve, children nobody could
 * be matched with, import batches with rejected rows, unread notices — as far as their
 * role reaches, and the key counts of their jurisdiction.
 */
export default function Workbench() {
  const { claims, access } = useSession();
  const counts = useQuery({ queryKey: ["children-counts"], queryFn: () => unwrap<ChildCounts>(api.GET("/api/v1/children/counts")) });
  const pairing = useQuery({
    queryKey: ["unpaired", "summary"],
    enabled: access.canSeePairing,
    retry: false,
    queryFn: () => unwrap<UnpairedSummary>(api.GET("/api/v1/unpaired-children/summary", { params: { query: {} } })),
  });
  const imports = useQuery({
    queryKey: ["imports", "recent"],
    enabled: access.canImport,
    retry: false,
    queryFn: () => unwrap<ImportBatchList>(api.GET("/api/v1/imports")),
  });
  const inbox = useQuery({
    queryKey: ["inbox", "todo"],
    retry: false,
    queryFn: () => unwrap<InboxPage>(api.GET("/api/v1/inbox", { params: { query: { unread: "true", limit: 5 } } })),
  });
  const highList = useQuery({
    queryKey: ["children", "high-risk-todo"],
    enabled: !access.readOnly,
    queryFn: () => unwrap<ChildPage>(api.GET("/api/v1/children", { params: { query: { status: "active", riskLevel: "high", limit: 8 } } })),
  });
  const withRejections = (imports.data?.items ?? []).filter((b) => b.status === "completed" && b.rejectedRows > 0);
  const totals = pairing.data?.totals;
  const coverage = totals?.children ? Math.round((totals.paired / totals.children) * 100) : null;
  const value = (n: number | undefined, failed: boolean) => (n !== undefined ? n : failed ? "—" : "…");

  return (
    <div>
      <Typography.Title level={4} style={{ marginTop: 0 }}>
        工作台
      </Typography.Title>
      <Typography.Paragraph type="secondary">
        {claims.name || claims.username}，您好。您以「{access.roleLabel}」身份查看本辖区的数据。
      </Typography.Paragraph>
      <Row gutter={[16, 16]}>
        <Col xs={12} md={6}>
          <Card>
            <Statistic title="在册儿童" value={value(counts.data?.active, counts.isError)} data-testid="count-active" />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card>
            <Statistic
              title="高风险儿童"
              value={value(counts.data ? (counts.data.byRiskLevel.high ?? 0) : undefined, counts.isError)}
              valueStyle={{ color: "#cf1322" }}
            />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card>
            <Statistic title="双留守儿童" value={value(counts.data ? (counts.data.byLeftBehindType.both_parents_away ?? 0) : undefined, counts.isError)} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card>
            <Statistic title="结对率" value={coverage ?? (pairing.isError || !access.canSeePairing ? "—" : "…")} suffix={coverage !== null ? "%" : undefined} />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title="今日待办" data-testid="todos">
            <List
              dataSource={[
                access.canApprovePairings && {
                  title: "待审批的结对建议",
                  count: totals?.proposed,
                  to: "/pairing?tab=proposals",
                  error: pairing.isError,
                  testId: "todo-proposals",
                },
                access.canSeePairing &&
                  !access.readOnly && {
                    title: "未能匹配帮扶人的儿童",
                    count: totals?.unmatched,
                    to: "/pairing?tab=unpaired",
                    error: pairing.isError,
                    testId: "todo-unmatched",
                  },
                access.canImport && {
                  title: "有未导入行的导入批次",
                  count: imports.data ? withRejections.length : undefined,
                  to: "/imports",
                  error: imports.isError,
                  testId: "todo-imports",
                },
                { title: "未读消息", count: inbox.data?.unread, to: "/inbox", error: inbox.isError, testId: "todo-inbox" },
              ].filter((t) => t !== false)}
              renderItem={(t) => <Todo {...t} />}
            />
          </Card>
        </Col>
        {!access.readOnly && (
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
        )}
      </Row>
    </div>
  );
}
