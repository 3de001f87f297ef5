import type { DifficultyCategory, LeftBehindType } from "@shouhu/contracts";
import { validateChildInput } from "../domain/child.js";
import { normalizeDate, normalizeName, toHalfWidth } from "@shouhu/cn";
import { normalizeResidentId } from "../domain/resident-id.js";
import type { ParsedRow, ParseRegister } from "../jobs/import-register.js";
import { columnFor, labelOf, type ColumnKey } from "./columns.js";
import { readXlsx, type Cell, type Merge } from "@shouhu/spreadsheet";

const text = (c: Cell | Date): string | null => (c === null ? null : c instanceof Date ? c.toISOString().slice(0, 10) : toHalfWidth(String(c)).trim() || null);

const leftBehindTypes: [RegExp, LeftBehindType][] = [
  [/无监护能力|无抚养能力/, "one_away_other_unable"],
  [/双留守|纯留守|父母.*外出|双方外出/, "both_parents_away"],
  [/单留守|一方外出|父亲外出|母亲外出/, "one_parent_away"],
  [/^(非留守|否|无)$/, "not_left_behind"],
];

const difficulties: [RegExp, DifficultyCategory][] = [
  [/事实无人抚养/, "de_facto_unattended"],
  [/重病|大病/, "severe_illness"],
  [/残疾/, "disability"],
  [/经济困难|低保|特困|贫困/, "economic_hardship"],
  [/孤儿/, "orphan"],
  [/其他|其它/, "other"],
];

function splitWorkplace(value: string | null): { workProvince: string | null; workCity: string | null } {
  if (!value) return { workProvince: null, workCity: null };
  const m = /^(.+?(?:省|自治区|特别行政区)|北京市|天津市|上海市|重庆市)(.*)$/.exec(value.replace(/\s+/g, ""));
  return m ? { workProvince: m[1]!, workCity: m[2] || null } : { workProvince: null, workCity: value };
}

/** zod field path → the register column staff see. */
function columnLabel(field: string, parentRoles: ("father" | "mother")[]): string {
  const [head, index, tail] = field.split(".");
  if (head === "guardians") return tail === "phone" ? labelOf.guardianPhone : tail === "age" ? labelOf.guardianAge : labelOf.guardianName;
  if (head === "parents") {
    const role = parentRoles[Number(index)] ?? "father";
    const prefix = role === "father" ? "father" : "mother";
    return labelOf[(tail === "phone" ? `${prefix}Phone` : tail === "name" ? `${prefix}Name` : `${prefix}Work`) as ColumnKey];
  }
  const direct: Record<string, ColumnKey> = {
    idNumber: "idNumber",
    name: "name",
    sex: "sex",
    birthDate: "birthDate",
    villageCode: "address",
    address: "address",
    schoolId: "school",
    grade: "grade",
    className: "className",
    leftBehindType: "leftBehindType",
    difficultyCategories: "difficulty",
    ethnicity: "ethnicity",
    familySituation: "familySituation",
    healthNotes: "healthNotes",
    psychologicalNotes: "psychologicalNotes",
    helperName: "helperName",
    remarks: "remarks",
  };
  return direct[head ?? ""] ? labelOf[direct[head!]!] : field;
}

interface SheetState {
  name: string;
  merges: Merge[];
  /** Values merged down/right from a master cell, keyed by row then column. */
  fills: Map<number, Map<number, Cell>>;
  /** Rows read before the header is found (at most 10). */
  preamble: Map<number, Cell[]>;
  columns: Map<number, ColumnKey> | null;
  headerRow: number;
  /** The row after the header may be a sub-header (监护人情况 → 姓名/关系/电话): check it once. */
  checkSubHeader: boolean;
}

function applyMerges(state: SheetState, rowNumber: number, cells: Cell[]): void {
  const fills = state.fills.get(rowNumber);
  if (fills) {
    for (const [col, value] of fills) if (cells[col] === null || cells[col] === undefined) cells[col] = value;
    state.fills.delete(rowNumber);
  }
  for (const m of state.merges) {
    if (m.top !== rowNumber) continue;
    const value = cells[m.left] ?? null;
    for (let r = m.top; r <= m.bottom; r++) {
      for (let c = m.left; c <= m.right; c++) {
        if (r === m.top) {
          if (c !== m.left && (cells[c] === null || cells[c] === undefined)) cells[c] = value;
          continue;
        }
        let row = state.fills.get(r);
        if (!row) state.fills.set(r, (row = new Map()));
        row.set(c, value);
      }
    }
  }
}

function headerColumns(cells: Cell[], above: Cell[]): Map<number, ColumnKey> {
  const columns = new Map<number, ColumnKey>();
  for (let c = 1; c < cells.length; c++) {
    const label = text(cells[c] ?? null) ?? text(above[c] ?? null);
    if (!label) continue;
    const key = columnFor(label, text(above[c] ?? null) ?? "");
    if (key && ![...columns.values()].includes(key)) columns.set(c, key);
  }
  return columns;
}

/** The header row is the first with 姓名 and an ID-number column; the row above may group sub-columns. */
function detectHeader(state: SheetState, rowNumber: number, cells: Cell[]): boolean {
  const columns = headerColumns(cells, state.preamble.get(rowNumber - 1) ?? []);
  const keys = new Set(columns.values());
  if (keys.has("name") && keys.has("idNumber")) {
    state.columns = columns;
    state.headerRow = rowNumber;
    state.checkSubHeader = true;
    state.preamble.set(rowNumber, cells);
    return true;
  }
  return false;
}

/** Two-row headers: group names above, column names below. The lower row wins if it names more columns. */
function upgradeToSubHeader(state: SheetState, rowNumber: number, cells: Cell[]): boolean {
  state.checkSubHeader = false;
  const columns = headerColumns(cells, state.preamble.get(rowNumber - 1) ?? []);
  if (columns.size <= state.columns!.size) return false;
  state.columns = columns;
  state.headerRow = rowNumber;
  return true;
}

interface Seen {
  sheet: string;
  rowNumber: number;
}

function toRow(state: SheetState, rowNumber: number, cells: Cell[], options: Parameters<ParseRegister>[1], seen: Map<string, Seen>): ParsedRow | "skip" {
  const get = new Map<ColumnKey, Cell>();
  for (const [col, key] of state.columns!) get.set(key, cells[col] ?? null);
  const t = (k: ColumnKey) => text(get.get(k) ?? null);
  const name = t("name");
  const rawId = get.get("idNumber") ?? null;
  const firstCells = [...state.columns!.keys()].slice(0, 3).map((c) => text(cells[c] ?? null) ?? "");
  if (firstCells.some((v) => /^(合\s*计|总\s*计|小\s*计)/.test(v))) return "skip";
  if (!name && rawId === null) return "skip"; // blank rows between blocks, block titles
  const reasons: string[] = [];
  const base = { sheet: state.name, rowNumber };
  const idText = typeof rawId === "number" ? rawId : rawId === null ? "" : normalizeResidentId(String(text(rawId)));

  const address = t("address");
  let villageCode: string | undefined;
  if (!address) reasons.push(`${labelOf.address}：不能为空（用于确定所在村/社区）`);
  else {
    const v = options.resolveVillage(address, state.name);
    if ("error" in v) reasons.push(`${labelOf.address}：${v.error}`);
    else villageCode = v.villageCode;
  }
  let schoolId: string | null = null;
  const school = t("school");
  if (school) {
    const s = options.resolveSchool(school);
    if ("error" in s) reasons.push(`${labelOf.school}：${s.error}`);
    else schoolId = s.schoolId;
  }
  const lbText = t("leftBehindType");
  const leftBehindType = lbText ? leftBehindTypes.find(([re]) => re.test(lbText.replace(/\s+/g, "")))?.[1] : "not_left_behind";
  if (!leftBehindType) reasons.push(`${labelOf.leftBehindType}：无法识别“${lbText}”，应为 单留守 / 双留守 / 一方外出另一方无监护能力 / 非留守`);
  const difficultyCategories: DifficultyCategory[] = [];
  for (const part of (t("difficulty") ?? "").split(/[、,，;；/\s]+/).filter((p) => p && !/^(无|否)$/.test(p))) {
    const d = difficulties.find(([re]) => re.test(part))?.[1];
    if (d) {
      if (!difficultyCategories.includes(d)) difficultyCategories.push(d);
    } else reasons.push(`${labelOf.difficulty}：无法识别“${part}”`);
  }
  const sexText = t("sex");
  const sex = sexText === "男" ? "male" : sexText === "女" ? "female" : undefined;
  if (sexText && !sex) reasons.push(`${labelOf.sex}：应为 男 或 女`);
  const birthCell = get.get("birthDate") ?? null;
  let birthDate: string | undefined;
  if (birthCell !== null) {
    const d = normalizeDate(typeof birthCell === "number" ? birthCell : String(birthCell));
    if (d.ok) birthDate = d.date;
    else reasons.push(`${labelOf.birthDate}：${d.reason}`);
  }
  const guardianName = t("guardianName");
  const guardianAge = get.get("guardianAge");
  const ageNumber = typeof guardianAge === "number" ? Math.round(guardianAge) : guardianAge ? Number.parseInt(String(text(guardianAge)), 10) : null;
  const guardians = guardianName
    ? [
        {
          name: guardianName,
          relation: t("guardianRelation") ?? "其他",
          phone: t("guardianPhone"),
          age: Number.isFinite(ageNumber) ? ageNumber : null,
          health: t("guardianHealth"),
        },
      ]
    : [];
  const parentRoles: ("father" | "mother")[] = [];
  const parents = (["father", "mother"] as const).flatMap((role) => {
    const pName = t(`${role}Name`);
    const work = t(`${role}Work`);
    const phone = t(`${role}Phone`);
    if (!pName && !work && !phone) return [];
    parentRoles.push(role);
    return [{ role, name: pName ? normalizeName(pName) : null, phone, ...splitWorkplace(work), employer: null, awaySince: null }];
  });

  if (reasons.length === 0) {
    const validated = validateChildInput(
      {
        idNumber: typeof idText === "number" ? String(idText) : idText,
        name: name ?? "",
        ...(sex ? { sex } : {}),
        ...(birthDate ? { birthDate } : {}),
        ...(t("ethnicity") ? { ethnicity: t("ethnicity")! } : {}),
        villageCode: villageCode!,
        address,
        schoolId,
        grade: t("grade"),
        className: t("className"),
        leftBehindType: leftBehindType!,
        difficultyCategories,
        guardians,
        parents,
        familySituation: t("familySituation"),
        healthNotes: t("healthNotes"),
        psychologicalNotes: t("psychologicalNotes"),
        helperName: t("helperName"),
        remarks: t("remarks"),
      },
      options.today,
    );
    if (typeof rawId === "number") {
      // Excel stored the ID as a number: its last digits are gone, whatever it looks like now.
      reasons.push(`${labelOf.idNumber}：身份证号被 Excel 存为数字，末尾数字已丢失，无法恢复，请将该列设为文本后重新录入`);
    } else if (!validated.ok) {
      for (const issue of validated.issues) reasons.push(`${columnLabel(issue.field, parentRoles)}：${issue.message}`);
    } else {
      const first = seen.get(validated.value.idNumber);
      if (first) {
        return {
          ...base,
          ok: false,
          name,
          idNumber: validated.value.idNumber,
          reasons: [
            `${labelOf.idNumber}：与${first.sheet === state.name ? "" : `工作表“${first.sheet}”`}第 ${first.rowNumber} 行为同一儿童（身份证号重复），未重复导入`,
          ],
        };
      }
      seen.set(validated.value.idNumber, { sheet: state.name, rowNumber });
      return { ...base, ok: true, child: validated.value };
    }
  } else if (typeof rawId === "number") {
    reasons.unshift(`${labelOf.idNumber}：身份证号被 Excel 存为数字，末尾数字已丢失，无法恢复，请将该列设为文本后重新录入`);
  }
  return { ...base, ok: false, name, idNumber: typeof idText === "string" ? idText : null, reasons };
}

/**
 * Streams every sheet of a township register (.xlsx): finds the header (title
 * rows and a grouped second header row allowed), fills merged cells, skips blank
 * and totals rows, validates each row, rejects repeats of a child within the
 * file, and hands rows to `onBatch` as it goes.
 */
export const parseRegisterWorkbook: ParseRegister = async (file, options) => {
  const sheets = await readXlsx(file);
  const seen = new Map<string, Seen>();
  let batch: ParsedRow[] = [];
  let totalRows = 0;
  for (const sheet of sheets) {
    const state: SheetState = {
      name: sheet.name,
      merges: sheet.merges,
      fills: new Map(),
      preamble: new Map(),
      columns: null,
      headerRow: 0,
      checkSubHeader: false,
    };
    for (const row of sheet.rows()) {
      const cells = row.cells;
      applyMerges(state, row.number, cells);
      if (!state.columns) {
        if (!detectHeader(state, row.number, cells)) {
          state.preamble.set(row.number, cells);
          if (state.preamble.size > 10) break; // not a register sheet (e.g. notes)
        }
        continue;
      }
      if (state.checkSubHeader && upgradeToSubHeader(state, row.number, cells)) continue;
      const parsed = toRow(state, row.number, cells, options, seen);
      if (parsed === "skip") continue;
      totalRows += 1;
      batch.push(parsed);
      if (batch.length >= options.batchSize) {
        await options.onBatch(batch);
        batch = [];
      }
    }
  }
  if (batch.length) await options.onBatch(batch);
  return { totalRows };
};
