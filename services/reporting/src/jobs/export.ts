import type { Job } from "bullmq";
import type { Redis } from "ioredis";
import { jobQueues } from "@shouhu/contracts";
import type { Logger } from "@shouhu/kit";
import { createJobWorker } from "@shouhu/messaging";
import type { PrismaClient } from "../data/db.js";
import { orgUnitName, overviewReport, supervision } from "../data/reports.js";
import { overviewWorkbook, supervisionWorkbook, type Progress } from "../domain/workbook.js";

export const EXPORT_JOB = "report-export";

export interface ExportOptions {
  /** Progress is stored every this many rows (not for every row of a large township). */
  progressEvery?: number;
  /** The BullMQ job, told the same progress ({ done, total }) for anyone listening on the queue. */
  job?: Pick<Job, "updateProgress">;
}

/** Builds the workbook, storing progress (rows written / rows to write) as it goes. */
export async function runExport(prisma: PrismaClient, exportId: string, month: string, now: Date, options: ExportOptions = {}): Promise<void> {
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
  let buffer: ArrayBuffer;
  let fileName: string;
  if (job.report === "overview") {
    const { rows, total } = await overviewReport(prisma, job.orgUnit, month, now);
    await prisma.exportJob.update({ where: { id: exportId }, data: { total: rows.length } });
    const wb = await overviewWorkbook(name, month, rows, total, progress(rows.length));
    buffer = (await wb.xlsx.writeBuffer()) as ArrayBuffer;
    fileName = `${name}留守儿童统计表-${month}.xlsx`;
  } else {
    const data = await supervision(prisma, job.orgUnit, month.slice(0, 4), now);
    const total = data.unpaired.length + data.overdue.length + data.unexamined.length + data.openConcerns.length;
    await prisma.exportJob.update({ where: { id: exportId }, data: { total } });
    const villages = new Map((await prisma.orgUnit.findMany({ where: { code: { startsWith: job.orgUnit } } })).map((u) => [u.code, u.name]));
    const wb = await supervisionWorkbook(name, data, (code) => villages.get(code) ?? code, progress(total));
    buffer = (await wb.xlsx.writeBuffer()) as ArrayBuffer;
    fileName = `${name}督导检查清单-${month}.xlsx`;
  }
  await prisma.exportJob.update({ where: { id: exportId }, data: { status: "done", file: new Uint8Array(buffer), fileName, finishedAt: new Date() } });
}

export function startExportWorker(deps: { prisma: PrismaClient; connection: Redis; prefix?: string; logger: Logger; now?: () => Date; progressEvery?: number }) {
  const now = deps.now ?? (() => new Date());
  return createJobWorker(
    jobQueues.reportingExport,
    async (job) => {
      const { exportId, month } = job.data as { exportId: string; month: string };
      await runExport(deps.prisma, exportId, month, now(), { job, progressEvery: deps.progressEvery });
    },
    {
      connection: deps.connection,
      prefix: deps.prefix,
      logger: deps.logger,
      onFailed: async (job, err, final) => {
        if (final) await deps.prisma.exportJob.update({ where: { id: (job.data as { exportId: string }).exportId }, data: { status: "failed", error: `导出失败：${err.message}` } });
      },
    },
  );
}
