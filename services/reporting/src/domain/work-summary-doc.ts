import { AlignmentType, Document, Packer, Paragraph, Table, TableCell, TableRow, TextRun, WidthType } from "docx";
import { labels } from "@shouhu/contracts";
import type { WorkSummaryFigures } from "../data/work-summary.js";
import type { Semester } from "@shouhu/cn";

/**
 * A semester's 工作总结 drafted as .docx, in the structure such summaries keep (一、基本情况 二、主要工作及成效
 * 三、存在的问题和不足 四、下一步工作打算), every figure from the read models, and bracketed prompts where only
 * staff can write (what was done and how): a draft to edit and send up, not a finished report.
 * Fonts as official documents set them (title 宋体 bold, 黑体 headings, 楷体 sub-headings, 仿宋 body); Word
 * substitutes where a font is missing.
 */
export async function workSummaryDocx(input: { unitName: string; semester: Semester; asOf: string; figures: WorkSummaryFigures }): Promise<Buffer> {
  const { unitName, semester, asOf, figures: f } = input;
  const body = (text: string) => new Paragraph({ children: [new TextRun(text)], indent: { firstLine: 640 }, spacing: { line: 560 } });
  const prompt = (text: string) =>
    new Paragraph({ children: [new TextRun({ text, color: "808080", italics: true })], indent: { firstLine: 640 }, spacing: { line: 560 } });
  const heading = (text: string) => new Paragraph({ children: [new TextRun({ text, font: "黑体" })], indent: { firstLine: 640 }, spacing: { line: 560 } });
  const sub = (text: string) => new Paragraph({ children: [new TextRun({ text, font: "楷体" })], indent: { firstLine: 640 }, spacing: { line: 560 } });

  const count = (n: number) => `${n}`;
  const pct = (a: number, b: number) => (b > 0 ? `${Math.round((a / b) * 1000) / 10}%` : "—");
  /** "双留守12名、单留守3名" — the non-zero parts of a tally, in the label table's order. */
  const parts = (tally: Record<string, number>, names: Record<string, string>, unit: string) =>
    Object.keys(names)
      .filter((k) => (tally[k] ?? 0) > 0)
      .map((k) => `${names[k]}${tally[k]}${unit}`)
      .concat(
        Object.keys(tally)
          .filter((k) => !(k in names) && tally[k]! > 0)
          .map((k) => `${k}${tally[k]}${unit}`),
      )
      .join("、");

  const c = f.children;
  const examinedRate = pct(f.checkups.examined, c.active);
  const problems: string[] = [];
  if (f.pairings.unpaired > 0) problems.push(`仍有${f.pairings.unpaired}名在册儿童未落实结对帮扶人。`);
  if (f.visits.missed > 0) problems.push(`本学期逾期未访${f.visits.missed}次，走访及时率为${pct(f.visits.onTime, f.visits.due)}。`);
  if (c.active > f.checkups.examined) problems.push(`${c.active - f.checkups.examined}名在册儿童本学期未参加健康体检。`);
  if (f.checkups.flaggedChildren > 0) problems.push(`体检发现${f.checkups.flaggedChildren}名儿童存在需关注的健康问题，需跟踪复查。`);
  if (f.concerns.openNow > 0) problems.push(`目前仍有${f.concerns.openNow}件关注事项尚未办结。`);
  if (f.concerns.escalated > 0) problems.push(`本学期有${f.concerns.escalated}件关注事项未在时限内响应，已逐级上报。`);

  const table = new Table({
    width: { size: 100, type: WidthType.PERCENTAGE },
    rows: [
      ["指标", "数量"],
      ["在册儿童", count(c.active)],
      ...Object.entries(labels.leftBehindType).map(([k, name]) => [`其中${name}`, count(c.byType[k] ?? 0)]),
      ["已结对帮扶儿童", `${f.pairings.mentored}（结对率 ${pct(f.pairings.mentored, c.active)}）`],
      ["在岗帮扶人", count(f.pairings.helpers)],
      ["走访、谈心和亲情联系", `${f.visits.records} 次`],
      [
        "其中亲情电话（与父母通话）",
        `接通 ${f.visits.calls.connected} 次` +
          (f.visits.calls.minutes ? `，共 ${f.visits.calls.minutes} 分钟` : "") +
          (f.visits.calls.attempts ? `；未接通 ${f.visits.calls.attempts} 次` : ""),
      ],
      ["走访及时率", pct(f.visits.onTime, f.visits.due)],
      ["参加健康体检儿童", `${f.checkups.examined}（覆盖率 ${examinedRate}）`],
      ["新发现关注事项", `${f.concerns.raised} 件`],
      ["本学期办结关注事项", `${f.concerns.resolvedInTerm} 件`],
      ...(f.activities ? [["儿童之家活动", `${f.activities.sessions} 次、${f.activities.attendances} 人次`]] : []),
    ].map(
      ([a, b], i) =>
        new TableRow({
          tableHeader: i === 0,
          children: [a!, b!].map(
            (text) => new TableCell({ children: [new Paragraph({ children: [new TextRun({ text, bold: i === 0 })], alignment: AlignmentType.CENTER })] }),
          ),
        }),
    ),
  });

  const categories = parts(c.byCategory, labels.difficultyCategory, "名");
  const doc = new Document({
    creator: "守护",
    title: `${unitName}农村留守儿童关爱保护工作总结`,
    styles: { default: { document: { run: { font: "仿宋", size: 32 } } } },
    sections: [
      {
        children: [
          new Paragraph({
            alignment: AlignmentType.CENTER,
            spacing: { after: 200 },
            children: [new TextRun({ text: `${unitName}农村留守儿童关爱保护工作总结`, font: "宋体", bold: true, size: 44 })],
          }),
          new Paragraph({ alignment: AlignmentType.CENTER, children: [new TextRun({ text: `（${semester.label}）`, font: "楷体" })] }),
          new Paragraph({
            alignment: AlignmentType.CENTER,
            spacing: { after: 300 },
            children: [
              new TextRun({
                text: `本稿由守护系统根据台账数据生成（${semester.from}至${semester.to}，数据截至${asOf}），请核对数字、补充灰色提示处后报送。`,
                color: "808080",
                size: 24,
              }),
            ],
          }),

          heading("一、基本情况"),
          body(
            `截至${asOf}，${unitName}共建档在册农村留守儿童和困境儿童${c.active}名，其中${parts(c.byType, labels.leftBehindType, "名") || "暂无分类数据"}。` +
              (categories ? `困境类别中，${categories}。` : "") +
              `按风险等级，${parts(c.byRisk, { high: "高风险", medium: "中风险", low: "低风险" }, "名") || "暂无评估"}。已退出关爱名册的儿童累计${c.exited}名。`,
          ),
          table,

          heading("二、主要工作及成效"),
          sub("（一）落实结对帮扶"),
          body(
            `${f.pairings.mentored}名在册儿童落实了结对帮扶人，结对率${pct(f.pairings.mentored, c.active)}；${f.pairings.helpers}名帮扶人在岗帮扶。` +
              `本学期新建结对${f.pairings.startedInTerm}对，解除或移交${f.pairings.endedInTerm}对；开展“手拉手”同伴结对${f.pairings.peerBuddies}对。`,
          ),
          prompt("（请补充：帮扶人的选派和培训、代理家长制度落实情况。）"),
          sub("（二）定期走访和亲情联系"),
          body(
            `本学期共开展走访、谈心和亲情联系${f.visits.records}次，覆盖儿童${f.visits.childrenVisited}名` +
              (f.visits.records ? `，其中${parts(f.visits.byKind, labels.visitKind, "次")}` : "") +
              `。按走访周期，本学期应访${f.visits.due}次，按时完成${f.visits.onTime}次，补访${f.visits.late}次，逾期未访${f.visits.missed}次，走访及时率${pct(f.visits.onTime, f.visits.due)}。`,
          ),
          prompt("（请补充：亲情电话、致家长的一封信等亲情联系的做法和典型事例。）"),
          sub("（三）免费健康体检"),
          body(
            `本学期组织${f.checkups.examined}名儿童参加免费健康体检，覆盖率${examinedRate}；` +
              (f.checkups.flaggedChildren
                ? `发现需关注的健康问题${f.checkups.flaggedChildren}名，其中${parts(f.checkups.flags, labels.checkupFlag, "名")}，已通知监护人并跟踪复查。`
                : "未发现需关注的健康问题。"),
          ),
          sub("（四）关爱保护和强制报告"),
          body(
            `本学期发现并登记关注事项${f.concerns.raised}件` +
              (f.concerns.raised ? `，其中${parts(f.concerns.byCategory, labels.concernCategory, "件")}` : "") +
              `；本学期办结${f.concerns.resolvedInTerm}件，目前仍在办理${f.concerns.openNow}件。`,
          ),
          sub("（五）留守儿童之家和主题活动"),
          ...(f.activities && f.activities.sessions > 0
            ? [
                body(
                  `本学期${f.activities.sites}个留守儿童之家共开展活动${f.activities.sessions}次、参与${f.activities.attendances}人次，` +
                    `其中${parts(f.activities.byKind, labels.activityKind, "次")}。`,
                ),
                prompt("（请补充：典型活动的做法和成效，并附活动照片。）"),
              ]
            : [prompt("（请补充：留守儿童之家开展课业辅导、心理辅导、安全教育、亲情通话、文体活动的次数和参与人次，并附活动照片。）")]),

          heading("三、存在的问题和不足"),
          ...problems.map((p, i) => body(`${i + 1}. ${p}`)),
          prompt("（请补充其他问题和原因分析。）"),

          heading("四、下一步工作打算"),
          ...[
            f.pairings.unpaired > 0 ? `对未结对的${f.pairings.unpaired}名儿童逐一落实帮扶人。` : null,
            f.visits.missed > 0 ? "督促帮扶人按周期走访，逾期未访的及时补访。" : null,
            c.active > f.checkups.examined ? "组织未体检的儿童参加体检，对体检发现的问题跟踪复查。" : null,
            f.concerns.openNow > 0 ? "加快办理在办关注事项，落实强制报告和及时响应。" : null,
          ]
            .filter((x): x is string => x !== null)
            .map((p, i) => body(`${i + 1}. ${p}`)),
          prompt("（请补充下学期的工作计划。）"),

          new Paragraph({ alignment: AlignmentType.RIGHT, spacing: { before: 600 }, children: [new TextRun(unitName)] }),
          new Paragraph({ alignment: AlignmentType.RIGHT, children: [new TextRun(asOf)] }),
        ],
      },
    ],
  });
  return Packer.toBuffer(doc);
}
