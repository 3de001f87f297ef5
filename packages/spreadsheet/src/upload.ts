import { ValidationError } from "@shouhu/kit";
import { SpreadsheetLimitError, inspectXlsx, type SpreadsheetLimits } from "./limits.js";

/** What @fastify/multipart's `request.file()` gives (kept structural: no plugin dependency here). */
export interface UploadedFilePart {
  fieldname: string;
  filename: string;
  file: { truncated: boolean };
  toBuffer(): Promise<Buffer>;
}

/**
 * The uploaded .xlsx of a multipart request (field `file`), checked before anything parses
 * it: present, within `maxBytes`, a zip, and within the spreadsheet limits (zip inflation,
 * rows, columns, merged cells). Anything else is a 400 on `file` with a reason staff can act on.
 */
export async function readUploadedXlsx(
  request: { isMultipart(): boolean; file(): Promise<UploadedFilePart | undefined> },
  limits: Partial<SpreadsheetLimits> & { maxFileBytes: number },
): Promise<{ content: Uint8Array<ArrayBuffer>; fileName: string }> {
  if (!request.isMultipart()) throw ValidationError.field("file", "请以 multipart/form-data 上传 .xlsx 文件（字段名 file）");
  const part = await request.file();
  if (!part || part.fieldname !== "file") throw ValidationError.field("file", "缺少上传文件（字段名 file）");
  const tooBig = () => ValidationError.field("file", `文件超过 ${limits.maxFileBytes / 1024 / 1024} MB`);
  let buffer: Buffer;
  try {
    buffer = await part.toBuffer();
  } catch (err) {
    // The multipart plugin's own size limit (413 FST_REQ_FILE_TOO_LARGE): a 400 on `file` like any other.
    if ((err as { code?: string }).code === "FST_REQ_FILE_TOO_LARGE") throw tooBig();
    throw err;
  }
  const content = new Uint8Array(buffer);
  if (part.file.truncated || content.length > limits.maxFileBytes) throw tooBig();
  // .xlsx is a zip; .xls (BIFF) and CSV are refused here with a reason staff can act on.
  if (content.length < 4 || Buffer.from(content.buffer, content.byteOffset, 4).readUInt32LE(0) !== 0x04034b50) {
    throw ValidationError.field("file", "文件不是 .xlsx 格式（如为 .xls，请在 Excel 中另存为 .xlsx 后再上传）");
  }
  try {
    inspectXlsx(content, limits);
  } catch (err) {
    if (err instanceof SpreadsheetLimitError) throw ValidationError.field("file", err.message);
    throw err;
  }
  return { content, fileName: part.filename };
}
