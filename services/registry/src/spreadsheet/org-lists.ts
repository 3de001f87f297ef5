import { contains, orgLevel } from "@shouhu/contracts";
import { LEVEL_LABEL, SchoolCode, SchoolType, normaliseDivisionCode, parseLevelWord } from "../domain/org-admin.js";
import type { DivisionRow, Rejection, SchoolListRow } from "../data/org-admin.js";
import { readXlsx, type Cell, type Sheet } from "@shouhu/spreadsheet";

/** Thrown when the file as a whole cannot be read as the list asked for (wrong headers, no rows): a 400 on `file`. */
export class ListFormatError extends Error {}

/** Rows a county's list can have: a county has a few hundred villages and schools. */
const MAX_LIST_ROWS = 5000;

export const text = (c: Cell | undefined): string => (c === null || c === undefined ? "" : String(c).replace(/\s+/gu, " ").trim());
/** A code cell: Excel turns long digit strings into numbers; 3.60999e+11 is read back exactly as an integer. */
const codeText = (c: Cell | undefined): string => (typeof c === "number" ? (Number.isInteger(c) ? String(c) : "") : text(c).replace(/\s/gu, ""));

/** The first row (within the first ten) that names every required column; the column of each header. */
export function findHeader(sheet: Sheet, columns: Record<string, string[]>, required: string[]) {
  let seen = 0;
  for (const row of sheet.rows()) {
    if (++seen > 10) break;
    const at: Record<string, number> = {};
    row.cells.forEach((cell, i) => {
      const h = text(cell)
        .replace(/[（(].*?[)）]/gu, "")
        .replace(/\s/gu, "");
      for (const [key, names] of Object.entries(columns)) if (at[key] === undefined && names.includes(h)) at[key] = i;
    });
    if (required.every((k) => at[k] !== undefined)) return { headerRow: row.number, at };
  }
  return null;
}

export async function firstSheet(content: Uint8Array): Promise<Sheet> {
  let sheets: Sheet[];
  try {
    sheets = await readXlsx(content);
  } catch {
    throw new ListFormatError("无法读取该文件：不是有效的 .xlsx 工作簿");
  }
  if (sheets.length === 0) throw new ListFormatError("工作簿中没有工作表");
  return sheets[0]!;
}

export function* dataRows(sheet: Sheet, headerRow: number) {
  let n = 0;
  for (const row of sheet.rows()) {
    if (row.number <= headerRow || row.cells.every((c) => text(c) === "")) continue;
    if (++n > MAX_LIST_ROWS) throw new ListFormatError(`行数超过 ${MAX_LIST_ROWS} 行，请只上传本县的部分`);
    yield row;
  }
}

const DIVISION_COLUMNS = {
  code: ["统计用区划代码", "区划代码", "行政区划代码", "代码"],
  name: ["名称", "区划名称", "单位名称"],
  level: ["级别", "层级", "区划级别"],
};

/**
 * The county's part of the statistical division table: code, name and (optionally) level.
 * 12-digit padded codes (360999100000) are read as the level they pad; rows outside the
 * county, or whose level contradicts the code, are rejected with the reason.
 */
export async function parseDivisionList(content: Uint8Array, county: string): Promise<{ rows: DivisionRow[]; rejections: Rejection[] }> {
  const sheet = await firstSheet(content);
  const header = findHeader(sheet, DIVISION_COLUMNS, ["code", "name"]);
  if (!header) throw new ListFormatError("未找到表头：需要“区划代码”和“名称”两列（“级别”可选）");
  const rows: DivisionRow[] = [];
  const rejections: Rejection[] = [];
  const seen = new Map<string, number>();
  for (const row of dataRows(sheet, header.headerRow)) {
    const raw = codeText(row.cells[header.at.code!]);
    const name = text(row.cells[header.at.name!]);
    const levelWord = header.at.level === undefined ? "" : text(row.cells[header.at.level]);
    const reasons: string[] = [];
    const code = normaliseDivisionCode(raw);
    if (!raw) reasons.push("区划代码为空");
    else if (!code) reasons.push(`区划代码“${raw}”应为6、9或12位数字`);
    if (!name) reasons.push("名称为空");
    else if (name.length > 60) reasons.push("名称超过60个字");
    if (code) {
      const level = orgLevel(code)!;
      const said = levelWord ? parseLevelWord(levelWord) : null;
      if (levelWord && !said) reasons.push(`级别“${levelWord}”应为 县、乡镇 或 村（社区）`);
      else if (said && said !== level) reasons.push(`级别“${levelWord}”与代码位数不符（${code.length}位是${LEVEL_LABEL[level]}）`);
      // The county's own row comes first in its part of the table: a new county starts from it.
      if (!contains(county, code)) reasons.push(`代码不属于本县（${county}）`);
      const earlier = seen.get(code);
      if (earlier) reasons.push(`与第 ${earlier} 行代码重复`);
      else seen.set(code, row.number);
    }
    if (reasons.length) rejections.push({ rowNumber: row.number, code: code ?? (raw || null), name: name || null, reasons });
    else rows.push({ rowNumber: row.number, code: code!, name });
  }
  if (rows.length === 0 && rejections.length === 0) throw new ListFormatError("表中没有数据行");
  return { rows, rejections };
}

const SCHOOL_COLUMNS = {
  name: ["学校名称", "学校", "名称"],
  code: ["学校标识码", "标识码", "学校代码"],
  township: ["所在乡镇", "乡镇", "乡镇（街道）", "所属乡镇"],
  type: ["办学类型", "学校类型", "类型"],
};

/** The county's school list: name, 10-digit 学校标识码, township (code or name), 小学/初中/九年一贯制. */
export async function parseSchoolList(content: Uint8Array): Promise<{ rows: SchoolListRow[]; rejections: Rejection[] }> {
  const sheet = await firstSheet(content);
  const header = findHeader(sheet, SCHOOL_COLUMNS, ["name", "code", "township", "type"]);
  if (!header) throw new ListFormatError("未找到表头：需要“学校名称”“学校标识码”“所在乡镇”“办学类型”四列");
  const rows: SchoolListRow[] = [];
  const rejections: Rejection[] = [];
  const seen = new Map<string, number>();
  for (const row of dataRows(sheet, header.headerRow)) {
    const name = text(row.cells[header.at.name!]);
    const code = codeText(row.cells[header.at.code!]);
    const township = codeText(row.cells[header.at.township!]) || text(row.cells[header.at.township!]);
    const typeWord = text(row.cells[header.at.type!]);
    const reasons: string[] = [];
    if (!name) reasons.push("学校名称为空");
    else if (name.length > 60) reasons.push("学校名称超过60个字");
    if (!code) reasons.push("学校标识码为空");
    else if (!SchoolCode.safeParse(code).success) reasons.push(`学校标识码“${code}”应为10位数字`);
    else if (seen.has(code)) reasons.push(`与第 ${seen.get(code)} 行学校标识码重复`);
    else seen.set(code, row.number);
    if (!township) reasons.push("所在乡镇为空");
    const type = SchoolType.safeParse(typeWord);
    if (!type.success) reasons.push(`办学类型“${typeWord}”应为 小学、初中 或 九年一贯制`);
    if (reasons.length) rejections.push({ rowNumber: row.number, code: code || null, name: name || null, reasons });
    else rows.push({ rowNumber: row.number, name, code, township, type: type.data! });
  }
  if (rows.length === 0 && rejections.length === 0) throw new ListFormatError("表中没有数据行");
  return { rows, rejections };
}
