import { runService } from "@shouhu/runtime";
import { jobQueues } from "@shouhu/contracts";
import { createJobQueue } from "@shouhu/messaging";
import { reportingConfigSchema } from "./config.js";
import { createPrisma, type Tx } from "./data/db.js";
import { buildReportingApp } from "./app.js";
import { reportingHandlers } from "./events/handlers.js";
import { startExportWorker } from "./jobs/export.js";
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
    return {
      api: (verifier) => buildReportingApp({ prisma, verifier, logger, instrumentation, readiness, exports }),
      consumer: {
        handlers: reportingHandlers(),
        runInTransaction: <T>(fn: (tx: Tx) => Promise<T>) => prisma.$transaction(fn),
        concurrency: config.CONSUMER_CONCURRENCY,
      },
      workers: async () => [startExportWorker({ prisma, connection: workerRedis, prefix: config.QUEUE_PREFIX, logger })],
    };
  },
});
