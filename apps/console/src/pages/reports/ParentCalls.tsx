import { Card, Typography } from "antd";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "../../services/client";
import type { ParentCallCounts } from "../../services/models";
import { Chart } from "../../components/Chart";
import { pct } from "./format";

/**
 * 亲情电话 of the area, last six months: calls through and attempts not answered per month, and the share
 * of the month's call items done (children who spoke with their parents) — summed over the area's townships.
 */
export function ParentCallsCard({ orgUnit, month }: { orgUnit: string; month: string }) {
  const calls = useQuery({
    queryKey: ["reports", "parent-calls", orgUnit, month],
    placeholderData: keepPreviousData,
    queryFn: () => unwrap<ParentCallCounts>(api.GET("/api/v1/reports/parent-calls", { params: { query: { orgUnit, month, months: 6 } } })),
  });
  const months: string[] = [];
  if (calls.data) {
    const [y, m] = calls.data.from.split("-").map(Number) as [number, number];
    for (let i = 0; i < 6; i++) months.push(new Date(Date.UTC(y, m - 1 + i, 1)).toISOString().slice(0, 7));
  }
  const sum = (mm: string, key: "connected" | "attempts" | "minutes" | "due" | "done" | "childrenReached") =>
    (calls.data?.rows ?? []).filter((r) => r.month === mm).reduce((a, r) => a + r[key], 0);
  const last = months[months.length - 1];
  const rate = (mm: string) => (sum(mm, "due") ? sum(mm, "done") / sum(mm, "due") : null);
  return (
    <Card title="亲情电话（近6个月）" size="small" data-testid="parent-calls-card">
      {last && (
        <Typography.Paragraph type="secondary" style={{ marginBottom: 4 }} data-testid="parent-calls-summary">
          {Number(last.slice(5))}月：接通 {sum(last, "connected")} 次，通话 {sum(last, "minutes")} 分钟，{sum(last, "childrenReached")} 名儿童与父母通话；
          本月应通话 {sum(last, "due")} 人，已完成 {sum(last, "done")} 人（{pct(rate(last))}）；未接通 {sum(last, "attempts")} 次
        </Typography.Paragraph>
      )}
      <Chart
        testId="chart-parent-calls"
        label="近6个月亲情电话接通、未接通次数与完成率"
        option={{
          tooltip: { trigger: "axis" },
          legend: { bottom: 0 },
          grid: { left: 40, right: 48, top: 16, bottom: 56 },
          xAxis: { type: "category", data: months.map((mm) => mm.slice(2).replace("-", "/")) },
          yAxis: [
            { type: "value", name: "次数", minInterval: 1 },
            { type: "value", name: "完成率", max: 100, axisLabel: { formatter: "{value}%" } },
          ],
          series: [
            { type: "bar", stack: "calls", name: "接通", data: months.map((mm) => sum(mm, "connected")) },
            { type: "bar", stack: "calls", name: "未接通", data: months.map((mm) => sum(mm, "attempts")), itemStyle: { color: "#ad6800" } },
            {
              type: "line",
              name: "完成率",
              yAxisIndex: 1,
              connectNulls: true,
              data: months.map((mm) => {
                const r = rate(mm);
                return r === null ? null : Math.round(r * 1000) / 10;
              }),
            },
          ],
        }}
      />
    </Card>
  );
}
