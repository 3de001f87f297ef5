import ExcelJS from "exceljs";
import { labels } from "@shouhu/contracts";
import type { Figures } from "../data/reports.js";

const pct = (x: number | null) => (x === null ? "—" : `${(x * 100).toFixed(1)}%`);

/** The overview table's columns, as county staff hand it upward. */
const overviewColumns: { header: string; value: (f: Figures) => string | number }[] = [
  { header: "单位", value: (f) => f.name },
  { header: "行政区划代码", value: (f) => f.code },
  { header: "在册儿童", value: (f) => f.children },
  ...(["both_parents_away", "one_parent_away", "one_away_other_unable", "not_left_behind"] as const).map((t) => ({
    header: labels.leftBehindType[t],
    value: (f: Figures) => f.byType[t] ?? 0,
  })),
  ...(["high", "medium", "low"] as const).map((r) => ({ header: `${labels.riskLevel[r]}风险`, value: (f: Figures) => f.byRisk[r] ?? 0 })),
  { header: "事实无人抚养", value: (f) => f.byCategory.de_facto_unattended ?? 0 },
  { header: "已结对帮扶", value: (f) => f.mentored },
  { header: "结对率", value: (f) => pct(f.mentorCoverage) },
  { header: "本月应访", value: (f) => f.visits.due },
  { header: "按时走访", value: (f) => f.visits.onTime },
  { header: "补访", value: (f) => f.visits.late },
  { header: "逾期未访", value: (f) => f.visits.missed },
  { header: "走访及时率", value: (f) => pct(f.visits.punctuality) },
  { header: "本月走访记录", value: (f) => f.visits.records },
  { header: "本年体检人数", value: (f) => f.checkups.examined },
  { header: "体检覆盖率", value: (f) => pct(f.checkups.coverage) },
  { header: "在办关注事项", value: (f) => f.concerns.open },
  { header: "其中超时上报", value: (f) => f.concerns.escalated },
  { header: "其中超过30天", value: (f) => f.concerns.age?.over30Days ?? 0 },
  { header: "最长已持续天数", value: (f) => f.concerns.age?.oldestDays ?? "—" },
];

function styleHeader(sheet: ExcelJS.Worksheet, row: number): void {
  sheet.getRow(row).font = { bold: true };
  sheet.getRow(row).alignment = { vertical: "middle", horizontal: "center", wrapText: true };
}

/**
 * Called with the number of data rows written so far, every `every` rows and at
 * the end; awaited, so a job can store its progress while a large sheet is built.
 */
export interface Progress {
  every: number;
  report: (done: number) => Promise<void>;
}

async function step(progress: Progress | undefined, done: number, last: boolean): Promise<void> {
  if (progress && (last || done % progress.every === 0)) await progress.report(done);
}

/** 留守儿童关爱工作统计表: a title, the column headers, one row per unit, a totals row (合计). */
export async function overviewWorkbook(title: string, month: string, units: Figures[], total: Figures, progress?: Progress): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  wb.creator = "守护";
  const sheet = wb.addWorksheet("统计表");
  sheet.mergeCells(1, 1, 1, overviewColumns.length);
  sheet.getCell(1, 1).value = `${title}农村留守儿童关爱保护工作统计表（${month}）`;
  sheet.getCell(1, 1).font = { bold: true, size: 14 };
  sheet.getCell(1, 1).alignment = { horizontal: "center" };
  sheet.addRow(overviewColumns.map((c) => c.header));
  styleHeader(sheet, 2);
  let done = 0;
  for (const f of units) {
    sheet.addRow(overviewColumns.map((c) => c.value(f)));
    await step(progress, ++done, false);
  }
  await step(progress, done, true);
  const totals = sheet.addRow(overviewColumns.map((c, i) => (i === 0 ? "合计" : i === 1 ? total.code : c.value(total))));
  totals.font = { bold: true };
  sheet.columns.forEach((col, i) => (col.width = i === 0 ? 16 : 11));
  return wb;
}

export interface SupervisionData {
  unpaired: { name: string; villageCode: string; riskLevel: string; leftBehindType: string }[];
  overdue: { name: string; villageCode: string; kind: string; period: string; dueDate: string | null; escalated: boolean }[];
  unexamined: { name: string; villageCode: string }[];
  openConcerns: { childName: string; villageCode: string; category: string; ageDays: number | null; escalated: boolean }[];
}

/** 督导检查清单: one sheet per list, each with a count row (合计) at the end. */
export async function supervisionWorkbook(
  title: string,
  data: SupervisionData,
  villageName: (code: string) => string,
  progress?: Progress,
): Promise<ExcelJS.Workbook> {
  const wb = new ExcelJS.Workbook();
  wb.creator = "守护";
  let done = 0;
  const sheet = async (name: string, headers: string[], rows: (string | number)[][]) => {
    const s = wb.addWorksheet(name);
    s.addRow([`${title}${name}`]);
    s.getCell(1, 1).font = { bold: true, size: 13 };
    s.addRow(["序号", ...headers]);
    styleHeader(s, 2);
    for (const [i, r] of rows.entries()) {
      s.addRow([i + 1, ...r]);
      await step(progress, ++done, false);
    }
    s.addRow(["合计", `${rows.length}人`]).font = { bold: true };
    s.columns.forEach((col) => (col.width = 14));
  };
  await sheet(
    "未结对儿童",
    ["姓名", "村（社区）", "留守类型", "风险等级"],
    data.unpaired.map((c) => [
      c.name,
      villageName(c.villageCode),
      labels.leftBehindType[c.leftBehindType as keyof typeof labels.leftBehindType] ?? c.leftBehindType,
      labels.riskLevel[c.riskLevel as keyof typeof labels.riskLevel] ?? c.riskLevel,
    ]),
  );
  await sheet(
    "逾期未访",
    ["姓名", "村（社区）", "走访事项", "周期", "应完成日期", "是否已上报督办"],
    data.overdue.map((o) => [
      o.name,
      villageName(o.villageCode),
      labels.visitKind[o.kind as keyof typeof labels.visitKind] ?? o.kind,
      o.period,
      o.dueDate ?? "",
      o.escalated ? "是" : "否",
    ]),
  );
  await sheet(
    "未体检儿童",
    ["姓名", "村（社区）"],
    data.unexamined.map((c) => [c.name, villageName(c.villageCode)]),
  );
  await sheet(
    "在办关注事项",
    ["儿童", "村（社区）", "类别", "已持续天数", "是否超时上报"],
    data.openConcerns.map((c) => [
      c.childName,
      villageName(c.villageCode),
      labels.concernCategory[c.category as keyof typeof labels.concernCategory] ?? c.category,
      c.ageDays ?? "",
      c.escalated ? "是" : "否",
    ]),
  );
  await step(progress, done, true);
  return wb;
}
