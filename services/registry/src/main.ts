import { CONSUMER_TRANSACTION } from "@shouhu/messaging";
import { runService } from "@shouhu/runtime";
import { createPgPool } from "@shouhu/db";
import { registryConfigSchema } from "./config.js";
import { createPrisma, type Tx } from "./data/db.js";
import { PRODUCER } from "./data/children.js";
import { seedDemoOrg } from "./seed/demo-org.js";
import { SNAPSHOT_JOB, publishOrgUnits } from "./jobs/snapshot.js";
import { buildRegistryApp } from "./app.js";
import { registryEventHandlers } from "./events/pairing-events.js";
import { createRegistryQueues, startRegistryWorkers } from "./jobs/workers.js";
import { AttachmentStore } from "@shouhu/attachments";

await runService({
  name: "registry",
  configSchema: registryConfigSchema,
  migrationsDir: new URL("../prisma/migrations", import.meta.url),
  createPrisma,
  producer: PRODUCER,
  // The worker role's pool (relay, import COPYs), opened on first use.
  poolMax: 4,
  setup: async (ctx) => {
    const { config, logger, instrumentation, prisma, readiness, producerRedis, workerRedis, own } = ctx;
    if (config.SEED_DEMO_ORG) await seedDemoOrg(prisma);
    await publishOrgUnits(prisma);
    const queues = createRegistryQueues(producerRedis, config.QUEUE_PREFIX);
    own(queues.imports);
    own(queues.exports);
    own(queues.schedule);
    const attachments = new AttachmentStore(config);
    // MinIO's init container makes the bucket in docker-compose; the embedded server at start. A store
    // that is down now is not fatal: uploads and downloads answer 503 until it is back.
    await attachments.ensureBucket().catch((err: unknown) => logger.warn({ err }, "object store not reachable at start"));
    return {
      api: (verifier) => {
        // Its own pool, so child reads never queue behind import COPYs on the workers' pool;
        // closed after the HTTP server (owned resources close after it).
        const readPool = own(createPgPool(config.DATABASE_URL, { max: 4 }));
        return buildRegistryApp({
          prisma,
          pool: readPool,
          verifier,
          logger,
          instrumentation,
          readiness,
          imports: { queue: queues.imports },
          exports: { queue: queues.exports },
          snapshots: { queue: queues.schedule },
          attachments,
          exportTtlMs: config.EXPORT_TTL_HOURS * 3600_000,
          handoverFont: { path: config.HANDOVER_FONT_PATH, name: config.HANDOVER_FONT_NAME || undefined },
        });
      },
      consumer: {
        handlers: registryEventHandlers({
          requestSnapshot: (runId, county) => queues.schedule.add(SNAPSHOT_JOB, { runId, county }, { jobId: `snapshot-${runId}` }),
        }),
        runInTransaction: <T>(fn: (tx: Tx) => Promise<T>) => prisma.$transaction(fn, CONSUMER_TRANSACTION),
      },
      workers: () =>
        startRegistryWorkers({
          prisma,
          pool: ctx.pool,
          connection: workerRedis,
          prefix: config.QUEUE_PREFIX,
          queues,
          logger,
          ageOutCron: config.AGE_OUT_CRON,
          exportTtlMs: config.EXPORT_TTL_HOURS * 3600_000,
          attachments,
          handoverFont: { path: config.HANDOVER_FONT_PATH, name: config.HANDOVER_FONT_NAME || undefined },
        }),
    };
  },
});
