import { useState } from "react";
import { Breadcrumb, Card, Col, DatePicker, Empty, Result, Row, Segmented, Select, Space, Statistic, Table, Typography } from "antd";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import dayjs, { type Dayjs } from "dayjs";
import { api, unwrap } from "../../services/client";
import type { Drilldown, Figures, Overview, Trend } from "../../services/models";
import { useAccess } from "../../auth/session";
import { useOrgUnit } from "../../services/hooks";
import { Chart } from "../../components/Chart";
import { ExportButton } from "./ExportButton";
import { SupervisionReport } from "./Supervision";
import { ParentCallsCard } from "./ParentCalls";
import { EnrolmentRate } from "./EnrolmentRate";
import { flagLabel, pct, recentSemesters } from "./format";
import { contains, countyOf, orgLevel, townshipOf } from "../../services/org-units";

type SchoolRow = Extract<Drilldown["rows"][number], { schoolId: string }>;

/**
 * 统计报表: the county's (or the user's own area's) figures from reporting's read models —
 * pairing coverage, visit punctuality by month, open concerns by age, check-up coverage and
 * findings — with drill-down county → township → village by clicking a bar or a row, schools
 * of a township, the township's 督导报告 and .xlsx exports (background job, progress, download).
 */
export default function ReportsPage() {
  const access = useAccess();
  const [unit, setUnit] = useState(access.orgUnit);
  const [month, setMonth] = useState<Dayjs>(dayjs());
  const [view, setView] = useState<"units" | "schools" | "supervision">("units");
  const m = month.format("YYYY-MM");
  const [semesters] = useState(() => recentSemesters(dayjs().format("YYYY-MM-DD")));
  const [semester, setSemester] = useState(semesters[0]!.value);
  const overview = useQuery({
    queryKey: ["reports", "overview", unit, m],
    enabled: access.canSeeReports,
    placeholderData: keepPreviousData,
    queryFn: () => unwrap<Overview>(api.GET("/api/v1/reports/overview", { params: { query: { orgUnit: unit, month: m } } })),
  });
  const trend = useQuery({
    queryKey: ["reports", "trend", unit, m],
    enabled: access.canSeeReports,
    placeholderData: keepPreviousData,
    queryFn: () => unwrap<Trend>(api.GET("/api/v1/reports/trend", { params: { query: { orgUnit: unit, month: m, months: 12 } } })),
  });
  const township = orgLevel(unit) === "township";
  const schools = useQuery({
    queryKey: ["reports", "schools", unit, m],
    enabled: access.canSeeReports && township && view === "schools",
    queryFn: () => unwrap<Drilldown>(api.GET("/api/v1/reports/drilldown", { params: { query: { orgUnit: unit, by: "school", month: m } } })),
  });
  if (!access.canSeeReports) return <Result status="403" title="当前角色无权查看统计报表" />;

  const drill = (code: string) => {
    if (code !== unit && contains(unit, code) && orgLevel(code)) {
      setUnit(code);
      setView("units");
    }
  };
  const rows = overview.data?.rows ?? [];
  const total = overview.data?.total;
  const canDrill = orgLevel(unit) !== "village";

  return (
    <div>
      <Space wrap style={{ justifyContent: "space-between", width: "100%", marginBottom: 12 }}>
        <Typography.Title level={4} style={{ margin: 0 }}>
          统计报表
        </Typography.Title>
        <Space wrap>
          <DatePicker
            picker="month"
            value={month}
            allowClear={false}
            aria-label="统计月份"
            disabledDate={(d) => d.isAfter(dayjs(), "month")}
            onChange={(d) => d && setMonth(d)}
          />
          <ExportButton report="overview" orgUnit={unit} month={m} label="导出统计表" />
          <Select aria-label="工作总结学期" value={semester} onChange={setSemester} options={semesters} style={{ width: 230 }} />
          <ExportButton key={`${unit}|${semester}`} report="work_summary" orgUnit={unit} semester={semester} label="生成工作总结" />
        </Space>
      </Space>
      <UnitPath from={access.orgUnit} to={unit} onPick={setUnit} />

      <Row gutter={[12, 12]} style={{ margin: "12px 0" }} data-testid="report-kpis">
        <Kpi title="在册儿童" value={total?.children} />
        <Kpi title="结对覆盖率" value={pct(total?.mentorCoverage)} />
        <Kpi title={`${month.format("M")}月走访及时率`} value={pct(total?.visits.punctuality)} />
        <Kpi title="在办关注事项" value={total?.concerns.open} suffix={total?.concerns.escalated ? `（已升级 ${total.concerns.escalated}）` : undefined} />
        <Kpi title={`${month.format("YYYY")}年体检覆盖率`} value={pct(total?.checkups.coverage)} />
        <Kpi title="体检异常（人次）" value={total ? Object.values(total.checkups.flags).reduce((a, b) => a + b, 0) : undefined} />
      </Row>

      <Row gutter={[12, 12]}>
        <Col xs={24} lg={12}>
          <Card title="结对覆盖率" size="small">
            <Chart
              testId="chart-coverage"
              label={`各${childLevel(unit)}结对覆盖率`}
              onSelect={canDrill ? (_, i) => rows[i] && drill(rows[i].code) : undefined}
              option={{
                tooltip: { trigger: "axis", valueFormatter: (v) => `${v}%` },
                grid: { left: 48, right: 16, top: 16, bottom: 56 },
                xAxis: { type: "category", data: rows.map((r) => r.name), axisLabel: { rotate: rows.length > 6 ? 30 : 0 } },
                yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
                series: [{ type: "bar", name: "结对覆盖率", data: rows.map((r) => percent(r.mentorCoverage)), cursor: canDrill ? "pointer" : "default" }],
              }}
            />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title="走访及时率（近12个月）" size="small">
            <Chart
              testId="chart-punctuality"
              label="近12个月走访及时率与走访记录数"
              option={{
                tooltip: { trigger: "axis" },
                legend: { bottom: 0 },
                grid: { left: 48, right: 48, top: 16, bottom: 56 },
                xAxis: { type: "category", data: (trend.data?.months ?? []).map((t) => t.month.slice(2).replace("-", "/")) },
                yAxis: [
                  { type: "value", name: "及时率", max: 100, axisLabel: { formatter: "{value}%" } },
                  { type: "value", name: "记录", minInterval: 1 },
                ],
                series: [
                  { type: "line", name: "及时率", data: (trend.data?.months ?? []).map((t) => percent(t.punctuality)), connectNulls: true },
                  { type: "bar", name: "走访记录", yAxisIndex: 1, data: (trend.data?.months ?? []).map((t) => t.visitRecords) },
                  { type: "bar", name: "逾期", yAxisIndex: 1, data: (trend.data?.months ?? []).map((t) => t.missed) },
                ],
              }}
            />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title="在办关注事项（按已开时长）" size="small">
            <Chart
              testId="chart-concerns"
              label={`各${childLevel(unit)}在办关注事项按已开时长`}
              onSelect={canDrill ? (_, i) => rows[i] && drill(rows[i].code) : undefined}
              option={{
                tooltip: { trigger: "axis" },
                legend: { bottom: 0 },
                grid: { left: 40, right: 16, top: 16, bottom: 72 },
                xAxis: { type: "category", data: rows.map((r) => r.name), axisLabel: { rotate: rows.length > 6 ? 30 : 0 } },
                yAxis: { type: "value", minInterval: 1 },
                series: [
                  { type: "bar", stack: "age", name: "7天内", data: rows.map((r) => r.concerns.age?.upTo7Days ?? 0) },
                  { type: "bar", stack: "age", name: "8–30天", data: rows.map((r) => r.concerns.age?.upTo30Days ?? 0), itemStyle: { color: "#ad6800" } },
                  { type: "bar", stack: "age", name: "超过30天", data: rows.map((r) => r.concerns.age?.over30Days ?? 0), itemStyle: { color: "#cf1322" } },
                ],
              }}
            />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card title={`${month.format("YYYY")}年体检：覆盖率与异常结果`} size="small">
            <Row gutter={8}>
              <Col xs={24} md={12}>
                <Chart
                  testId="chart-checkups"
                  label={`各${childLevel(unit)}体检覆盖率`}
                  onSelect={canDrill ? (_, i) => rows[i] && drill(rows[i].code) : undefined}
                  option={{
                    tooltip: { trigger: "axis", valueFormatter: (v) => `${v}%` },
                    grid: { left: 44, right: 8, top: 16, bottom: 56 },
                    xAxis: { type: "category", data: rows.map((r) => r.name), axisLabel: { rotate: rows.length > 4 ? 30 : 0 } },
                    yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
                    series: [{ type: "bar", name: "体检覆盖率", data: rows.map((r) => percent(r.checkups.coverage)), itemStyle: { color: "#237804" } }],
                  }}
                />
              </Col>
              <Col xs={24} md={12}>
                {total && Object.keys(total.checkups.flags).length === 0 ? (
                  <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description="今年暂无体检异常结果" style={{ marginTop: 64 }} data-testid="chart-flags" />
                ) : (
                  <Chart
                    testId="chart-flags"
                    label="体检异常结果按类别"
                    option={{
                      tooltip: { trigger: "item" },
                      series: [
                        {
                          type: "pie",
                          name: "异常结果",
                          radius: ["35%", "65%"],
                          data: Object.entries(total?.checkups.flags ?? {}).map(([k, v]) => ({ name: flagLabel(k), value: v })),
                          label: { formatter: "{b}\n{c}" },
                        },
                      ],
                    }}
                  />
                )}
              </Col>
            </Row>
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <ParentCallsCard orgUnit={unit} month={m} />
        </Col>
      </Row>

      <Card style={{ marginTop: 12 }}>
        <Segmented
          value={view}
          onChange={(v) => setView(v as typeof view)}
          style={{ marginBottom: 12 }}
          options={[
            { value: "units", label: `按${childLevel(unit)}` },
            ...(township
              ? [
                  { value: "schools", label: "按学校" },
                  { value: "supervision", label: "督导报告" },
                ]
              : []),
          ]}
        />
        {view === "units" && <UnitTable rows={rows} total={total} loading={overview.isFetching} canDrill={canDrill} onDrill={drill} error={overview.error} />}
        {view === "schools" && township && (
          <SchoolTable rows={(schools.data?.rows ?? []) as SchoolRow[]} loading={schools.isFetching} township={unit} semester={semester} />
        )}
        {view === "supervision" && township && <SupervisionReport township={unit} />}
      </Card>
      <EnrolmentRate orgUnit={unit} semester={semester} />
    </div>
  );
}

const percent = (v: number | null | undefined) => (v == null ? null : Math.round(v * 1000) / 10);
const childLevel = (unit: string) => (orgLevel(unit) === "county" ? "乡镇" : "村");

function Kpi({ title, value, suffix }: { title: string; value: number | string | undefined; suffix?: string }) {
  return (
    <Col xs={12} md={8} xl={4}>
      <Card size="small">
        <Statistic title={title} value={value ?? "—"} suffix={suffix ? <span style={{ fontSize: 13 }}>{suffix}</span> : undefined} />
      </Card>
    </Col>
  );
}

/** Where the user is: their own unit down to the one shown; a step up is a click. */
function UnitPath({ from, to, onPick }: { from: string; to: string; onPick: (code: string) => void }) {
  const codes = [...new Set([countyOf(to), townshipOf(to), to])].filter((code) => contains(from, code));
  return (
    <Breadcrumb
      items={codes.map((code, i) => ({
        title:
          i === codes.length - 1 ? (
            <UnitName code={code} />
          ) : (
            <a
              href="#"
              onClick={(e) => {
                e.preventDefault();
                onPick(code);
              }}
            >
              <UnitName code={code} />
            </a>
          ),
      }))}
    />
  );
}

function UnitName({ code }: { code: string }) {
  const unit = useOrgUnit(code);
  return <>{unit.data?.name ?? code}</>;
}

function UnitTable(props: { rows: Figures[]; total?: Figures; loading: boolean; canDrill: boolean; onDrill: (code: string) => void; error: Error | null }) {
  const data = props.total && props.rows.length > 1 ? [...props.rows, props.total] : props.rows;
  return (
    <Table<Figures>
      rowKey="code"
      size="middle"
      data-testid="report-table"
      // Rows carry a count called `children`: not a tree.
      expandable={{ childrenColumnName: "subUnits" }}
      loading={props.loading}
      dataSource={data}
      pagination={false}
      scroll={{ x: 1100 }}
      locale={{ emptyText: props.error ? props.error.message : "暂无数据" }}
      onRow={(r) =>
        props.canDrill && orgLevel(r.code) !== "county" && r.name !== "合计" ? { onClick: () => props.onDrill(r.code), style: { cursor: "pointer" } } : {}
      }
      columns={[
        {
          title: "单位",
          dataIndex: "name",
          fixed: "left",
          width: 130,
          render: (v: string, r) =>
            props.canDrill && r.name !== "合计" ? (
              <a
                href="#"
                onClick={(e) => {
                  e.preventDefault();
                  e.stopPropagation();
                  props.onDrill(r.code);
                }}
              >
                {v}
              </a>
            ) : (
              <strong>{v}</strong>
            ),
        },
        { title: "在册", dataIndex: "children", width: 70, align: "right" },
        { title: "双留守", key: "both", width: 80, align: "right", render: (_, r) => r.byType.both_parents_away ?? 0 },
        { title: "高风险", key: "high", width: 80, align: "right", render: (_, r) => r.byRisk.high ?? 0 },
        { title: "结对覆盖率", key: "cov", width: 100, align: "right", render: (_, r) => pct(r.mentorCoverage) },
        { title: "本月应访", key: "due", width: 90, align: "right", render: (_, r) => r.visits.due },
        { title: "按时", key: "onTime", width: 70, align: "right", render: (_, r) => r.visits.onTime },
        { title: "逾期", key: "missed", width: 70, align: "right", render: (_, r) => r.visits.missed },
        { title: "走访及时率", key: "punct", width: 100, align: "right", render: (_, r) => pct(r.visits.punctuality) },
        { title: "在办关注", key: "open", width: 90, align: "right", render: (_, r) => r.concerns.open },
        { title: "超30天", key: "old", width: 80, align: "right", render: (_, r) => r.concerns.age?.over30Days ?? 0 },
        { title: "已体检", key: "exam", width: 80, align: "right", render: (_, r) => r.checkups.examined },
        { title: "体检覆盖率", key: "ccov", width: 100, align: "right", render: (_, r) => pct(r.checkups.coverage) },
      ]}
    />
  );
}

/** The township's schools, each with its own 工作总结 for the semester chosen above. */
function SchoolTable({ rows, loading, township, semester }: { rows: SchoolRow[]; loading: boolean; township: string; semester: string }) {
  return (
    <Table<SchoolRow>
      rowKey="schoolId"
      size="middle"
      data-testid="report-schools"
      expandable={{ childrenColumnName: "subUnits" }}
      loading={loading}
      dataSource={rows}
      pagination={false}
      scroll={{ x: 600 }}
      columns={[
        { title: "学校", dataIndex: "schoolName" },
        { title: "在册儿童", dataIndex: "children", align: "right", width: 100 },
        { title: "已结对", dataIndex: "mentored", align: "right", width: 90 },
        { title: "结对覆盖率", dataIndex: "mentorCoverage", align: "right", width: 110, render: (v: number | null) => pct(v) },
        { title: "今年已体检", dataIndex: "examined", align: "right", width: 110 },
        {
          title: "工作总结",
          key: "summary",
          width: 190,
          // Schools only, not the villages expanded under them.
          render: (_: unknown, r: SchoolRow) =>
            rows.includes(r) ? (
              <ExportButton key={semester} report="work_summary" orgUnit={township} schoolId={r.schoolId} semester={semester} label="生成" />
            ) : null,
        },
      ]}
    />
  );
}
