import type { Queue } from "bullmq";
import type pg from "pg";
import type { Redis } from "ioredis";
import { jobQueues } from "@shouhu/contracts";
import type { Logger } from "@shouhu/kit";
import { createJobQueue, createJobWorker, upsertDailySchedule } from "@shouhu/messaging";
import { writeRegisterWorkbook } from "../spreadsheet/register-export.js";
import { todayInChina } from "@shouhu/cn";
import type { PrismaClient } from "../data/db.js";
import { enqueueImport } from "../routes/imports.js";
import { AGE_OUT_JOB, ageOutChildren } from "./age-out.js";
import { SNAPSHOT_JOB, publishRegistrySnapshot } from "./snapshot.js";
import { importRegisterJob, runImport, type ParseRegister } from "./import-register.js";
import { handle, jobProcessor } from "./job-definitions.js";
import { confirmJobId, enqueueConfirm, reimportConfirmHandler, reimportConfirmJob } from "./reimport-confirm.js";
import { abandonConfirm } from "../data/reimport.js";
import { runReimportPreview } from "./reimport-preview.js";
import { PURGE_EXPORTS_JOB, exportRegisterJob, purgeExpiredExports, runExport, type WriteRegister } from "./export-register.js";
import { exportHandoverJob, runHandover } from "./export-handover.js";
import { DEFAULT_PACK_FONT, assertFont, type PackFont } from "../domain/handover-pdf.js";
import { PURGE_ATTACHMENTS_JOB, purgeExpiredAttachments } from "./purge-attachments.js";
import type { AttachmentStore } from "@shouhu/attachments";

export interface RegistryQueues {
  imports: Queue;
  exports: Queue;
  schedule: Queue;
}

export function createRegistryQueues(connection: Redis, prefix?: string): RegistryQueues {
  return {
    imports: createJobQueue(jobQueues.registryImport, connection, prefix),
    exports: createJobQueue(jobQueues.registryExport, connection, prefix),
    schedule: createJobQueue(jobQueues.registrySchedule, connection, prefix),
  };
}

export interface WorkerDeps {
  prisma: PrismaClient;
  pool: pg.Pool;
  connection: Redis;
  prefix?: string;
  queues: RegistryQueues;
  logger: Logger;
  ageOutCron: string;
  /** EXPORT_TTL_HOURS in ms (default 24 h): older exports are deleted by the hourly purge. */
  exportTtlMs?: number;
  now?: () => Date;
  /** Parse imports on this thread with this parser (tests); by default they parse in a worker thread. */
  parse?: ParseRegister;
  write?: WriteRegister;
  /** The object store; with it, attachments past their retention are deleted hourly. */
  attachments?: AttachmentStore;
  /** The CJK font the handover pack embeds (HANDOVER_FONT_PATH / HANDOVER_FONT_NAME). */
  handoverFont?: PackFont;
}

const SWEEP_EVERY_MS = 5 * 60_000;

/** The import job's lock (see the worker's options). */
export const IMPORT_LOCK_MS = 45_000;
/** How often the import worker looks for a stalled (crashed) import. */
export const IMPORT_STALL_CHECK_MS = 5_000;

/** Re-queues imports and re-import confirms whose job was lost (process died between commit and enqueue). */
async function sweepImports(prisma: PrismaClient, queue: Queue): Promise<number> {
  const pending = await prisma.importBatch.findMany({
    where: { status: { in: ["queued", "running", "confirming"] } },
    select: { id: true, status: true, confirmSeq: true },
  });
  for (const { id, status, confirmSeq } of pending) {
    if (status !== "confirming") {
      await enqueueImport(queue, id);
      continue;
    }
    // A confirm whose job failed for good but whose batch was not given back (onFailed could not write): give it back now.
    const job = await queue.getJob(confirmJobId(id, confirmSeq));
    if (job && (await job.isFailed())) await abandonConfirm(prisma, id, job.failedReason || "后台任务失败");
    else await enqueueConfirm(queue, id, confirmSeq);
  }
  return pending.length;
}

export async function startRegistryWorkers(deps: WorkerDeps): Promise<{ name: string; close: () => Promise<unknown> }[]> {
  const { prisma, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const write = deps.write ?? writeRegisterWorkbook;
  const workerOptions = { connection: deps.connection, prefix: deps.prefix, logger };

  const confirm = reimportConfirmHandler(prisma, logger);
  const importWorker = createJobWorker(
    jobQueues.registryImport,
    jobProcessor(jobQueues.registryImport, [
      handle(importRegisterJob, async ({ batchId }) => {
        const mode = (await prisma.importBatch.findUnique({ where: { id: batchId }, select: { mode: true } }))?.mode;
        if (mode === "update") {
          // A register uploaded again: staged as a preview, nothing changes until confirmed.
          const batch = await runReimportPreview(
            { prisma, pool: deps.pool, ...(deps.parse ? { parse: deps.parse } : {}), today: () => todayInChina(now()) },
            batchId,
          );
          logger.info({ batchId, staged: batch.acceptedRows, rejected: batch.rejectedRows }, "re-import preview ready");
          return;
        }
        // No parser given: runImport parses in its worker thread while this one stores.
        const batch = await runImport({ prisma, pool: deps.pool, ...(deps.parse ? { parse: deps.parse } : {}), today: () => todayInChina(now()) }, batchId);
        logger.info({ batchId, accepted: batch.acceptedRows, rejected: batch.rejectedRows }, "import finished");
      }),
      confirm.job,
    ]),
    {
      ...workerOptions,
      concurrency: 1,
      // Longer than other jobs' 20 s: on a starved machine (load 25 on 2 cores) the import's
      // lock renewals timed out and a live import was taken over as stalled. The lock is renewed
      // every 22.5 s, so a crashed import's lock runs out 22.5–45 s after the crash; a stall check
      // every 5 s (15 s left chaos runs at 62 s, over the 60-s promise) takes it over by 50 s.
      lockDuration: IMPORT_LOCK_MS,
      workerOptions: { stalledInterval: IMPORT_STALL_CHECK_MS, maxStalledCount: 3 },
      onFailed: async (job, err, final) => {
        if (!final) return;
        const { batchId } = job.data as { batchId: string };
        if (job.name === reimportConfirmJob.id) return confirm.onFinalFailure(batchId, err);
        await prisma.importBatch.update({ where: { id: batchId }, data: { status: "failed", error: `导入失败：${err.message}` } });
      },
    },
  );

  // Said at start, loudly: without the font every handover pack fails (each one says why, too).
  const handoverFont = deps.handoverFont ?? DEFAULT_PACK_FONT;
  try {
    assertFont(handoverFont);
  } catch (err) {
    logger.error({ err }, "handover pack font missing: 交接包 cannot be made");
  }
  const exportWorker = createJobWorker(
    jobQueues.registryExport,
    jobProcessor(jobQueues.registryExport, [
      handle(exportRegisterJob, ({ exportId }) => runExport(prisma, write, exportId)),
      handle(exportHandoverJob, ({ exportId }) => runHandover(prisma, handoverFont, exportId, now)),
    ]),
    {
      ...workerOptions,
      concurrency: 1,
      onFailed: async (job, err, final) => {
        if (!final) return;
        await prisma.exportJob.update({
          where: { id: (job.data as { exportId: string }).exportId },
          data: { status: "failed", error: `导出失败：${err.message}` },
        });
      },
    },
  );

  const scheduleWorker = createJobWorker(
    jobQueues.registrySchedule,
    async (job) => {
      if (job.name === SNAPSHOT_JOB) {
        const { runId, county } = job.data as { runId: string; county?: string };
        const result = await publishRegistrySnapshot(prisma, runId, county);
        logger.info(result, "snapshot published");
        return;
      }
      if (job.name === PURGE_EXPORTS_JOB) {
        logger.info({ deleted: await purgeExpiredExports(prisma, now(), deps.exportTtlMs) }, "expired exports deleted");
        return;
      }
      if (job.name === PURGE_ATTACHMENTS_JOB && deps.attachments) {
        logger.info({ deleted: await purgeExpiredAttachments(prisma, deps.attachments, now()) }, "expired attachments deleted");
        return;
      }
      if (job.name !== AGE_OUT_JOB) throw new Error(`no handler for scheduled job ${job.name}`);
      const result = await ageOutChildren(prisma, todayInChina(now()));
      logger.info(result, "age-out finished");
    },
    { ...workerOptions, concurrency: 1 },
  );
  await upsertDailySchedule(deps.queues.schedule, AGE_OUT_JOB, deps.ageOutCron, { name: AGE_OUT_JOB, data: {} });
  // Hourly: an export is gone within an hour of its 24 hours.
  await upsertDailySchedule(deps.queues.schedule, PURGE_EXPORTS_JOB, "7 * * * *", { name: PURGE_EXPORTS_JOB, data: {} });
  // Hourly: attachments past their retention (object, thumbnail, row).
  if (deps.attachments) await upsertDailySchedule(deps.queues.schedule, PURGE_ATTACHMENTS_JOB, "17 * * * *", { name: PURGE_ATTACHMENTS_JOB, data: {} });

  await sweepImports(prisma, deps.queues.imports);
  const sweep = setInterval(() => {
    sweepImports(prisma, deps.queues.imports).catch((err) => logger.error({ err }, "import sweep failed"));
  }, SWEEP_EVERY_MS);
  sweep.unref();

  return [
    { name: "import-sweep", close: async () => clearInterval(sweep) },
    { name: "import-worker", close: () => importWorker.close() },
    { name: "export-worker", close: () => exportWorker.close() },
    { name: "schedule-worker", close: () => scheduleWorker.close() },
  ];
}
