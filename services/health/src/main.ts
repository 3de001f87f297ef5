import { runService } from "@shouhu/runtime";
import { healthConfigSchema } from "./config.js";
import { createPgPool } from "@shouhu/db";
import { createPrisma } from "./data/db.js";
import { PRODUCER } from "./data/exams.js";
import { buildHealthApp } from "./app.js";
import { healthHandlers, inChildBatch } from "./events/handlers.js";
import { jobQueues } from "@shouhu/contracts";
import { createJobQueue, inPgTransaction, type SqlTx } from "@shouhu/messaging";
import { requestSnapshot, startSnapshotWorker } from "./jobs/snapshot.js";

await runService({
  name: "health",
  configSchema: healthConfigSchema,
  migrationsDir: new URL("../prisma/migrations", import.meta.url),
  createPrisma,
  producer: PRODUCER,
  setup: ({ config, logger, instrumentation, prisma, readiness, producerRedis, workerRedis, own }) => {
    const snapshots = own(createJobQueue(jobQueues.healthSnapshot, producerRedis, config.QUEUE_PREFIX));
    // The consumer's handlers are raw SQL: plain pg transactions (as in reporting and notifications), a batch's child events applied together.
    const consumerPool = own(createPgPool(config.DATABASE_URL, { max: 2 }));
    return {
      api: (verifier) => buildHealthApp({ prisma, verifier, logger, instrumentation, readiness }),
      consumer: {
        handlers: healthHandlers({ requestSnapshot: requestSnapshot(snapshots) }),
        runInTransaction: <T>(fn: (tx: SqlTx) => Promise<T>) => inPgTransaction(consumerPool, (tx) => inChildBatch(tx, fn)),
      },
      workers: async () => {
        const snapshotWorker = startSnapshotWorker(prisma, { connection: workerRedis, prefix: config.QUEUE_PREFIX, logger });
        return [{ name: "snapshots", close: () => snapshotWorker.close() }];
      },
    };
  },
});
