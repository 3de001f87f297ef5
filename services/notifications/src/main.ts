import { runService } from "@shouhu/runtime";
import { jobQueues } from "@shouhu/contracts";
import { createPgPool } from "@shouhu/db";
import { createJobQueue, inPgTransaction, type SqlTx } from "@shouhu/messaging";
import { notificationsConfigSchema } from "./config.js";
import { createPrisma } from "./data/db.js";
import { PRODUCER } from "./data/delivery.js";
import { syncDirectoryFromRealm } from "./data/directory.js";
import { startDispatcher } from "./data/dispatch.js";
import { parseQuietHours } from "./domain/quiet-hours.js";
import { channelsFromConfig } from "./channels/index.js";
import { buildNotificationsApp } from "./app.js";
import { inChildBatch, notificationHandlers } from "./events/handlers.js";
import { createDeliveryQueue, startBirthdayWorker, startDeliveryWorker } from "./jobs/workers.js";

await runService({
  name: "notifications",
  configSchema: notificationsConfigSchema,
  migrationsDir: new URL("../prisma/migrations", import.meta.url),
  createPrisma,
  producer: PRODUCER,
  setup: async ({ config, logger, instrumentation, prisma, readiness, producerRedis, workerRedis, own }) => {
    const quiet = parseQuietHours(config.QUIET_HOURS);
    const synced = await syncDirectoryFromRealm(prisma, config.DIRECTORY_REALM_FILE, config.DEV_USERS_FILE);
    logger.info({ users: synced, file: config.DIRECTORY_REALM_FILE, devUsersFile: config.DEV_USERS_FILE }, "staff directory synced from the realm export");
    const deliveryQueue = own(
      createDeliveryQueue(producerRedis, config.QUEUE_PREFIX, { attempts: config.DELIVERY_ATTEMPTS, backoffMs: config.DELIVERY_BACKOFF_MS }),
    );
    const scheduleQueue = own(createJobQueue(jobQueues.notificationsSchedule, producerRedis, config.QUEUE_PREFIX));
    // The consumer's own connections on plain pg (its handlers are raw SQL); it commits one batch at a time.
    const consumerPool = own(createPgPool(config.DATABASE_URL, { max: 2 }));
    return {
      api: (verifier) =>
        buildNotificationsApp({
          prisma,
          verifier,
          logger,
          instrumentation,
          readiness,
          deadLetters: { connection: producerRedis, prefix: config.QUEUE_PREFIX },
          webhookAllowedHosts: config.WEBHOOK_ALLOWED_HOSTS,
          quiet,
        }),
      consumer: {
        handlers: notificationHandlers({ quiet }),
        runInTransaction: <T>(fn: (tx: SqlTx) => Promise<T>) => inPgTransaction(consumerPool, (tx) => inChildBatch(tx, fn)),
        concurrency: config.CONSUMER_CONCURRENCY,
      },
      workers: async () => {
        const { channels, close: closeChannels } = channelsFromConfig(config);
        const dispatcher = startDispatcher(prisma, deliveryQueue, { pollMs: config.DISPATCH_POLL_MS, logger });
        const delivery = startDeliveryWorker({
          prisma,
          channels,
          redis: producerRedis,
          keyPrefix: config.QUEUE_PREFIX,
          quiet,
          connection: workerRedis,
          prefix: config.QUEUE_PREFIX,
          logger,
        });
        const birthdays = await startBirthdayWorker({
          prisma,
          connection: workerRedis,
          prefix: config.QUEUE_PREFIX,
          queue: scheduleQueue,
          cron: config.BIRTHDAY_CRON,
          quiet,
          logger,
        });
        return [
          { name: "dispatcher", close: () => dispatcher.close() },
          { name: "delivery", close: () => delivery.close() },
          { name: "birthdays", close: () => birthdays.close() },
          { name: "channels", close: async () => closeChannels() },
        ];
      },
    };
  },
});
