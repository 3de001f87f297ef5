import { runService } from "@shouhu/runtime";
import { healthConfigSchema } from "./config.js";
import { createPrisma, type Tx } from "./data/db.js";
import { PRODUCER } from "./data/exams.js";
import { buildHealthApp } from "./app.js";
import { healthHandlers } from "./events/handlers.js";
import { jobQueues } from "@shouhu/contracts";
import { createJobQueue, CONSUMER_TRANSACTION } from "@shouhu/messaging";
import { requestSnapshot, startSnapshotWorker } from "./jobs/snapshot.js";

await runService({
  name: "health",
  configSchema: healthConfigSchema,
  migrationsDir: new URL("../prisma/migrations", import.meta.url),
  createPrisma,
  producer: PRODUCER,
  setup: ({ config, logger, instrumentation, prisma, readiness, producerRedis, workerRedis, own }) => {
    const snapshots = own(createJobQueue(jobQueues.healthSnapshot, producerRedis, config.QUEUE_PREFIX));
    return {
      api: (verifier) => buildHealthApp({ prisma, verifier, logger, instrumentation, readiness }),
      consumer: {
        handlers: healthHandlers({ requestSnapshot: requestSnapshot(snapshots) }),
        runInTransaction: <T>(fn: (tx: Tx) => Promise<T>) => prisma.$transaction(fn, CONSUMER_TRANSACTION),
      },
      workers: async () => {
        const snapshotWorker = startSnapshotWorker(prisma, { connection: workerRedis, prefix: config.QUEUE_PREFIX, logger });
        return [{ name: "snapshots", close: () => snapshotWorker.close() }];
      },
    };
  },
});
