import { PassThrough } from "node:stream";
import ExcelJS from "exceljs";
import { labels } from "@shouhu/contracts";
import type { ChildRecord } from "../domain/child-record.js";
import { registerColumns } from "./columns.js";

export interface ExportOptions {
  title: string;
  /** Org-unit code → name, so 户籍地址 reads as staff write it and imports back. */
  placeNames?: Map<string, string>;
}

function addressText(child: ChildRecord, places: Map<string, string> | undefined): string {
  const village = places?.get(child.villageCode) ?? "";
  const township = places?.get(child.townshipCode) ?? "";
  const detail = child.address ?? "";
  const withVillage = village && !detail.includes(village) ? `${village}${detail}` : detail || village;
  return township && !withVillage.includes(township) ? `${township}${withVillage}` : withVillage;
}

function rowOf(child: ChildRecord, seq: number, places?: Map<string, string>): (string | number | null)[] {
  const guardian = child.guardians[0];
  const father = child.parents.find((p) => p.role === "father");
  const mother = child.parents.find((p) => p.role === "mother");
  const work = (p?: { workProvince: string | null; workCity: string | null }) => (p ? `${p.workProvince ?? ""}${p.workCity ?? ""}` || null : null);
  const values: Record<(typeof registerColumns)[number]["key"], string | number | null> = {
    seq,
    name: child.name,
    sex: labels.sex[child.sex],
    ethnicity: child.ethnicity,
    birthDate: child.birthDate,
    idNumber: child.idNumber,
    address: addressText(child, places),
    school: child.schoolName,
    grade: child.grade,
    className: child.className,
    leftBehindType: labels.leftBehindType[child.leftBehindType],
    difficulty: child.difficultyCategories.map((d) => labels.difficultyCategory[d]).join("、") || null,
    guardianName: guardian?.name ?? null,
    guardianRelation: guardian?.relation ?? null,
    guardianAge: guardian?.age ?? null,
    guardianHealth: guardian?.health ?? null,
    guardianPhone: guardian?.phone ?? null,
    fatherName: father?.name ?? null,
    fatherWork: work(father),
    fatherPhone: father?.phone ?? null,
    motherName: mother?.name ?? null,
    motherWork: work(mother),
    motherPhone: mother?.phone ?? null,
    familySituation: child.familySituation,
    healthNotes: child.healthNotes,
    psychologicalNotes: child.psychologicalNotes,
    helperName: child.helperName,
    remarks: child.remarks,
  };
  return registerColumns.map((c) => values[c.key]);
}

/**
 * Streams children into an .xlsx with the import template's layout: a title
 * row, the column headers, one row per child. ID numbers and phones are written
 * as text so Excel cannot turn them into numbers.
 */
export async function writeRegisterWorkbook(children: AsyncIterable<ChildRecord>, options: ExportOptions): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    out.on("end", resolve);
    out.on("error", reject);
  });
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: true });
  const ws = wb.addWorksheet("登记表", { views: [{ state: "frozen", ySplit: 2 }] });
  ws.columns = registerColumns.map((c) => ({ key: c.key, width: c.key === "idNumber" ? 22 : c.key === "address" ? 24 : 12, style: { numFmt: "@" } }));
  const title = ws.addRow([options.title]);
  title.font = { bold: true, size: 14 };
  ws.mergeCells(1, 1, 1, registerColumns.length);
  title.commit();
  const header = ws.addRow(registerColumns.map((c) => c.label));
  header.font = { bold: true };
  header.commit();
  let seq = 0;
  for await (const child of children) {
    ws.addRow(rowOf(child, ++seq, options.placeNames)).commit();
  }
  const total = ws.addRow([`合计：${seq} 人`]);
  total.commit();
  ws.commit();
  await wb.commit();
  await done;
  return Buffer.concat(chunks);
}
