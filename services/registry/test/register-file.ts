import ExcelJS from "exceljs";
import { residentId, type Harness } from "./harness.js";

// Registers as townships fill them, and their upload: shared by the import and re-import tests.

/** The register's columns as the county's form has them (the importer reads them by header). */
export const headers = [
  "序号",
  "姓名",
  "性别",
  "民族",
  "出生日期",
  "身份证号",
  "户籍地址",
  "就读学校",
  "年级",
  "班级",
  "留守类型",
  "困境类型",
  "监护人姓名",
  "与儿童关系",
  "监护人年龄",
  "监护人健康状况",
  "监护人电话",
  "父亲姓名",
  "父亲务工地",
  "父亲电话",
  "母亲姓名",
  "母亲务工地",
  "母亲电话",
  "家庭经济状况",
  "健康状况",
  "心理状况",
  "帮扶责任人",
  "备注",
];

export type Row = Partial<Record<(typeof headers)[number], unknown>>;

/** Child number `seq` of a township register (ID numbers 360999…, sequence 100 + seq), with fields overridden. */
export function person(seq: number, overrides: Row = {}): Row {
  const birth = `2014-0${(seq % 9) + 1}-1${seq % 9}`;
  const sex = seq % 2 ? "male" : "female";
  return {
    序号: seq,
    姓名: `学生${seq}`,
    性别: sex === "male" ? "男" : "女",
    民族: "汉族",
    出生日期: birth,
    身份证号: residentId("360999", birth, 100 + seq, sex),
    户籍地址: "长岭乡长岭村3组",
    就读学校: "长岭乡中心小学",
    年级: "三年级",
    班级: "1班",
    留守类型: "双留守",
    监护人姓名: "王奶奶",
    与儿童关系: "祖母",
    监护人年龄: 66,
    监护人电话: "139-0731-0002",
    父亲姓名: "王父",
    父亲务工地: "广东省东莞市",
    父亲电话: "+86 138 0000 0003",
    母亲姓名: "李母",
    母亲务工地: "浙江省义乌市",
    母亲电话: "13800000004",
    ...overrides,
  };
}

/** A register workbook as a township fills it: title row (merged), headers, one row per child. */
export async function workbook(rows: Row[], extra?: (ws: ExcelJS.Worksheet) => void): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet("长岭乡");
  ws.addRow(["长岭乡农村留守儿童信息登记表"]);
  ws.mergeCells(1, 1, 1, headers.length);
  ws.addRow(headers);
  for (const r of rows) ws.addRow(headers.map((h) => r[h] ?? null));
  extra?.(ws);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** `POST /api/v1/imports` (`query`: "?mode=update" for a re-import) with the workbook as a multipart upload. */
export async function uploadRegister(h: Harness, content: Buffer, opts: { username?: string; filename?: string; query?: string } = {}) {
  const { username = "changling.supervisor", filename = "长岭乡登记表.xlsx", query = "" } = opts;
  const boundary = "----shouhu" + Math.random().toString(16).slice(2);
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${encodeURIComponent(filename)}"\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return h.app.inject({
    method: "POST",
    url: `/api/v1/imports${query}`,
    headers: { ...(await h.as(username)), "content-type": `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.concat([head, content, tail]),
  });
}
