import type { Redis } from "ioredis";
import { jobQueues } from "@shouhu/contracts";
import type { Logger } from "@shouhu/kit";
import { createJobWorker } from "@shouhu/messaging";
import type { PrismaClient } from "../data/db.js";
import { figuresFromCounters, orgUnitName, supervision, totals } from "../data/reports.js";
import { overviewWorkbook, supervisionWorkbook } from "../domain/workbook.js";

export const EXPORT_JOB = "report-export";

/** Builds the workbook, reporting progress (rows written / rows to write) as it goes. */
export async function runExport(prisma: PrismaClient, exportId: string, month: string, now: Date): Promise<void> {
  const job = await prisma.exportJob.findUniqueOrThrow({ where: { id: exportId } });
  if (job.status === "done") return;
  await prisma.exportJob.update({ where: { id: exportId }, data: { status: "running" } });
  const name = await orgUnitName(prisma, job.orgUnit);
  let buffer: ArrayBuffer;
  let fileName: string;
  if (job.report === "overview") {
    const rows = await figuresFromCounters(prisma, { orgUnit: job.orgUnit, unitLength: job.orgUnit.length === 6 ? 9 : 12, month });
    await prisma.exportJob.update({ where: { id: exportId }, data: { total: rows.length } });
    let done = 0;
    const wb = overviewWorkbook(name, month, rows, totals(rows, job.orgUnit, "合计", month), () => {
      done++;
      // Progress is written every 50 rows, not for every row of a large county.
      if (done % 50 === 0) void prisma.exportJob.update({ where: { id: exportId }, data: { done } }).catch(() => undefined);
    });
    buffer = (await wb.xlsx.writeBuffer()) as ArrayBuffer;
    fileName = `${name}留守儿童统计表-${month}.xlsx`;
    await prisma.exportJob.update({ where: { id: exportId }, data: { done: rows.length } });
  } else {
    const data = await supervision(prisma, job.orgUnit, month.slice(0, 4), now);
    const total = data.unpaired.length + data.overdue.length + data.unexamined.length + data.openConcerns.length;
    await prisma.exportJob.update({ where: { id: exportId }, data: { total } });
    const villages = new Map((await prisma.orgUnit.findMany({ where: { code: { startsWith: job.orgUnit } } })).map((u) => [u.code, u.name]));
    buffer = (await supervisionWorkbook(name, data, (code) => villages.get(code) ?? code).xlsx.writeBuffer()) as ArrayBuffer;
    fileName = `${name}督导检查清单-${month}.xlsx`;
    await prisma.exportJob.update({ where: { id: exportId }, data: { done: total } });
  }
  await prisma.exportJob.update({ where: { id: exportId }, data: { status: "done", file: new Uint8Array(buffer), fileName, finishedAt: new Date() } });
}

export function startExportWorker(deps: { prisma: PrismaClient; connection: Redis; prefix?: string; logger: Logger; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return createJobWorker(
    jobQueues.reportingExport,
    async (job) => {
      const { exportId, month } = job.data as { exportId: string; month: string };
      await runExport(deps.prisma, exportId, month, now());
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
