import { runService } from "@shouhu/runtime";
import { createPgPool } from "@shouhu/db";
import { jobQueues } from "@shouhu/contracts";
import { createJobQueue, inPgTransaction, type SqlTx } from "@shouhu/messaging";
import { activitiesConfigSchema } from "./config.js";
import { createPrisma } from "./data/db.js";
import { PRODUCER } from "./data/children.js";
import { buildActivitiesApp } from "./app.js";
import { activityHandlers, inChildBatch } from "./events/handlers.js";
import { AttachmentStore } from "@shouhu/attachments";
import { startScheduleWorker } from "./jobs/schedule-worker.js";

await runService({
  name: "activities",
  configSchema: activitiesConfigSchema,
  migrationsDir: new URL("../prisma/migrations", import.meta.url),
  createPrisma,
  producer: PRODUCER,
  setup: ({ config, logger, instrumentation, prisma, readiness, producerRedis, workerRedis, own }) => {
    const scheduleQueue = own(createJobQueue(jobQueues.activitiesSchedule, producerRedis, config.QUEUE_PREFIX));
    // The consumer's handlers are raw SQL: plain pg transactions, a batch's child events applied together.
    const consumerPool = own(createPgPool(config.DATABASE_URL, { max: 2 }));
    // Session photos; the bucket is made by MinIO's start script or the embedded server. A store that is
    // down answers 503 on the photo routes only.
    const attachments = new AttachmentStore(config);
    return {
      api: (verifier) => buildActivitiesApp({ prisma, verifier, logger, instrumentation, readiness, attachments }),
      // Expired session photos are purged by a job scheduler on activities.schedule (one run across replicas).
      workers: async () => [
        await startScheduleWorker({ prisma, connection: workerRedis, prefix: config.QUEUE_PREFIX, queue: scheduleQueue, logger, attachments }),
      ],
      consumer: {
        handlers: activityHandlers(),
        runInTransaction: <T>(fn: (tx: SqlTx) => Promise<T>) => inPgTransaction(consumerPool, (tx) => inChildBatch(tx, fn)),
      },
    };
  },
});
