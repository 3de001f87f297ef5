import { runService } from "@shouhu/runtime";
import { jobQueues } from "@shouhu/contracts";
import { createPgPool } from "@shouhu/db";
import { createJobQueue, inPgTransaction, upsertDailySchedule, type SqlTx } from "@shouhu/messaging";
import { reportingConfigSchema } from "./config.js";
import { createPrisma } from "./data/db.js";
import { buildReportingApp } from "./app.js";
import { inChildBatch, prepareReportingBatch, reportingHandlers } from "./events/handlers.js";
import { inBatch } from "./data/projection.js";
import { PURGE_REPORTS_JOB, startExportWorker } from "./jobs/export.js";
import { PRODUCER } from "./data/rebuild.js";

// Reporting publishes one thing: a rebuild's snapshot.requested, through its outbox.
await runService({
  name: "reporting",
  configSchema: reportingConfigSchema,
  migrationsDir: new URL("../prisma/migrations", import.meta.url),
  createPrisma,
  producer: PRODUCER,
  setup: ({ config, logger, instrumentation, prisma, readiness, producerRedis, workerRedis, own }) => {
    const exports = own(createJobQueue(jobQueues.reportingExport, producerRedis, config.QUEUE_PREFIX));
    // The consumer's handlers are raw SQL: plain pg transactions, without Prisma's
    // interactive-transaction machinery (as in notifications). One batch commits at a time.
    const consumerPool = own(createPgPool(config.DATABASE_URL, { max: 2 }));
    return {
      api: (verifier) =>
        buildReportingApp({ prisma, verifier, logger, instrumentation, readiness, exports, exportTtlMs: config.REPORT_EXPORT_TTL_HOURS * 3600_000 }),
      consumer: {
        handlers: reportingHandlers(),
        // Per batch: rows and locks read by set queries up front, child snapshots applied together, counters summed and written at the end.
        runInTransaction: <T>(fn: (tx: SqlTx) => Promise<T>) => inPgTransaction(consumerPool, (tx) => inBatch(tx, (t) => inChildBatch(t, fn))),
        prepare: prepareReportingBatch,
        concurrency: config.CONSUMER_CONCURRENCY,
      },
      workers: async () => {
        const worker = startExportWorker({
          prisma,
          connection: workerRedis,
          prefix: config.QUEUE_PREFIX,
          logger,
          exportTtlMs: config.REPORT_EXPORT_TTL_HOURS * 3600_000,
        });
        // Hourly: a report file is gone within an hour of its time.
        await upsertDailySchedule(exports, PURGE_REPORTS_JOB, "17 * * * *", { name: PURGE_REPORTS_JOB, data: {} });
        return [worker];
      },
    };
  },
});
