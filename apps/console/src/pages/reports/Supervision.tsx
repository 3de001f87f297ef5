import { Alert, Table, Tabs, Tag } from "antd";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap } from "../../services/client";
import type { Supervision } from "../../services/models";
import { useVillageNames } from "../../services/hooks";
import { label, labels, riskColor } from "../../services/labels";
import { ExportButton } from "./ExportButton";

/** A township's 督导报告: who is unpaired, overdue, unexamined, and the concerns still open, oldest first. */
export function SupervisionReport({ township }: { township: string }) {
  const report = useQuery({
    queryKey: ["reports", "supervision", township],
    queryFn: () => unwrap<Supervision>(api.GET("/api/v1/reports/supervision", { params: { query: { orgUnit: township } } })),
  });
  const names = useVillageNames(township);
  const village = (code: string) => names.data?.get(code) ?? code;
  if (report.isError) return <Alert type="error" showIcon message={(report.error as Error).message} />;
  const r = report.data;
  const child = (id: string, name: string) => <Link to={`/children/${id}`}>{name}</Link>;
  return (
    <div data-testid="supervision">
      <div style={{ marginBottom: 12 }}>
        <ExportButton report="supervision" orgUnit={township} label="导出督导报告" />
      </div>
      <Tabs
        items={[
          {
            key: "unpaired",
            label: `未结对（${r?.unpaired.length ?? "…"}）`,
            children: (
              <Table
                rowKey="id"
                size="small"
                loading={report.isLoading}
                dataSource={r?.unpaired}
                pagination={{ pageSize: 20, hideOnSinglePage: true }}
                columns={[
                  { title: "姓名", key: "name", render: (_, c) => child(c.id, c.name) },
                  { title: "村", dataIndex: "villageCode", render: village },
                  { title: "留守类型", dataIndex: "leftBehindType", render: (v: string) => label("leftBehindType", v) },
                  { title: "风险", dataIndex: "riskLevel", render: (v: string) => <Tag color={riskColor[v]}>{label("riskLevel", v)}</Tag> },
                ]}
              />
            ),
          },
          {
            key: "overdue",
            label: `逾期未访（${r?.overdue.length ?? "…"}）`,
            children: (
              <Table
                rowKey={(o) => `${o.childId}-${o.kind}-${o.period}`}
                size="small"
                loading={report.isLoading}
                dataSource={r?.overdue}
                pagination={{ pageSize: 20, hideOnSinglePage: true }}
                columns={[
                  { title: "姓名", key: "name", render: (_, o) => child(o.childId, o.name) },
                  { title: "村", dataIndex: "villageCode", render: village },
                  { title: "走访方式", dataIndex: "kind", render: (v: string) => label("visitKind", v) },
                  { title: "周期", dataIndex: "period" },
                  { title: "应访日期", dataIndex: "dueDate", render: (v: string | null) => v ?? "—" },
                  { title: "", dataIndex: "escalated", render: (v: boolean) => (v ? <Tag color="red">已升级</Tag> : null) },
                ]}
              />
            ),
          },
          {
            key: "unexamined",
            label: `今年未体检（${r?.unexamined.length ?? "…"}）`,
            children: (
              <Table
                rowKey="id"
                size="small"
                loading={report.isLoading}
                dataSource={r?.unexamined}
                pagination={{ pageSize: 20, hideOnSinglePage: true }}
                columns={[
                  { title: "姓名", key: "name", render: (_, c) => child(c.id, c.name) },
                  { title: "村", dataIndex: "villageCode", render: village },
                ]}
              />
            ),
          },
          {
            key: "concerns",
            label: `在办关注事项（${r?.openConcerns.length ?? "…"}）`,
            children: (
              <Table
                rowKey="id"
                size="small"
                loading={report.isLoading}
                dataSource={r?.openConcerns}
                pagination={{ pageSize: 20, hideOnSinglePage: true }}
                columns={[
                  { title: "姓名", key: "name", render: (_, c) => child(c.childId, c.childName) },
                  { title: "村", dataIndex: "villageCode", render: village },
                  { title: "类别", dataIndex: "category", render: (v: string) => (labels.concernCategory as Record<string, string>)[v] ?? v },
                  {
                    title: "已开天数",
                    dataIndex: "ageDays",
                    render: (v: number | null, c) => (
                      <span style={{ color: (v ?? 0) > 30 ? "#cf1322" : undefined }}>
                        {v ?? "—"}
                        {c.escalated ? " · 已升级" : ""}
                      </span>
                    ),
                  },
                ]}
              />
            ),
          },
        ]}
      />
    </div>
  );
}
