import ExcelJS from "exceljs";

/** The results sheet's columns: what the roster download holds and the upload reads back. */
export const rosterColumns = [
  { header: "编号", key: "childId" },
  { header: "姓名", key: "name" },
  { header: "性别", key: "sex" },
  { header: "出生日期", key: "birthDate" },
  { header: "村（社区）", key: "village" },
  { header: "检查日期", key: "date" },
  { header: "检查医生", key: "examiner" },
  { header: "身高(cm)", key: "heightCm" },
  { header: "体重(kg)", key: "weightKg" },
  { header: "左眼视力", key: "visionLeft" },
  { header: "右眼视力", key: "visionRight" },
  { header: "血红蛋白(g/L)", key: "hemoglobin" },
  { header: "龋齿数", key: "caries" },
  { header: "收缩压", key: "bpSystolic" },
  { header: "舒张压", key: "bpDiastolic" },
  { header: "备注", key: "notes" },
] as const;

export function rosterWorkbook(title: string, children: { id: string; name: string; sex: string; birthDate: string; village: string }[]): ExcelJS.Workbook {
  const wb = new ExcelJS.Workbook();
  wb.creator = "守护";
  const sheet = wb.addWorksheet("体检结果");
  sheet.columns = rosterColumns.map((c) => ({ header: c.header, key: c.key, width: c.key === "childId" ? 38 : 12 }));
  for (const c of children) sheet.addRow({ childId: c.id, name: c.name, sex: c.sex === "male" ? "男" : "女", birthDate: c.birthDate, village: c.village });
  sheet.getRow(1).font = { bold: true };
  sheet.headerFooter.oddHeader = title;
  return wb;
}

export interface ResultRow {
  row: number;
  values: Record<string, unknown>;
}

const cellValue = (v: ExcelJS.CellValue): unknown => {
  if (v === null || v === undefined || v === "") return null;
  if (v instanceof Date) return v;
  if (typeof v === "object" && "result" in v) return (v as { result: unknown }).result ?? null;
  if (typeof v === "object" && "text" in v) return (v as { text: unknown }).text;
  return v;
};

/** Columns without which no row can be recorded. */
const requiredHeaders = ["编号", "检查日期", "检查医生"] as const;

/**
 * Reads the filled-in results sheet by its header names (column order may change).
 * `missing` names required columns the sheet lacks (someone uploaded another file).
 */
export async function readResults(buffer: Buffer): Promise<{ rows: ResultRow[]; missing: string[] }> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.load(buffer as unknown as ArrayBuffer);
  const sheet = wb.worksheets[0];
  if (!sheet) return { rows: [], missing: [...requiredHeaders] };
  const byHeader = new Map<string, number>();
  sheet.getRow(1).eachCell((cell, col) => byHeader.set(String(cell.value ?? "").trim(), col));
  const missing = requiredHeaders.filter((h) => !byHeader.has(h));
  if (missing.length) return { rows: [], missing };
  const rows: ResultRow[] = [];
  sheet.eachRow((row, n) => {
    if (n === 1) return;
    const values: Record<string, unknown> = {};
    for (const c of rosterColumns) {
      const col = byHeader.get(c.header);
      values[c.key] = col ? cellValue(row.getCell(col).value) : null;
    }
    const filled = ["date", "heightCm", "weightKg", "visionLeft", "visionRight", "hemoglobin", "caries", "bpSystolic"].some((k) => values[k] !== null);
    if (filled) rows.push({ row: n, values });
  });
  return { rows, missing: [] };
}
