import { runService } from "@shouhu/runtime";
import { jobQueues } from "@shouhu/contracts";
import { createPgPool } from "@shouhu/db";
import { createJobQueue, inPgTransaction, type SqlTx } from "@shouhu/messaging";
import { visitsConfigSchema } from "./config.js";
import { createPrisma } from "./data/db.js";
import { PRODUCER } from "./data/scan.js";
import { buildVisitsApp } from "./app.js";
import { inChildBatch, visitEventHandlers } from "./events/handlers.js";
import { startScanWorker } from "./jobs/scan-worker.js";
import { SNAPSHOT_JOB } from "./data/snapshot.js";
import { AttachmentStore } from "@shouhu/attachments";

await runService({
  name: "visits",
  configSchema: visitsConfigSchema,
  migrationsDir: new URL("../prisma/migrations", import.meta.url),
  createPrisma,
  producer: PRODUCER,
  setup: ({ config, logger, instrumentation, prisma, readiness, producerRedis, workerRedis, own }) => {
    const scheduleQueue = own(createJobQueue(jobQueues.visitsSchedule, producerRedis, config.QUEUE_PREFIX));
    // The consumer's handlers are raw SQL: plain pg transactions (as in reporting and notifications), a batch's child events applied together.
    const consumerPool = own(createPgPool(config.DATABASE_URL, { max: 2 }));
    // Visit photos; the bucket is made by MinIO's start script or the embedded server. A store that is
    // down answers 503 on the photo routes only.
    const attachments = new AttachmentStore(config);
    return {
      api: (verifier) =>
        buildVisitsApp({
          prisma,
          verifier,
          logger,
          instrumentation,
          readiness,
          backdateDays: config.BACKDATE_DAYS,
          scheduleQueue,
          attachments,
          taskLinks: { secret: config.TASK_LINK_SECRET, ttlHours: config.TASK_LINK_TTL_HOURS, baseUrl: config.PUBLIC_LINK_BASE_URL },
        }),
      consumer: {
        handlers: visitEventHandlers(undefined, {
          requestSnapshot: (runId, county) => scheduleQueue.add(SNAPSHOT_JOB, { runId, county }, { jobId: `snapshot-${runId}` }),
        }),
        runInTransaction: <T>(fn: (tx: SqlTx) => Promise<T>) => inPgTransaction(consumerPool, (tx) => inChildBatch(tx, fn)),
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
          attachments,
        }),
      ],
    };
  },
});
