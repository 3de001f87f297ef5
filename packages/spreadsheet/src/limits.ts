import { inflateRawSync } from "node:zlib";

/**
 * What an uploaded .xlsx must meet before anything parses it (registry import, health
 * results): a township register is a few MB; a file far beyond that is a mistake or
 * an attack (a zip bomb, a merged range over a whole sheet that a reader would fill
 * cell by cell). Every check runs on the zip's directory and the sheet XML's tags,
 * inflating each part with a hard output bound, so memory stays bounded whatever the
 * file claims about itself. Failures carry a zh-CN reason staff can act on.
 */
export interface SpreadsheetLimits {
  /** The uploaded file. Default 20 MB. */
  maxFileBytes: number;
  /** All parts inflated together. Default 256 MB (a 100,000-row register is ~90 MB of XML). */
  maxInflatedBytes: number;
  /** Inflated ÷ compressed, per part. XML compresses 5–30×; a bomb, thousands×. Default 200. */
  maxRatio: number;
  /** Parts in the zip. Default 1,000. */
  maxParts: number;
  /** Rows per sheet. Default 200,000. */
  maxRows: number;
  /** Columns per sheet (the register has ~30). Default 256. */
  maxColumns: number;
  /** Cells written in a sheet. Default 8,000,000 (a 100,000-row register has ~3,000,000). */
  maxCells: number;
  /** Cells covered by merged ranges, per sheet. Default 100,000. */
  maxMergedCells: number;
}

export const DEFAULT_LIMITS: SpreadsheetLimits = {
  maxFileBytes: 20 * 1024 * 1024,
  maxInflatedBytes: 256 * 1024 * 1024,
  maxRatio: 200,
  maxParts: 1000,
  maxRows: 200_000,
  maxColumns: 256,
  maxCells: 8_000_000,
  maxMergedCells: 100_000,
};

export class SpreadsheetLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SpreadsheetLimitError";
  }
}

export interface XlsxSummary {
  sheets: { path: string; rows: number; columns: number; mergedCells: number }[];
  inflatedBytes: number;
}

const mb = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MB`;

function colNumber(letters: string): number {
  let n = 0;
  for (let i = 0; i < letters.length; i++) n = n * 26 + (letters.charCodeAt(i) - 64);
  return n;
}

/** Throws SpreadsheetLimitError (zh-CN) when the file is over a limit; returns what it saw otherwise. */
export function inspectXlsx(content: Uint8Array, overrides: Partial<SpreadsheetLimits> = {}): XlsxSummary {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  if (content.byteLength > limits.maxFileBytes) {
    throw new SpreadsheetLimitError(`文件过大（${mb(content.byteLength)}），上限 ${mb(limits.maxFileBytes)}，请按乡镇或学校拆分后分别上传`);
  }
  const bytes = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const notXlsx = () => new SpreadsheetLimitError("不是有效的 .xlsx 文件，请用 Excel 另存为 .xlsx 后上传");
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (bytes.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw notXlsx();
  const count = bytes.readUInt16LE(eocd + 10);
  if (count > limits.maxParts) throw new SpreadsheetLimitError(`文件结构异常（包含 ${count} 个部件），不像 Excel 表格`);
  let at = bytes.readUInt32LE(eocd + 16);
  let inflatedTotal = 0;
  const sheets: XlsxSummary["sheets"] = [];
  for (let n = 0; n < count; n++) {
    if (at + 46 > bytes.length || bytes.readUInt32LE(at) !== 0x02014b50) throw notXlsx();
    const method = bytes.readUInt16LE(at + 10);
    const compressed = bytes.readUInt32LE(at + 20);
    const declared = bytes.readUInt32LE(at + 24);
    const nameLength = bytes.readUInt16LE(at + 28);
    const local = bytes.readUInt32LE(at + 42);
    const name = bytes.toString("utf8", at + 46, at + 46 + nameLength);
    at += 46 + nameLength + bytes.readUInt16LE(at + 30) + bytes.readUInt16LE(at + 32);
    if (declared > compressed * limits.maxRatio && declared > 1024 * 1024) {
      throw new SpreadsheetLimitError(`文件中 ${name} 的压缩比异常（${Math.round(declared / Math.max(compressed, 1))} 倍），疑似压缩炸弹，已拒绝`);
    }
    inflatedTotal += declared;
    if (inflatedTotal > limits.maxInflatedBytes) throw new SpreadsheetLimitError(`文件解压后超过 ${mb(limits.maxInflatedBytes)}，请拆分后上传`);
    if (local + 30 > bytes.length || bytes.readUInt32LE(local) !== 0x04034b50) throw notXlsx();
    const start = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
    const data = bytes.subarray(start, start + compressed);
    // Every part is inflated, not just the ones named like sheets: a reader follows the
    // workbook's relationships to any path, and inflates shared strings or styles fully
    // whatever size they declare. The declared size is a claim; inflation stops at it
    // (and at the ratio bound), so a part that holds more than it declares is refused.
    let part: Buffer;
    try {
      const bound = Math.min(declared, compressed * limits.maxRatio + 1024 * 1024, limits.maxInflatedBytes);
      if (method === 0) part = data;
      else if (method === 8) part = inflateRawSync(data, { maxOutputLength: Math.max(bound, 1) });
      else throw notXlsx();
    } catch (err) {
      if (err instanceof RangeError || (err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
        throw new SpreadsheetLimitError(`文件中 ${name} 解压后超过其声明的大小，疑似压缩炸弹，已拒绝`);
      }
      if (err instanceof SpreadsheetLimitError) throw err;
      throw notXlsx();
    }
    // A worksheet is known by what it holds, not by where it sits in the zip.
    if (part.indexOf("<sheetData") < 0) continue;
    const xml = part.toString("utf8");
    sheets.push(inspectSheet(name, xml, limits));
  }
  return { sheets, inflatedBytes: inflatedTotal };
}

function inspectSheet(path: string, xml: string, limits: SpreadsheetLimits): XlsxSummary["sheets"][number] {
  const sheet = path.replace(/^xl\/worksheets\//, "");
  let rows = 0;
  let columns = 0;
  for (let i = xml.indexOf("<row"); i >= 0; i = xml.indexOf("<row", i + 4)) {
    const c = xml.charCodeAt(i + 4);
    if (c === 32 || c === 62 || c === 47 || c === 9 || c === 10 || c === 13) rows++;
  }
  if (rows > limits.maxRows) throw new SpreadsheetLimitError(`工作表 ${sheet} 有 ${rows} 行，超过上限 ${limits.maxRows} 行，请拆分后上传`);
  const dimension = /<dimension ref="[A-Z]+\d+:([A-Z]+)\d+"/.exec(xml);
  if (dimension) columns = colNumber(dimension[1]!);
  // The columns cells really use (a dimension may be missing or wrong).
  // `r` need not be the first attribute (`<c s="1" r="XFD1">`).
  for (const m of xml.matchAll(/<c\b[^>]*?\sr="([A-Z]{2,})\d+"/g)) columns = Math.max(columns, colNumber(m[1]!));
  // Cells without an `r` are placed one after another by readers: count them, too.
  let cells = 0;
  for (let i = xml.indexOf("<c"); i >= 0; i = xml.indexOf("<c", i + 2)) {
    const c = xml.charCodeAt(i + 2);
    if (c === 32 || c === 62 || c === 47 || c === 9 || c === 10 || c === 13) cells++;
  }
  if (cells > limits.maxCells) throw new SpreadsheetLimitError(`工作表 ${sheet} 有 ${cells} 个单元格，超过上限 ${limits.maxCells} 个，请拆分后上传`);
  if (columns > limits.maxColumns) throw new SpreadsheetLimitError(`工作表 ${sheet} 有 ${columns} 列，超过上限 ${limits.maxColumns} 列，请删除多余的列后上传`);
  let mergedCells = 0;
  const mergeStart = xml.lastIndexOf("<mergeCells");
  if (mergeStart >= 0) {
    for (const m of xml.slice(mergeStart).matchAll(/<mergeCell ref="([A-Z]+)(\d+):([A-Z]+)(\d+)"/g)) {
      const width = Math.abs(colNumber(m[3]!) - colNumber(m[1]!)) + 1;
      const height = Math.abs(Number(m[4]) - Number(m[2])) + 1;
      mergedCells += width * height;
      if (mergedCells > limits.maxMergedCells) {
        throw new SpreadsheetLimitError(
          `工作表 ${sheet} 的合并单元格共覆盖超过 ${limits.maxMergedCells} 个单元格（如 ${m[1]}${m[2]}:${m[3]}${m[4]}），请取消整表合并后上传`,
        );
      }
    }
  }
  return { path, rows, columns, mergedCells };
}
