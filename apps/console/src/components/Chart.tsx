import ReactEChartsCore from "echarts-for-react/esm/core";
import * as echarts from "echarts/core";
import { BarChart, LineChart, PieChart } from "echarts/charts";
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";
import type { EChartsOption } from "echarts";

// Only the charts the console draws: the whole of ECharts would triple the page's chunk.
echarts.use([BarChart, LineChart, PieChart, AriaComponent, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

/** The console's palette, AA against white (the theme's primary, success, warning, error). */
const CHART_COLORS = ["#1d4ed8", "#237804", "#ad6800", "#cf1322", "#531dab", "#006d75"];

interface Props {
  option: EChartsOption;
  /** What the chart shows, for screen readers (the table beside it holds the same figures). */
  label: string;
  height?: number;
  /** A bar or point clicked: its category name and data index. */
  onSelect?: (name: string, index: number) => void;
  testId?: string;
}

/** One ECharts chart, described for screen readers, resizing with its container. */
export function Chart({ option, label, height = 280, onSelect, testId }: Props) {
  return (
    <div role="img" aria-label={label} data-testid={testId}>
      <ReactEChartsCore
        echarts={echarts}
        option={{ color: CHART_COLORS, aria: { enabled: true }, textStyle: { fontFamily: "inherit" }, ...option }}
        notMerge
        style={{ height, width: "100%" }}
        onEvents={onSelect ? { click: (p: { name: string; dataIndex: number }) => onSelect(p.name, p.dataIndex) } : undefined}
      />
    </div>
  );
}
