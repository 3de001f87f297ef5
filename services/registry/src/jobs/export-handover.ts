import { z } from "zod";
import { labels, Role } from "@shouhu/contracts";
import { childView } from "@shouhu/auth";
import { todayInChina } from "@shouhu/cn";
import type { PrismaClient } from "../data/db.js";
import { childInclude, toChildRecord } from "../data/child-mapper.js";
import { contactCard } from "../data/contact-card.js";
import { strandsOf } from "../data/growth-strands.js";
import { presentChild } from "../domain/present.js";
import { schoolYearOf } from "../domain/school-year.js";
import { childTimeline, type PackRequester } from "../domain/handover.js";
import { writeHandoverPdf, type PackFont, type PackSection } from "../domain/handover-pdf.js";
import { defineJob } from "./job-definitions.js";

/** The handover pack, on the export queue beside the register export. */
export const exportHandoverJob = defineJob({ id: "export-handover", schema: z.object({ exportId: z.uuid() }) });

/** What a handover export row keeps in `filters`: the class, and who asked (the pack holds what they may read). */
export const HandoverFilters = z.object({
  kind: z.literal("handover"),
  schoolId: z.string(),
  className: z.string(),
  grade: z.string().nullable(),
  /** The requester's area when they asked: only the class's children inside it. */
  orgUnit: z.string(),
  roles: z.array(Role),
  requester: z.object({ userId: z.string(), username: z.string(), name: z.string() }),
});
export type HandoverFilters = z.infer<typeof HandoverFilters>;

/** The children a pack holds: the class's active children inside the requester's area, by name. */
export function handoverWhere(f: { schoolId: string; className: string; grade: string | null; orgUnit: string }) {
  return {
    schoolId: f.schoolId,
    className: f.className,
    status: "active",
    villageCode: { startsWith: f.orgUnit },
    ...(f.grade ? { grade: f.grade } : {}),
  };
}

const chinaTime = (d: Date) => {
  const t = new Date(d.getTime() + 8 * 3600_000).toISOString();
  return `${t.slice(0, 4)}年${Number(t.slice(5, 7))}月${Number(t.slice(8, 10))}日 ${t.slice(11, 16)}`;
};

/**
 * Builds the pack: one child at a time (their record, 联系卡 and strands, presented for the requester as the
 * API would present them), progress after each; the file and the children it names are stored on the export row.
 */
export async function runHandover(prisma: PrismaClient, font: PackFont, exportId: string, now: () => Date = () => new Date()): Promise<void> {
  const job = await prisma.exportJob.findUnique({ where: { id: exportId }, omit: { content: true } });
  if (!job || job.status === "completed") return;
  const f = HandoverFilters.parse(job.filters);
  const requester: PackRequester = { ...f.requester, roles: f.roles };
  const rows = await prisma.child.findMany({ where: handoverWhere(f), include: childInclude, orderBy: [{ name: "asc" }, { id: "asc" }] });
  await prisma.exportJob.update({ where: { id: exportId }, data: { status: "running", totalRows: rows.length, doneRows: 0 } });
  const ids = rows.map((r) => r.id);
  const [school, strands, pairedRows, units] = await Promise.all([
    prisma.school.findUnique({ where: { id: f.schoolId }, select: { name: true } }),
    strandsOf(prisma, ids),
    prisma.currentPairing.findMany({ where: { childId: { in: ids }, username: requester.username }, select: { childId: true } }),
    prisma.orgUnit.findMany({ where: { code: { in: [...new Set(rows.map((r) => r.villageCode))] } }, select: { code: true, name: true } }),
  ]);
  const paired = new Set(pairedRows.map((p) => p.childId));
  const villageName = new Map(units.map((u) => [u.code, u.name]));
  const of = <T extends { childId: string }>(list: T[], id: string) => list.filter((x) => x.childId === id);

  // Each child's record as the requester sees it; the 联系卡 (two reads each) are read a few children ahead of the
  // layout, so their round trips overlap instead of adding up.
  const prepared = rows.map((row) => {
    const record = toChildRecord(row);
    const isPaired = paired.has(record.id);
    const view = childView({ roles: f.roles }, { paired: isPaired });
    return { record, isPaired, view, child: presentChild(record, view) };
  });
  const cards: ReturnType<typeof contactCard>[] = [];
  const cardOf = (i: number) => {
    if (!cards[i]) {
      cards[i] = contactCard({ prisma }, prepared[i]!.child, prepared[i]!.view);
      cards[i]!.catch(() => undefined); // awaited in turn below; not an unhandled rejection meanwhile
    }
    return cards[i]!;
  };
  const AHEAD = 8;

  async function* sections(): AsyncIterable<PackSection> {
    let done = 0;
    let reported = Date.now();
    for (const [i, { record, isPaired, child }] of prepared.entries()) {
      for (let k = i + 1; k < Math.min(i + AHEAD, prepared.length); k++) void cardOf(k);
      const card = await cardOf(i);
      const facts: [string, string][] = [
        ["性别", labels.sex[child.sex]],
        ["出生日期", child.birthDate],
        ["身份证号", child.idNumber],
        ["年级班级", [child.grade, child.className].filter(Boolean).join(" ")],
        ["村（社区）", villageName.get(child.villageCode) ?? child.villageCode],
        ["留守类型", labels.leftBehindType[child.leftBehindType]],
        ["困境类别", child.difficultyCategories.map((c) => labels.difficultyCategory[c]).join("、") || "无"],
        ["风险等级", labels.riskLevel[child.riskLevel]],
      ];
      if (child.address) facts.push(["家庭住址", child.address]);
      if (child.familySituation) facts.push(["家庭情况", child.familySituation]);
      if (child.healthNotes) facts.push(["健康状况", child.healthNotes]);
      if (child.psychologicalNotes) facts.push(["心理状况", child.psychologicalNotes]);
      const contacts: [string, string][] = [];
      for (const g of card.guardians) contacts.push([`监护人（${g.relation}）`, [g.name, g.phone].filter(Boolean).join("  ")]);
      for (const p of card.parents) {
        const who = p.role === "father" ? "父亲" : "母亲";
        const work = [p.workProvince, p.workCity, p.employer].filter(Boolean).join(" ");
        const line = [p.name, p.phone, work && `务工：${work}`].filter(Boolean).join("  ");
        if (line) contacts.push([who, line]);
      }
      const helperLine = (h: { name: string; phone?: string | null; helperKindLabel?: string } | null) =>
        h ? [h.name, h.helperKindLabel, h.phone].filter(Boolean).join("  ") : null;
      const helper = card.helper ? (card.helper.source === "register" ? `${card.helper.name}（登记表）` : helperLine(card.helper)) : null;
      if (helper) contacts.push(["主要帮扶人", helper]);
      const assistant = helperLine(card.assistantHelper);
      if (assistant) contacts.push(["协助帮扶人", assistant]);
      const peer = helperLine(card.peerBuddy);
      if (peer) contacts.push(["手拉手伙伴", peer]);
      const timeline = childTimeline(requester, isPaired, {
        visits: of(strands.visits, record.id),
        activities: of(strands.activities, record.id),
        checkups: of(strands.checkups, record.id),
        entries: of(strands.entries, record.id),
      });
      yield { name: child.name, facts, contacts, timeline };
      done += 1;
      // Progress every fifth child (and at least each second): a write per child was a fifth of a 50-child pack's time.
      if (done % 5 === 0 || Date.now() - reported > 1000) {
        reported = Date.now();
        await prisma.exportJob.update({ where: { id: exportId }, data: { doneRows: done } });
      }
    }
  }

  const made = job.createdAt;
  const content = await writeHandoverPdf(
    {
      schoolName: school?.name ?? f.schoolId,
      classLabel: [f.grade, f.className].filter(Boolean).join(""),
      schoolYear: `${schoolYearOf(todayInChina(made))}学年`,
      madeBy: f.requester.name,
      madeAt: chinaTime(made),
      childCount: rows.length,
    },
    sections(),
    font,
  );
  await prisma.exportJob.update({
    where: { id: exportId },
    data: { status: "completed", content: new Uint8Array(content), doneRows: rows.length, finishedAt: now(), childIds: ids },
  });
}
