import { runService } from "@shouhu/runtime";
import { pairingConfigSchema } from "./config.js";
import { createPgPool } from "@shouhu/db";
import { createPrisma } from "./data/db.js";
import { PRODUCER } from "./data/pairings.js";
import { buildPairingApp } from "./app.js";
import { childEventHandlers, inChildBatch } from "./events/child-events.js";
import { startMatchPoller } from "./jobs/match-poller.js";
import { jobQueues } from "@shouhu/contracts";
import { createJobQueue, inPgTransaction, type SqlTx } from "@shouhu/messaging";
import { requestSnapshot, startSnapshotWorker } from "./jobs/snapshot.js";

await runService({
  name: "pairing",
  configSchema: pairingConfigSchema,
  migrationsDir: new URL("../prisma/migrations", import.meta.url),
  createPrisma,
  producer: PRODUCER,
  setup: ({ config, logger, instrumentation, prisma, readiness, producerRedis, workerRedis, own }) => {
    const snapshots = own(createJobQueue(jobQueues.pairingSnapshot, producerRedis, config.QUEUE_PREFIX));
    // The consumer's handlers are raw SQL: plain pg transactions (as in reporting and notifications), a batch's child events applied together.
    const consumerPool = own(createPgPool(config.DATABASE_URL, { max: 2 }));
    return {
      api: (verifier) => buildPairingApp({ prisma, verifier, logger, instrumentation, readiness }),
      consumer: {
        handlers: childEventHandlers(undefined, { requestSnapshot: requestSnapshot(snapshots) }),
        runInTransaction: <T>(fn: (tx: SqlTx) => Promise<T>) => inPgTransaction(consumerPool, (tx) => inChildBatch(tx, fn)),
      },
      workers: async () => {
        const poller = startMatchPoller(prisma, { quietMs: config.MATCH_QUIET_MS, pollMs: config.MATCH_POLL_MS, logger });
        const snapshotWorker = startSnapshotWorker(prisma, { connection: workerRedis, prefix: config.QUEUE_PREFIX, logger });
        return [
          { name: "matcher", close: () => poller.close() },
          { name: "snapshots", close: () => snapshotWorker.close() },
        ];
      },
    };
  },
});
