import { runService } from "@shouhu/runtime";
import { pairingConfigSchema } from "./config.js";
import { createPrisma, type Tx } from "./data/db.js";
import { PRODUCER } from "./data/pairings.js";
import { buildPairingApp } from "./app.js";
import { childEventHandlers } from "./events/child-events.js";
import { startMatchPoller } from "./jobs/match-poller.js";
import { jobQueues } from "@shouhu/contracts";
import { createJobQueue, CONSUMER_TRANSACTION } from "@shouhu/messaging";
import { requestSnapshot, startSnapshotWorker } from "./jobs/snapshot.js";

await runService({
  name: "pairing",
  configSchema: pairingConfigSchema,
  migrationsDir: new URL("../prisma/migrations", import.meta.url),
  createPrisma,
  producer: PRODUCER,
  setup: ({ config, logger, instrumentation, prisma, readiness, producerRedis, workerRedis, own }) => {
    const snapshots = own(createJobQueue(jobQueues.pairingSnapshot, producerRedis, config.QUEUE_PREFIX));
    return {
      api: (verifier) => buildPairingApp({ prisma, verifier, logger, instrumentation, readiness }),
      consumer: {
        handlers: childEventHandlers(undefined, { requestSnapshot: requestSnapshot(snapshots) }),
        runInTransaction: <T>(fn: (tx: Tx) => Promise<T>) => prisma.$transaction(fn, CONSUMER_TRANSACTION),
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
