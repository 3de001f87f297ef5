import { runService } from "@shouhu/runtime";
import { jobQueues } from "@shouhu/contracts";
import { createJobQueue, CONSUMER_TRANSACTION } from "@shouhu/messaging";
import { visitsConfigSchema } from "./config.js";
import { createPrisma, type Tx } from "./data/db.js";
import { PRODUCER } from "./data/scan.js";
import { buildVisitsApp } from "./app.js";
import { visitEventHandlers } from "./events/handlers.js";
import { startScanWorker } from "./jobs/scan-worker.js";
import { SNAPSHOT_JOB } from "./data/snapshot.js";

await runService({
  name: "visits",
  configSchema: visitsConfigSchema,
  migrationsDir: new URL("../prisma/migrations", import.meta.url),
  createPrisma,
  producer: PRODUCER,
  setup: ({ config, logger, instrumentation, prisma, readiness, producerRedis, workerRedis, own }) => {
    const scheduleQueue = own(createJobQueue(jobQueues.visitsSchedule, producerRedis, config.QUEUE_PREFIX));
    return {
      api: (verifier) => buildVisitsApp({ prisma, verifier, logger, instrumentation, readiness, backdateDays: config.BACKDATE_DAYS, scheduleQueue }),
      consumer: {
        handlers: visitEventHandlers(undefined, {
          requestSnapshot: (runId, county) => scheduleQueue.add(SNAPSHOT_JOB, { runId, county }, { jobId: `snapshot-${runId}` }),
        }),
        runInTransaction: <T>(fn: (tx: Tx) => Promise<T>) => prisma.$transaction(fn, CONSUMER_TRANSACTION),
      },
      workers: async () => [
        await startScanWorker({
          prisma,
          connection: workerRedis,
          prefix: config.QUEUE_PREFIX,
          queue: scheduleQueue,
          cron: config.SCAN_CRON,
          concernEscalationDays: config.CONCERN_ESCALATION_DAYS,
          logger,
        }),
      ],
    };
  },
});
