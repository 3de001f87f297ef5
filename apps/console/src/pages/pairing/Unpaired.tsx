import { useState } from "react";
import { App, Button, Card, Col, Empty, List, Progress, Row, Statistic, Table, Tag, Typography, type TableColumnsType } from "antd";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../../services/client";
import type { MatchRun, UnpairedPage, UnpairedSummary } from "../../services/models";
import { riskColor } from "../../services/labels";
import { useVillageNames } from "../../services/hooks";
import { useAccess } from "../../auth/session";
import { PairByHandButton } from "./ManualPairing";

type VillageRow = UnpairedSummary["orgUnits"][number];

/** The children of one village still without a mentor: waiting for approval, or why matching found nobody. */
function VillageChildren({ villageCode, canPair }: { villageCode: string; canPair: boolean }) {
  const list = useQuery({
    queryKey: ["unpaired", "children", villageCode],
    queryFn: () => unwrap<UnpairedPage>(api.GET("/api/v1/unpaired-children", { params: { query: { orgUnit: villageCode, limit: 200 } } })),
  });
  return (
    <List
      size="small"
      loading={list.isLoading}
      dataSource={list.data?.items ?? []}
      locale={{ emptyText: "本村儿童均已结对" }}
      renderItem={(c) => (
        <List.Item actions={canPair ? [<PairByHandButton key="pair" child={c} registerName={c.registerMatchIssue ? c.registerHelperName : null} />] : []}>
          <List.Item.Meta
            title={
              <span>
                <Link to={`/children/${c.id}`}>{c.name}</Link> <Tag color={riskColor[c.riskLevel]}>{c.riskLevelLabel}风险</Tag>
                <Tag color={c.proposal ? "blue" : "orange"}>{c.waiting}</Tag>
              </span>
            }
            description={
              <>
                {c.registerHelperName && c.registerMatchIssue && (
                  <div data-testid="register-helper">
                    登记表帮扶人“{c.registerHelperName}” <Tag color="gold">{c.registerMatchIssueLabel}</Tag>
                  </div>
                )}
                {c.proposal ? `建议帮扶人：${c.proposal.helperName}` : (c.note ?? "尚未匹配")}
              </>
            }
          />
        </List.Item>
      )}
    />
  );
}

/**
 * 未结对儿童 by village: how many are registered, paired, waiting for approval, and
 * unmatched (no helper could take them — the village needs another helper). A row
 * opens to the children themselves. Matchers can re-run the optimiser.
 */
export default function Unpaired({ canRunMatching }: { canRunMatching: boolean }) {
  const access = useAccess();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const names = useVillageNames(access.orgUnit);
  const [expanded, setExpanded] = useState<string[]>([]);
  const summary = useQuery({
    queryKey: ["unpaired", "summary"],
    queryFn: () => unwrap<UnpairedSummary>(api.GET("/api/v1/unpaired-children/summary", { params: { query: {} } })),
  });
  const run = useMutation({
    mutationFn: () => unwrap<MatchRun>(api.POST("/api/v1/pairing-runs", { body: { orgUnit: access.orgUnit } })),
    onSuccess: (r) => {
      void message.success(`匹配完成：新增建议 ${r.proposed} 条，仍有 ${r.unmatched} 名儿童未能匹配`);
      void queryClient.invalidateQueries({ queryKey: ["unpaired"] });
      void queryClient.invalidateQueries({ queryKey: ["pairings"] });
    },
    onError: (err) => void message.error(err.message),
  });
  const totals = summary.data?.totals;
  const coverage = totals && totals.children ? Math.round((totals.paired / totals.children) * 100) : 0;
  const rows = (summary.data?.orgUnits ?? []).filter((r) => r.proposed + r.unmatched + r.registerUnmatched > 0 || r.children === 0);
  const columns: TableColumnsType<VillageRow> = [
    { title: "村（社区）", key: "village", render: (_, r) => names.data?.get(r.villageCode) ?? r.villageCode },
    { title: "在册", dataIndex: "children", responsive: ["md"] },
    { title: "已结对", dataIndex: "paired", responsive: ["md"] },
    { title: "待审批", dataIndex: "proposed", render: (n: number) => (n ? <Tag color="blue">{n}</Tag> : 0) },
    { title: "未能匹配", dataIndex: "unmatched", render: (n: number) => (n ? <Tag color="orange">{n}</Tag> : 0) },
    {
      title: "登记表帮扶人待定",
      dataIndex: "registerUnmatched",
      responsive: ["md"],
      render: (n: number) => (n ? <Tag color="gold">{n}</Tag> : 0),
    },
    {
      title: "结对率",
      key: "rate",
      render: (_, r) => {
        const rate = r.children ? Math.round((r.paired / r.children) * 100) : 0;
        return <Progress percent={rate} size="small" style={{ minWidth: 90 }} aria-label={`结对率 ${rate}%`} />;
      },
    },
  ];
  return (
    <div data-testid="unpaired">
      <Row gutter={[16, 16]} style={{ marginBottom: 16 }}>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title="在册儿童" value={totals?.children ?? "…"} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title="已结对" value={totals?.paired ?? "…"} suffix={totals ? `（${coverage}%）` : undefined} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title="待审批" value={totals?.proposed ?? "…"} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title="未能匹配" value={totals?.unmatched ?? "…"} valueStyle={totals?.unmatched ? { color: "#ad4e00" } : undefined} />
          </Card>
        </Col>
      </Row>
      {canRunMatching && access.orgLevel !== "village" && (
        <div style={{ marginBottom: 12 }}>
          <Button onClick={() => run.mutate()} loading={run.isPending}>
            重新匹配
          </Button>
          <Typography.Text type="secondary" style={{ marginLeft: 8 }}>
            为辖区内未结对的儿童重新生成结对建议（已有建议保留）
          </Typography.Text>
        </div>
      )}
      <Table<VillageRow>
        rowKey="villageCode"
        size="middle"
        loading={summary.isLoading}
        columns={columns}
        dataSource={rows}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        locale={{ emptyText: <Empty description={summary.data ? "辖区内儿童均已结对" : "暂无数据"} /> }}
        expandable={{
          // The rows' own `children` is a count, not nested rows.
          childrenColumnName: "subRows",
          expandedRowKeys: expanded,
          onExpandedRowsChange: (keys) => setExpanded(keys as string[]),
          expandedRowRender: (r) => <VillageChildren villageCode={r.villageCode} canPair={access.canApprovePairings} />,
          expandRowByClick: true,
        }}
      />
    </div>
  );
}
