import { runService } from "@shouhu/runtime";
import { jobQueues } from "@shouhu/contracts";
import { createPgPool } from "@shouhu/db";
import { createJobQueue, inPgTransaction, type SqlTx } from "@shouhu/messaging";
import { notificationsConfigSchema } from "./config.js";
import { createPrisma } from "./data/db.js";
import { PRODUCER } from "./data/delivery.js";
import { KeycloakAccounts } from "@shouhu/auth/keycloak-accounts";
import { syncDirectoryFromKeycloak } from "./data/directory.js";
import { startDispatcher } from "./data/dispatch.js";
import { parseQuietHours } from "./domain/quiet-hours.js";
import { channelsFromConfig } from "./channels/index.js";
import { buildNotificationsApp } from "./app.js";
import { inChildBatch, notificationHandlers } from "./events/handlers.js";
import { createLetterQueue, enqueueLetter, startLetterWorker } from "./jobs/letters.js";
import { createDeliveryQueue, startBirthdayWorker, startDeliveryWorker } from "./jobs/workers.js";

await runService({
  name: "notifications",
  configSchema: notificationsConfigSchema,
  migrationsDir: new URL("../prisma/migrations", import.meta.url),
  createPrisma,
  producer: PRODUCER,
  setup: async ({ config, logger, instrumentation, prisma, readiness, producerRedis, workerRedis, own }) => {
    const quiet = parseQuietHours(config.QUIET_HOURS);
    if (!config.KEYCLOAK_DIRECTORY_SECRET) throw new Error("KEYCLOAK_DIRECTORY_SECRET is not set: the staff directory is synced from Keycloak's admin API");
    const keycloak = new KeycloakAccounts({
      issuerUrl: config.OIDC_ISSUER_URL,
      clientId: config.KEYCLOAK_DIRECTORY_CLIENT_ID,
      clientSecret: config.KEYCLOAK_DIRECTORY_SECRET,
    });
    const synced = await syncDirectoryFromKeycloak(prisma, keycloak);
    logger.info({ ...synced, issuer: config.OIDC_ISSUER_URL }, "staff directory synced from Keycloak");
    const deliveryQueue = own(
      createDeliveryQueue(producerRedis, config.QUEUE_PREFIX, { attempts: config.DELIVERY_ATTEMPTS, backoffMs: config.DELIVERY_BACKOFF_MS }),
    );
    const scheduleQueue = own(createJobQueue(jobQueues.notificationsSchedule, producerRedis, config.QUEUE_PREFIX));
    const letterQueue = own(createLetterQueue(producerRedis, config.QUEUE_PREFIX));
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
          letters: { enqueue: enqueueLetter(letterQueue), callbackSecret: config.SMS_CALLBACK_SECRET },
        }),
      consumer: {
        handlers: notificationHandlers({
          quiet,
          taskLinks: { secret: config.TASK_LINK_SECRET, ttlHours: config.TASK_LINK_TTL_HOURS, baseUrl: config.PUBLIC_LINK_BASE_URL },
        }),
        runInTransaction: <T>(fn: (tx: SqlTx) => Promise<T>) => inPgTransaction(consumerPool, (tx) => inChildBatch(tx, fn)),
        concurrency: config.CONSUMER_CONCURRENCY,
      },
      workers: async () => {
        const { channels, close: closeChannels } = channelsFromConfig(config);
        // Accounts change in Keycloak (the console's 账号管理): the directory follows within a sync period.
        const directorySync = setInterval(() => {
          syncDirectoryFromKeycloak(prisma, keycloak).then(
            (counts) => logger.debug(counts, "staff directory synced from Keycloak"),
            (err: unknown) => logger.warn({ err }, "staff directory sync from Keycloak failed; keeping the last one"),
          );
        }, config.DIRECTORY_SYNC_SECONDS * 1000);
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
        const letters = startLetterWorker({
          prisma,
          connection: workerRedis,
          prefix: config.QUEUE_PREFIX,
          quiet,
          linkBase: config.PUBLIC_LINK_BASE_URL,
          logger,
        });
        return [
          { name: "letters", close: () => letters.close() },
          { name: "dispatcher", close: () => dispatcher.close() },
          { name: "delivery", close: () => delivery.close() },
          { name: "birthdays", close: () => birthdays.close() },
          { name: "channels", close: async () => closeChannels() },
          { name: "directory-sync", close: async () => clearInterval(directorySync) },
        ];
      },
    };
  },
});
