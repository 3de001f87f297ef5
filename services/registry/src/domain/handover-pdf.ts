import { existsSync } from "node:fs";
import PDFDocument from "pdfkit";
import type { ChildTimeline } from "./handover.js";

/** The CJK font embedded in the pack (a subset: only the glyphs used). A TTC needs the face's PostScript name. */
export interface PackFont {
  path: string;
  name?: string;
}

export interface PackCover {
  schoolName: string;
  /** 三年级2班, or the class alone when the grade is not given. */
  classLabel: string;
  schoolYear: string;
  madeBy: string;
  /** China time, as staff read it. */
  madeAt: string;
  childCount: number;
}

/** One child's section: label/value rows already reduced to what the requester may read. */
export interface PackSection {
  name: string;
  facts: [string, string][];
  contacts: [string, string][];
  timeline: ChildTimeline;
}

/** Debian's fonts-noto-cjk (installed by .ci/run and the Docker image): the Simplified Chinese face of the collection. */
export const DEFAULT_PACK_FONT: PackFont = { path: "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", name: "NotoSansCJKsc-Regular" };

/** Fails with a message an operator can act on when the font is not installed (fonts-noto-cjk). */
export function assertFont(font: PackFont): void {
  if (!existsSync(font.path)) throw new Error(`找不到中文字体文件 ${font.path}（请安装 fonts-noto-cjk 或设置 HANDOVER_FONT_PATH）`);
}

const GREY = "#666666";
const TAG_COLOUR: Record<string, string> = { 走访: "#1d4ed8", 活动: "#4338ca", 体检: "#047857", 获奖: "#be185d", 成长记录: "#7e22ce" };

/**
 * The handover pack (交接包) as one PDF: a cover page, then each child on a page of their own — basic facts,
 * the 联系卡, the growth timeline. `sections` is consumed one child at a time (the caller reads each child's
 * data as it goes and reports progress); pages are numbered at the end.
 */
export async function writeHandoverPdf(cover: PackCover, sections: AsyncIterable<PackSection>, font: PackFont): Promise<Buffer> {
  assertFont(font);
  const doc = new PDFDocument({
    size: "A4",
    margin: 50,
    bufferPages: true,
    info: { Title: `${cover.schoolName}${cover.classLabel}交接包`, Author: cover.madeBy },
  });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on("data", (c: Buffer) => chunks.push(c));
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
  });
  doc.registerFont("cjk", font.path, font.name);
  doc.font("cjk");
  const width = doc.page.width - 100;

  // Cover.
  doc.moveDown(6).fontSize(28).text("交接包", { align: "center" });
  doc.moveDown(0.5).fontSize(14).fillColor(GREY).text("成长档案与联系卡", { align: "center" }).fillColor("black");
  doc.moveDown(3).fontSize(14);
  for (const [k, v] of [
    ["学校", cover.schoolName],
    ["班级", cover.classLabel],
    ["学年", cover.schoolYear],
    ["儿童人数", `${cover.childCount} 人`],
    ["制作人", cover.madeBy],
    ["制作时间", cover.madeAt],
  ] as const) {
    doc.text(`${k}：${v}`, 150, undefined, { width: width - 100 });
    doc.moveDown(0.4);
  }
  doc
    .moveDown(4)
    .fontSize(10)
    .fillColor(GREY)
    .text("本文件含儿童个人信息，仅供接班教师开展关爱工作使用，不得外传、复印或公开；用毕请妥善保管或销毁。各项内容按制作人的查看权限导出。", 50, undefined, {
      width,
      align: "center",
    })
    .fillColor("black");

  // A row is never split over two pages: a new page (the child's name again) when too little is left.
  let current = "";
  const room = () => {
    if (doc.y < doc.page.height - 75) return;
    doc.addPage();
    doc.fontSize(9).fillColor(GREY).text(`${current}（续）`, 50, 50, { width }).fillColor("black").fontSize(10.5);
    doc.moveDown(0.6);
  };
  const heading = (text: string) => {
    room();
    doc.moveDown(0.8).fontSize(13).fillColor("#0f172a").text(text, 50, undefined, { width });
    const y = doc.y + 2;
    doc
      .moveTo(50, y)
      .lineTo(50 + width, y)
      .lineWidth(0.5)
      .strokeColor("#cbd5e1")
      .stroke();
    doc.moveDown(0.4).fontSize(10.5).fillColor("black");
  };
  // Short facts two to a line (a year's timeline then fits the child's first page); long ones use rows().
  const pairsOfTwo = (pairs: [string, string][]) => {
    const half = width / 2;
    for (let i = 0; i < pairs.length; i += 2) {
      room();
      const y = doc.y;
      let bottom = y;
      for (const [j, [k, v]] of pairs.slice(i, i + 2).entries()) {
        const x = 50 + j * half;
        doc.fillColor(GREY).text(k, x, y, { width: 70 });
        bottom = Math.max(bottom, doc.y);
        doc.fillColor("black").text(v, x + 75, y, { width: half - 80 });
        bottom = Math.max(bottom, doc.y);
      }
      doc.y = bottom;
      doc.x = 50;
      doc.moveDown(0.15);
    }
  };
  const rows = (pairs: [string, string][]) => {
    for (const [k, v] of pairs) {
      room();
      const y = doc.y;
      doc.fillColor(GREY).text(k, 50, y, { width: 90 });
      const afterLabel = doc.y;
      doc.fillColor("black").text(v, 145, y, { width: width - 95 });
      doc.y = Math.max(doc.y, afterLabel);
      doc.moveDown(0.15);
    }
  };

  for await (const s of sections) {
    current = s.name;
    doc.addPage();
    doc.fontSize(20).fillColor("black").text(s.name, 50, 50, { width });
    heading("基本情况");
    pairsOfTwo(s.facts.filter(([, v]) => v.length <= 20));
    rows(s.facts.filter(([, v]) => v.length > 20));
    heading("联系卡");
    rows(s.contacts.length ? s.contacts : [["", "（无可查看的联系方式）"]]);
    heading("成长档案");
    if (s.timeline.items.length === 0) doc.fillColor(GREY).text("暂无记录", 50, undefined, { width }).fillColor("black");
    for (const item of s.timeline.items) {
      room();
      const y = doc.y;
      doc.fillColor(GREY).text(item.date, 50, y, { width: 75 });
      doc.fillColor(TAG_COLOUR[item.tag] ?? "black").text(item.tag, 128, y, { width: 55 });
      doc.fillColor("black").text(item.text, 185, y, { width: width - 135 });
      doc.moveDown(0.12);
    }
    if (s.timeline.withheld.length) {
      doc
        .moveDown(0.6)
        .fontSize(9)
        .fillColor(GREY)
        .text(`按查看权限未列入：${s.timeline.withheld.join("、")}`, 50, undefined, { width })
        .fillColor("black");
    }
  }

  // Footer on every page but the cover: the class and the page number.
  const range = doc.bufferedPageRange();
  for (let i = 1; i < range.count; i++) {
    doc.switchToPage(range.start + i);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc
      .fontSize(8)
      .fillColor(GREY)
      .text(`${cover.schoolName}${cover.classLabel} 交接包 · 第 ${i} 页，共 ${range.count - 1} 页`, 50, doc.page.height - 35, {
        width,
        align: "center",
        lineBreak: false,
      });
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  return done;
}
