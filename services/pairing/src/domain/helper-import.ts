import { contains, labels, type HelperKind } from "@shouhu/contracts";
import { normalizeDate } from "@shouhu/cn";
import type { Cell, Sheet } from "@shouhu/spreadsheet";
import { HelperInput, validateHelper, type HelperValues } from "./helper.js";

/** Thrown when the file as a whole cannot be read as a helper list (no header, too many rows): a 400 on `file`. */
export class HelperSheetError extends Error {}

/** A township registers its helpers once a school year: a few hundred, a county a few thousand. */
export const MAX_HELPER_ROWS = 5000;

/** One data row that passed every check, ready to be created or to update the helper it names. */
export interface HelperImportRow {
  rowNumber: number;
  values: HelperValues;
  /** Who the row is, across files: an adult by phone within the township; a helper without phone by name, unit and school. */
  key: string;
}

export interface HelperRejection {
  rowNumber: number;
  name: string | null;
  reasons: string[];
}

/** The header words staff use (parenthesised notes such as “（选填）” are ignored). */
const COLUMNS: Record<string, string[]> = {
  name: ["姓名", "帮扶人姓名", "帮扶人"],
  kind: ["类别", "帮扶人类别", "类型", "身份"],
  sex: ["性别"],
  phone: ["手机号", "手机号码", "联系电话", "电话"],
  orgUnitCode: ["所属单位代码", "单位代码", "区划代码", "所属区划代码"],
  schoolId: ["学校标识码", "学校代码"],
  capacity: ["可帮扶人数", "帮扶人数", "可结对人数"],
  birthDate: ["出生日期"],
};
const REQUIRED = ["name", "kind", "phone", "orgUnitCode"];
const LABEL: Record<string, string> = {
  name: "姓名",
  kind: "类别",
  sex: "性别",
  phone: "手机号",
  orgUnitCode: "所属单位代码",
  schoolId: "学校标识码",
  capacity: "可帮扶人数",
  birthDate: "出生日期",
  username: "账号",
};

/**
 * 类别 as staff write it: the labels of HelperKind, and the words in use locally.
 * A 村干部 (village cadre) is a kind of its own (`village_cadre`, serving their village);
 * the village's child director (who is usually a cadre too) is written 村儿童主任.
 */
const KIND_WORDS: Record<string, HelperKind> = {
  ...Object.fromEntries(Object.entries(labels.helperKind).map(([kind, label]) => [label, kind as HelperKind])),
  老师: "teacher",
  班主任: "teacher",
  爱心妈妈: "proxy_parent",
  爱心爸爸: "proxy_parent",
  代理妈妈: "proxy_parent",
  代理爸爸: "proxy_parent",
  村干部: "village_cadre",
  包村干部: "village_cadre",
  村委委员: "village_cadre",
  志愿者: "volunteer",
  儿童主任: "village_director",
  村儿童主任: "village_director",
  同伴学生: "peer_student",
  手拉手好朋友: "peer_student",
  同伴: "peer_student",
};
const KIND_HINT = Object.values(labels.helperKind).join("、");

const text = (c: Cell | undefined): string => (c === null || c === undefined ? "" : String(c).replace(/\s+/gu, " ").trim());
/** A code or phone cell: Excel turns long digit strings into numbers; integers are read back exactly. */
const digits = (c: Cell | undefined): string => (typeof c === "number" ? String(c) : text(c).replace(/\s/gu, ""));
const headerWord = (c: Cell | undefined) =>
  text(c)
    .replace(/[（(].*?[)）]/gu, "")
    .replace(/[\s*＊]/gu, "");

function findHeader(sheet: Sheet): { headerRow: number; at: Record<string, number> } | null {
  let seen = 0;
  for (const row of sheet.rows()) {
    if (++seen > 10) break;
    const at: Record<string, number> = {};
    row.cells.forEach((cell, i) => {
      const h = headerWord(cell);
      for (const [key, names] of Object.entries(COLUMNS)) if (at[key] === undefined && names.includes(h)) at[key] = i;
    });
    if (REQUIRED.every((k) => at[k] !== undefined)) return { headerRow: row.number, at };
  }
  return null;
}

/** The identity of a helper across imports (see {@link HelperImportRow.key}). */
export function helperKey(v: Pick<HelperValues, "phone" | "townshipCode" | "name" | "orgUnitCode" | "schoolId">): string {
  return v.phone ? `phone:${v.townshipCode}:${v.phone}` : `name:${v.orgUnitCode}:${v.name}:${v.schoolId ?? ""}`;
}

/**
 * The helper list's rows, each checked as POST /helpers checks one helper (validateHelper),
 * plus the importer's jurisdiction and duplicates within the file. Pure: the sheet is read
 * already; nothing is stored here.
 */
export function parseHelperSheet(
  sheet: Sheet,
  { jurisdiction, today }: { jurisdiction: string; today: string },
): { rows: HelperImportRow[]; rejections: HelperRejection[] } {
  const header = findHeader(sheet);
  if (!header) {
    throw new HelperSheetError("未找到表头：需要“姓名”“类别”“手机号”“所属单位代码”四列（“性别”“学校标识码”“可帮扶人数”“出生日期”可选）");
  }
  const { at } = header;
  const cell = (cells: Cell[], key: string) => (at[key] === undefined ? undefined : cells[at[key]!]);
  const rows: HelperImportRow[] = [];
  const rejections: HelperRejection[] = [];
  const firstRowOf = new Map<string, number>();
  let count = 0;
  for (const row of sheet.rows()) {
    if (row.number <= header.headerRow || row.cells.every((c) => text(c) === "")) continue;
    if (++count > MAX_HELPER_ROWS) throw new HelperSheetError(`行数超过 ${MAX_HELPER_ROWS} 行，请按乡镇拆分后分别上传`);
    const reasons: string[] = [];
    const name = text(cell(row.cells, "name"));
    const kindWord = text(cell(row.cells, "kind")).replace(/\s/gu, "");
    const kind = KIND_WORDS[kindWord];
    if (!kindWord) reasons.push("类别为空");
    else if (!kind) reasons.push(`类别“${kindWord}”无法识别，应为：${KIND_HINT}（村干部按志愿者登记）`);
    const sexWord = text(cell(row.cells, "sex"));
    const sex = sexWord === "男" ? "male" : sexWord === "女" ? "female" : null;
    if (sexWord && !sex) reasons.push(`性别“${sexWord}”应为“男”或“女”`);
    const orgUnitCode = digits(cell(row.cells, "orgUnitCode"));
    if (!orgUnitCode) reasons.push("所属单位代码为空");
    else if (!/^\d{9}$|^\d{12}$/.test(orgUnitCode)) reasons.push(`所属单位代码“${orgUnitCode}”应为9位乡镇或12位村（社区）代码`);
    else if (!contains(jurisdiction, orgUnitCode)) reasons.push(`所属单位代码“${orgUnitCode}”不在您的管辖范围内`);
    const phone = digits(cell(row.cells, "phone"));
    const schoolId = digits(cell(row.cells, "schoolId"));
    const capacityCell = cell(row.cells, "capacity");
    let capacity: number | undefined;
    if (text(capacityCell) !== "") {
      capacity = typeof capacityCell === "number" ? capacityCell : Number(text(capacityCell));
      if (!Number.isInteger(capacity)) {
        reasons.push(`可帮扶人数“${text(capacityCell)}”应为整数`);
        capacity = undefined;
      }
    }
    let birthDate: string | null = null;
    const birthCell = cell(row.cells, "birthDate");
    if (text(birthCell) !== "") {
      const d = normalizeDate(birthCell);
      if (d.ok) birthDate = d.date;
      else reasons.push(`出生日期：${d.reason}`);
    }
    if (reasons.length === 0 && kind) {
      const input = HelperInput.safeParse({
        kind,
        name,
        sex,
        birthDate,
        phone: phone || null,
        orgUnitCode,
        schoolId: schoolId || null,
        ...(capacity === undefined ? {} : { capacity }),
      });
      if (!input.success) {
        for (const issue of input.error.issues) reasons.push(`${LABEL[String(issue.path[0])] ?? String(issue.path[0])}：${issue.message}`);
      } else {
        const result = validateHelper(input.data, today);
        if (!result.ok) for (const issue of result.issues) reasons.push(`${LABEL[issue.field] ?? issue.field}：${issue.message}`);
        else {
          const key = helperKey(result.value);
          const first = firstRowOf.get(key);
          if (first !== undefined) reasons.push(`与第${first}行是同一帮扶人（${result.value.phone ? "手机号相同" : "姓名、单位、学校相同"}），请合并为一行`);
          else {
            firstRowOf.set(key, row.number);
            rows.push({ rowNumber: row.number, values: result.value, key });
          }
        }
      }
    }
    if (reasons.length > 0) rejections.push({ rowNumber: row.number, name: name || null, reasons });
  }
  if (count === 0) throw new HelperSheetError("表中没有帮扶人数据行");
  return { rows, rejections };
}
