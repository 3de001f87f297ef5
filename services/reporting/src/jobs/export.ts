import type { Job } from "bullmq";
import type { Redis } from "ioredis";
import { jobQueues } from "@shouhu/contracts";
import type { Logger } from "@shouhu/kit";
import { createJobWorker } from "@shouhu/messaging";
import type { PrismaClient } from "../data/db.js";
import { orgUnitName, overviewReport, supervision } from "../data/reports.js";
import { workSummaryFigures } from "../data/work-summary.js";
import { overviewWorkbook, supervisionWorkbook, type Progress } from "../domain/workbook.js";
import { parseSemester } from "@shouhu/cn";
import { workSummaryDocx } from "../domain/work-summary-doc.js";
import { todayInChina } from "@shouhu/cn";

export const EXPORT_JOB = "report-export";
/** Hourly: deletes report files past their time, row and file. */
export const PURGE_REPORTS_JOB = "purge-report-exports";
/** Report files are kept this long (REPORT_EXPORT_TTL_HOURS, default 24), then deleted. */
export const REPORT_EXPORT_TTL_MS = 24 * 3600 * 1000;

/** Deletes report exports made before now − ttl; returns how many. */
export async function purgeExpiredReports(prisma: PrismaClient, now: Date, ttlMs = REPORT_EXPORT_TTL_MS): Promise<number> {
  const { count } = await prisma.exportJob.deleteMany({ where: { createdAt: { lt: new Date(now.getTime() - ttlMs) } } });
  return count;
}

interface ExportOptions {
  /** Progress is stored every this many rows (not for every row of a large township). */
  progressEvery?: number;
  /** The BullMQ job, told the same progress ({ done, total }) for anyone listening on the queue. */
  job?: Pick<Job, "updateProgress">;
}

/** What a job carries: the month for the workbooks; the semester and an optional school for a work summary. */
export interface ExportJobData {
  exportId: string;
  month: string;
  semester?: string;
  schoolId?: string | null;
}

/** Builds the workbook (or the work summary's document), storing progress (rows written / rows to write) as it goes. */
async function runExport(prisma: PrismaClient, data: ExportJobData, now: Date, options: ExportOptions = {}): Promise<void> {
  const { exportId, month } = data;
  const job = await prisma.exportJob.findUniqueOrThrow({ where: { id: exportId } });
  if (job.status === "done") return;
  await prisma.exportJob.update({ where: { id: exportId }, data: { status: "running", done: 0 } });
  const name = await orgUnitName(prisma, job.orgUnit);
  const progress = (total: number): Progress => ({
    every: options.progressEvery ?? 50,
    report: async (done) => {
      await prisma.exportJob.update({ where: { id: exportId }, data: { done } });
      await options.job?.updateProgress({ done, total });
    },
  });
  let bytes: Uint8Array<ArrayBuffer>;
  let fileName: string;
  let childIds: string[] = [];
  if (job.report === "work_summary") {
    const semester = parseSemester(data.semester ?? "");
    if (!semester) throw new Error(`work summary without a valid semester: ${data.semester}`);
    const school = data.schoolId ? await prisma.school.findUnique({ where: { id: data.schoolId } }) : null;
    const unitName = school ? school.name : name;
    const figures = await workSummaryFigures(prisma, { orgUnit: job.orgUnit, schoolId: school?.id ?? null, from: semester.from, to: semester.to });
    const asOf = [todayInChina(now), semester.to].sort()[0]!;
    bytes = new Uint8Array(await workSummaryDocx({ unitName, semester, asOf, figures }));
    fileName = `${unitName}留守儿童关爱保护工作总结-${semester.label}.docx`;
    await prisma.exportJob.update({ where: { id: exportId }, data: { total: 1 } });
  } else if (job.report === "overview") {
    const { rows, total } = await overviewReport(prisma, job.orgUnit, month, now);
    await prisma.exportJob.update({ where: { id: exportId }, data: { total: rows.length } });
    const wb = await overviewWorkbook(name, month, rows, total, progress(rows.length));
    bytes = new Uint8Array((await wb.xlsx.writeBuffer()) as ArrayBuffer);
    fileName = `${name}留守儿童统计表-${month}.xlsx`;
  } else {
    const data = await supervision(prisma, job.orgUnit, month.slice(0, 4), now);
    const total = data.unpaired.length + data.overdue.length + data.unexamined.length + data.openConcerns.length;
    await prisma.exportJob.update({ where: { id: exportId }, data: { total } });
    const villages = new Map((await prisma.orgUnit.findMany({ where: { code: { startsWith: job.orgUnit } } })).map((u) => [u.code, u.name]));
    const wb = await supervisionWorkbook(name, data, (code) => villages.get(code) ?? code, progress(total));
    bytes = new Uint8Array((await wb.xlsx.writeBuffer()) as ArrayBuffer);
    fileName = `${name}督导检查清单-${month}.xlsx`;
    // The children the list names, for the download's audit row.
    childIds = [
      ...new Set([
        ...data.unpaired.map((c) => c.id),
        ...data.overdue.map((i) => i.childId),
        ...data.unexamined.map((c) => c.id),
        ...data.openConcerns.map((k) => k.childId),
      ]),
    ];
  }
  await prisma.exportJob.update({
    where: { id: exportId },
    data: { status: "done", done: job.report === "work_summary" ? 1 : undefined, file: bytes, fileName, finishedAt: new Date(), childIds },
  });
}

export function startExportWorker(deps: {
  prisma: PrismaClient;
  connection: Redis;
  prefix?: string;
  logger: Logger;
  now?: () => Date;
  progressEvery?: number;
  exportTtlMs?: number;
}) {
  const now = deps.now ?? (() => new Date());
  return createJobWorker(
    jobQueues.reportingExport,
    async (job) => {
      if (job.name === PURGE_REPORTS_JOB) {
        deps.logger.info({ deleted: await purgeExpiredReports(deps.prisma, now(), deps.exportTtlMs) }, "expired report exports deleted");
        return;
      }
      await runExport(deps.prisma, job.data as ExportJobData, now(), { job, progressEvery: deps.progressEvery });
    },
    {
      connection: deps.connection,
      prefix: deps.prefix,
      logger: deps.logger,
      onFailed: async (job, err, final) => {
        if (final)
          await deps.prisma.exportJob.update({
            where: { id: (job.data as { exportId: string }).exportId },
            data: { status: "failed", error: `导出失败：${err.message}` },
          });
      },
    },
  );
}
