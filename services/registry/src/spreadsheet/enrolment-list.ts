import type { Cell } from "@shouhu/spreadsheet";
import { parseResidentId } from "../domain/resident-id.js";
import { parseStatusWord, type ListRow } from "../domain/enrolment.js";
import { ListFormatError, dataRows, findHeader, firstSheet, text } from "./org-lists.js";

const COLUMNS = {
  idNumber: ["身份证号", "身份证号码", "公民身份号码", "身份证件号", "身份证件号码", "证件号码"],
  name: ["姓名", "学生姓名"],
  grade: ["年级"],
  className: ["班级", "班别"],
  status: ["就读状态", "学籍状态", "在读状态", "状态"],
};

/** An ID cell as typed: a number is kept a number so the resident-ID check can say the digits were lost. */
const idCell = (c: Cell | undefined): unknown => (typeof c === "number" ? c : text(c));

/**
 * A school's enrolment list (first sheet, header within the first ten rows): 身份证号 and 姓名 required,
 * 年级, 班级, 就读状态 optional (empty status = 在读). Each row is checked alone; matching against the
 * register is the caller's (it needs the database). Rows that fail carry kind `invalid` and reasons.
 */
export async function parseEnrolmentList(content: Uint8Array, today: string): Promise<ListRow[]> {
  const sheet = await firstSheet(content);
  const header = findHeader(sheet, COLUMNS, ["idNumber", "name"]);
  if (!header) throw new ListFormatError("未找到表头：需要“身份证号”和“姓名”两列（“年级”“班级”“就读状态”可选）");
  const at = header.at;
  const rows: ListRow[] = [];
  const seen = new Map<string, number>();
  for (const row of dataRows(sheet, header.headerRow)) {
    const cell = (k: keyof typeof COLUMNS) => (at[k] === undefined ? "" : text(row.cells[at[k]]));
    const name = cell("name").replace(/\s/gu, "");
    // A totals row (合计 / 总计) closes many lists: not a child.
    const first = text(row.cells.find((c) => text(c) !== ""));
    if (/^(合计|总计|小计)/u.test(first) || /^(合计|总计|小计)/u.test(name)) continue;
    const reasons: string[] = [];
    const id = parseResidentId(idCell(row.cells[at.idNumber!]), today);
    if (!id.ok) reasons.push(id.reason);
    if (!name) reasons.push("姓名为空");
    else if (name.length > 30) reasons.push("姓名超过30个字");
    const statusWord = cell("status");
    const status = parseStatusWord(statusWord);
    if (!status) reasons.push(`就读状态“${statusWord.slice(0, 10)}”应为 在读、休学、辍学 或 转学`);
    if (id.ok) {
      const earlier = seen.get(id.idNumber);
      if (earlier) reasons.push(`与第 ${earlier} 行身份证号重复`);
      else seen.set(id.idNumber, row.number);
    }
    rows.push({
      rowNumber: row.number,
      idNumber: id.ok ? id.idNumber : null,
      name: name.slice(0, 30),
      grade: cell("grade").slice(0, 20) || null,
      className: cell("className").slice(0, 20) || null,
      status,
      kind: reasons.length ? "invalid" : "not_in_register",
      childId: null,
      registerName: null,
      reasons,
    });
  }
  if (rows.length === 0) throw new ListFormatError("表中没有数据行");
  return rows;
}
