import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { handMadeXlsx as xlsx, sheetXml as sheet, sheetRows as rows, zip } from "@shouhu/testing";
import { SpreadsheetLimitError, inspectXlsx } from "../src/index.js";

const refused = (file: Buffer, message: RegExp, limits = {}) => {
  expect(() => inspectXlsx(file, limits)).toThrow(SpreadsheetLimitError);
  expect(() => inspectXlsx(file, limits)).toThrow(message);
};

describe("spreadsheet limits before parsing", () => {
  it("passes the real register samples", () => {
    const dir = fileURLToPath(new URL("../../../services/registry/samples/", import.meta.url));
    const files = readdirSync(dir).filter((f) => f.endsWith(".xlsx"));
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) expect(inspectXlsx(readFileSync(dir + f)).sheets.length).toBeGreaterThan(0);
  });

  it("refuses a file over the size limit", () => refused(xlsx(sheet(rows(10))), /文件过大/, { maxFileBytes: 100 }));

  it("refuses a merged range over a whole sheet (A1:XFD1048576) without filling a cell", () => {
    refused(xlsx(sheet(rows(3), `<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>`)), /合并单元格.*A1:XFD1048576/);
  });

  it("refuses a zip bomb by its ratio, and one that lies about its size by inflating no further than it claims", () => {
    const zeros = Buffer.concat([Buffer.from(sheet("")), Buffer.alloc(50 * 1024 * 1024, 0x20)]);
    refused(xlsx(zeros), /压缩比异常/);
    refused(xlsx(zeros, { "xl/worksheets/sheet1.xml": 4096 }), /超过其声明的大小/);
  });

  it("refuses too many rows or columns", () => {
    refused(xlsx(sheet(rows(120))), /120 行/, { maxRows: 100 });
    refused(xlsx(sheet(`<row r="1"><c r="ZZ1"><v>1</v></c></row>`)), /列/, { maxColumns: 256 });
    refused(xlsx(sheet(rows(2)).replace("<sheetData>", `<dimension ref="A1:XFD2"/><sheetData>`)), /16384 列/);
  });

  it("says what is wrong with something that is not an .xlsx", () => refused(Buffer.from("姓名,身份证号\n"), /不是有效的 .xlsx/));

  it("finds a sheet by what it holds wherever it sits, and reads a cell's column whatever the attribute order", () => {
    const hidden = zip({ "xl/workbook.xml": "<workbook/>", "xl/elsewhere/data.xml": sheet(`<row r="1"><c r="ZZ1"><v>1</v></c></row>`) });
    refused(hidden, /data\.xml.*列/);
    refused(xlsx(sheet(`<row r="1"><c s="1" t="n" r="XFD1"><v>1</v></c></row>`)), /16384 列/);
  });

  it("refuses a shared-strings part that holds more than it declares, and counts cells without a reference", () => {
    const strings = Buffer.concat([Buffer.from("<sst>"), Buffer.alloc(8 * 1024 * 1024, 0x41), Buffer.from("</sst>")]);
    refused(
      zip({ "xl/workbook.xml": "<workbook/>", "xl/sharedStrings.xml": strings, "xl/worksheets/sheet1.xml": sheet(rows(2)) }, { "xl/sharedStrings.xml": 1024 }),
      /sharedStrings\.xml 解压后超过其声明的大小/,
    );
    refused(xlsx(sheet(`<row>${"<c><v>1</v></c>".repeat(500)}</row>`)), /500 个单元格/, { maxCells: 400 });
  });
});
