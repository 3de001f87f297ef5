/**
 * Generates township register workbooks (.xlsx) like the ones townships keep.
 *
 *   npx tsx services/registry/samples/generate-register.ts                 # the committed sample with real-file quirks
 *   npx tsx services/registry/samples/generate-register.ts --rows 100000 --out /tmp/r.xlsx --clean
 *
 * Deterministic (seeded). ID numbers carry valid GB 11643 check digits and agree
 * with birth date and sex. The demo county is 360999 (see seed/demo-org.ts).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import ExcelJS from "exceljs";
import { checkDigit } from "../src/domain/resident-id.js";
import { registerColumns } from "../src/spreadsheet/columns.js";

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const rows = Number(arg("--rows") ?? 40);
const clean = args.includes("--clean");
const out = arg("--out") ?? path.join(path.dirname(fileURLToPath(import.meta.url)), "长岭乡留守儿童登记表-示例.xlsx");

let seed = 20261122;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const surnames = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马", "罗"];
const given = ["子涵", "浩然", "欣怡", "梓轩", "雨桐", "宇航", "思琪", "俊杰", "佳怡", "明轩", "诗涵", "子豪", "一诺", "若曦", "嘉怡", "文博", "晨阳", "可欣"];
const villages = [
  { township: "长岭乡", village: "长岭村", school: "长岭乡中心小学" },
  { township: "长岭乡", village: "白水村", school: "长岭乡中心小学" },
  { township: "城关镇", village: "东街社区", school: "城关第一小学" },
  { township: "城关镇", village: "西街社区", school: "城关第一小学" },
  { township: "石门镇", village: "石门村", school: "石门镇中学" },
  { township: "石门镇", village: "青山村", school: "石门镇中学" },
];
const workplaces = ["广东省东莞市", "广东省深圳市", "浙江省义乌市", "福建省晋江市", "江苏省苏州市", "上海市"];
const relations = ["祖父", "祖母", "外祖父", "外祖母"];

let serial = 0;
function idFor(birth: string, male: boolean): string {
  serial += 1;
  const seq =
    String(serial % 1000)
      .padStart(3, "0")
      .slice(0, 2) + String((serial % 5) * 2 + (male ? 1 : 0));
  const body = `360999${birth.replaceAll("-", "")}${seq}`;
  return body + checkDigit(body);
}

function phone(): string {
  return `13${Math.floor(rand() * 10)}${String(Math.floor(rand() * 1e8)).padStart(8, "0")}`;
}

function child(i: number, onlyChanglingTownship: boolean) {
  const place = onlyChanglingTownship ? villages[i % 2]! : pick(villages);
  const year = 2011 + Math.floor(rand() * 10);
  const birth = `${year}-${String(1 + Math.floor(rand() * 12)).padStart(2, "0")}-${String(1 + Math.floor(rand() * 28)).padStart(2, "0")}`;
  const male = rand() < 0.5;
  const both = rand() < 0.6;
  const surname = pick(surnames);
  return {
    seq: i + 1,
    name: surname + pick(given),
    sex: male ? "男" : "女",
    ethnicity: rand() < 0.9 ? "汉族" : "瑶族",
    birthDate: birth,
    idNumber: idFor(birth, male),
    address: `${place.township}${place.village}${1 + Math.floor(rand() * 9)}组`,
    school: place.school,
    grade: `${["一", "二", "三", "四", "五", "六"][Math.min(5, Math.max(0, 2026 - year - 7))]}年级`,
    className: `${1 + Math.floor(rand() * 3)}班`,
    leftBehindType: both ? "双留守" : "单留守",
    difficulty: rand() < 0.1 ? "家庭经济困难" : null,
    guardianName: surname + pick(["德明", "桂英", "秀兰", "建国"]),
    guardianRelation: pick(relations),
    guardianAge: 55 + Math.floor(rand() * 20),
    guardianHealth: pick(["良好", "一般", "较差"]),
    guardianPhone: phone(),
    fatherName: surname + pick(["志强", "海军", "建华"]),
    fatherWork: pick(workplaces),
    fatherPhone: phone(),
    motherName: both ? pick(surnames) + pick(["丽", "芳", "红梅"]) : pick(surnames) + "霞",
    motherWork: both ? pick(workplaces) : null,
    motherPhone: phone(),
    familySituation: pick(["一般", "困难", "较好"]),
    healthNotes: pick(["健康", "健康", "轻度近视"]),
    psychologicalNotes: pick(["良好", "内向", "良好"]),
    helperName: `${pick(surnames)}老师`,
    remarks: null as string | null,
  };
}

const keys = registerColumns.map((c) => c.key);

async function main() {
  if (clean) {
    // Large files stream; the quirky sample below needs merges, which the streaming writer mishandles.
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: out, useSharedStrings: true, useStyles: false });
    const ws = wb.addWorksheet("登记表");
    ws.columns = keys.map((key) => ({ key, width: 12 }));
    ws.addRow(["示范县农村留守儿童信息登记表"]).commit();
    ws.addRow(registerColumns.map((c) => c.label)).commit();
    for (let i = 0; i < rows; i++) {
      const c = child(i, false);
      ws.addRow(keys.map((k) => (c as Record<string, unknown>)[k] ?? null)).commit();
    }
    ws.commit();
    await wb.commit();
    console.log(`wrote ${rows} rows to ${out}`);
    return;
  }
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet("长岭乡");
  ws.columns = keys.map((key) => ({ key, width: 12 }));

  // The quirky sample: title row, grouped second header row (监护人/父亲/母亲 over
  // sub-columns), merged cells, full-width digits, lower-case x, spaces, Excel
  // serial dates and text dates, phones with dashes and +86, blank rows, a
  // duplicate child, an ID stored as a number, and a totals row.
  ws.addRow(["长岭乡农村留守儿童信息登记表"]);
  ws.mergeCells(1, 1, 1, keys.length);
  const groupRow = keys.map((k) => {
    if (k.startsWith("guardian")) return "监护人情况";
    if (k.startsWith("father")) return "父亲情况";
    if (k.startsWith("mother")) return "母亲情况";
    return registerColumns.find((c) => c.key === k)!.label;
  });
  const subRow = keys.map((k) => {
    const sub: Record<string, string> = {
      guardianName: "姓名",
      guardianRelation: "与儿童关系",
      guardianAge: "年龄",
      guardianHealth: "健康状况",
      guardianPhone: "联系电话",
      fatherName: "姓名",
      fatherWork: "务工地",
      fatherPhone: "电话",
      motherName: "姓名",
      motherWork: "务工地",
      motherPhone: "电话",
    };
    return sub[k] ?? null;
  });
  ws.addRow(groupRow);
  ws.addRow(subRow);
  const col = (k: string) => keys.indexOf(k as never) + 1;
  for (const [start, end] of [
    ["guardianName", "guardianPhone"],
    ["fatherName", "fatherPhone"],
    ["motherName", "motherPhone"],
  ] as const) {
    ws.mergeCells(2, col(start), 2, col(end));
  }
  // Single columns span both header rows.
  for (const k of keys) if (!subRow[keys.indexOf(k)]) ws.mergeCells(2, col(k), 3, col(k));

  const data = Array.from({ length: rows }, (_, i) => child(i, true));
  // A lower-case x check digit, as typists enter it.
  const withX = data.findIndex((c, i) => i > 20 && c.idNumber.endsWith("X"));
  let r = 4;
  data.forEach((c, i) => {
    const values: Record<string, unknown> = { ...c };
    if (i === 1) values.idNumber = String(c.idNumber).replace(/\d/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0)); // full-width
    if (i === 2) values.idNumber = `${String(c.idNumber).slice(0, 6)} ${String(c.idNumber).slice(6, 14)} ${String(c.idNumber).slice(14)}`; // spaces
    if (i === 3) {
      values.birthDate =
        (Date.UTC(...((c.birthDate.split("-").map(Number) as [number, number, number]).map((v, j) => (j === 1 ? v - 1 : v)) as [number, number, number])) -
          Date.UTC(1899, 11, 30)) /
        86_400_000; // Excel serial
    }
    if (i === 4) values.birthDate = c.birthDate.replace(/-0?/g, ".").replace(/\.(\d)\./, ".$1."); // 2012.5.3
    if (i === 5) {
      const [y, m, d] = c.birthDate.split("-").map(Number);
      values.birthDate = `${y}年${m}月${d}日`;
    }
    if (i === 6) values.guardianPhone = `${c.guardianPhone.slice(0, 3)}-${c.guardianPhone.slice(3, 7)}-${c.guardianPhone.slice(7)}`;
    if (i === 7) values.fatherPhone = `+86 ${c.fatherPhone}`;
    if (i === 8) values.name = `${c.name.slice(0, 1)} ${c.name.slice(1)}`; // space inside a name
    if (i === 9) values.idNumber = Number(String(c.idNumber).slice(0, 17)) * 10; // typed as a number: Excel kept 15 digits
    if (i === 11) Object.assign(values, data[10], { seq: c.seq }); // the same child twice
    if (i === 12) values.idNumber = String(c.idNumber).slice(0, 17) + (String(c.idNumber)[17] === "0" ? "1" : "0"); // wrong check digit
    if (i === 13) values.address = "外县某某村"; // not in this county
    if (i === withX) values.idNumber = String(c.idNumber).toLowerCase();
    // A merged slave cell writes through to its master in exceljs: the sibling's shared cells stay empty.
    if (i === 16) for (const k of ["guardianName", "guardianRelation", "guardianAge", "guardianHealth", "guardianPhone", "address"]) values[k] = null;
    ws.addRow(keys.map((k) => values[k] ?? null));
    // Siblings 15 and 16 share a guardian: the guardian cells are merged over both rows.
    if (i === 16) {
      for (const k of ["guardianName", "guardianRelation", "guardianAge", "guardianHealth", "guardianPhone", "address"])
        ws.mergeCells(r - 1, col(k), r, col(k));
    }
    r += 1;
    if (i === 19) {
      ws.addRow([]); // blank rows between village blocks
      ws.addRow([]);
      r += 2;
    }
  });
  ws.addRow([`合计`, `${rows}人`]);
  await wb.xlsx.writeFile(out);
  console.log(`wrote the quirky sample (${rows} rows) to ${out}`);
}

await main();
