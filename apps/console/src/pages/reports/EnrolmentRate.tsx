import { Alert, Card, Space, Statistic, Table, Typography } from "antd";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../services/client";
import type { EnrolmentReport } from "../../services/models";
import { pct } from "./format";

const figureColumns = [
  { title: "6–15周岁建档", dataIndex: "schoolAge", align: "right" as const, responsive: ["sm" as const] },
  { title: "在读", dataIndex: "enrolled", align: "right" as const },
  { title: "入学率", dataIndex: "rate", align: "right" as const, render: (v: number | null) => pct(v) },
  {
    title: "辍学",
    dataIndex: "droppedOut",
    align: "right" as const,
    render: (v: number) => (v > 0 ? <Typography.Text type="danger">{v}</Typography.Text> : v),
  },
  { title: "休学", dataIndex: "suspended", align: "right" as const, responsive: ["md" as const] },
  { title: "转学", dataIndex: "transferredOut", align: "right" as const, responsive: ["md" as const] },
  { title: "未入名单", dataIndex: "unlisted", align: "right" as const, responsive: ["sm" as const] },
];

/** 控辍保学 in the reports: the semester's enrolment rate per sub-unit and school (reporting's read model). */
export function EnrolmentRate({ orgUnit, semester }: { orgUnit: string; semester: string }) {
  const report = useQuery({
    queryKey: ["reports", "enrolment", orgUnit, semester],
    queryFn: () => unwrap<EnrolmentReport>(api.GET("/api/v1/reports/enrolment", { params: { query: { orgUnit, semester } } })),
  });
  const r = report.data;
  return (
    <Card title={`控辍保学 · ${r?.semesterLabel ?? "入学率"}`} style={{ marginTop: 12 }} loading={report.isLoading}>
      {report.error && <Alert type="error" showIcon message={report.error.message} />}
      {r && (
        <>
          <Space size="large" wrap style={{ marginBottom: 12 }}>
            <Statistic title="入学率（在读÷6–15周岁建档儿童）" value={pct(r.total.rate)} />
            <Statistic title="辍学" value={r.total.droppedOut} valueStyle={r.total.droppedOut > 0 ? { color: "#a8071a" } : undefined} />
            <Statistic title="未在任何学校名单中" value={r.total.unlisted} />
          </Space>
          <Table
            size="small"
            rowKey="code"
            aria-label="入学率（按单位）"
            pagination={false}
            dataSource={r.units}
            columns={[{ title: "单位", dataIndex: "name", render: (v: string | null, row) => v ?? row.code }, ...figureColumns]}
          />
          <Typography.Title level={5} style={{ marginTop: 16 }}>
            按学校
          </Typography.Title>
          <Table
            size="small"
            rowKey={(row) => row.schoolId ?? "none"}
            aria-label="入学率（按学校）"
            pagination={false}
            dataSource={r.schools}
            columns={[{ title: "学校", dataIndex: "schoolName" }, ...figureColumns]}
          />
        </>
      )}
    </Card>
  );
}
