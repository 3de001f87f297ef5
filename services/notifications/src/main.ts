import { fileURLToPath } from "node:url";
import { createLogger, initTelemetry, loadConfig } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { createPgPool, migrate } from "@shouhu/db";
import { jobQueues, subscriptions } from "@shouhu/contracts";
import { OutboxRelay, createEventConsumer, createJobQueue, createRedisConnection, gracefulShutdown, inPgTransaction, type SqlTx } from "@shouhu/messaging";
import { notificationsConfigSchema } from "./config.js";
import { createPrisma } from "./data/db.js";
import { PRODUCER } from "./data/delivery.js";
import { syncDirectoryFromRealm } from "./data/directory.js";
import { startDispatcher } from "./data/dispatch.js";
import { parseQuietHours } from "./domain/quiet-hours.js";
import { channelsFromConfig } from "./channels/index.js";
import { buildNotificationsApp } from "./app.js";
import { notificationHandlers } from "./events/handlers.js";
import { createDeliveryQueue, startBirthdayWorker, startDeliveryWorker } from "./jobs/workers.js";

const config = loadConfig(notificationsConfigSchema);
const logger = createLogger("notifications", config.LOG_LEVEL);
const { instrumentation, shutdown: shutdownTelemetry } = initTelemetry({ serviceName: "notifications", otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
const quiet = parseQuietHours(config.QUIET_HOURS);

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
await migrate({ databaseUrl: config.DATABASE_URL, migrationsDir, logger });

const prisma = createPrisma(config.DATABASE_URL);
const synced = await syncDirectoryFromRealm(prisma, config.DIRECTORY_REALM_FILE);
logger.info({ users: synced, file: config.DIRECTORY_REALM_FILE }, "staff directory synced from the realm export");
const pool = createPgPool(config.DATABASE_URL, { max: 2 });
const producerRedis = createRedisConnection(config.REDIS_URL, { role: "producer" });
const workerRedis = createRedisConnection(config.REDIS_URL, { role: "worker" });
const deliveryQueue = createDeliveryQueue(producerRedis, config.QUEUE_PREFIX, { attempts: config.DELIVERY_ATTEMPTS, backoffMs: config.DELIVERY_BACKOFF_MS });
const scheduleQueue = createJobQueue(jobQueues.notificationsSchedule, producerRedis, config.QUEUE_PREFIX);
const deadLetters = { connection: producerRedis, prefix: config.QUEUE_PREFIX };

const closers: { name: string; close: () => Promise<unknown> }[] = [];

if (config.ROLE === "api" || config.ROLE === "all") {
  const verifier = createTokenVerifier({ issuerUrl: config.OIDC_ISSUER_URL, audience: config.OIDC_AUDIENCE, allowedClients: config.OIDC_ALLOWED_CLIENTS });
  const app = await buildNotificationsApp({
    prisma,
    verifier,
    logger,
    instrumentation,
    deadLetters,
    readiness: [
      { name: "postgres", check: async () => void (await prisma.$queryRawUnsafe("SELECT 1")) },
      { name: "redis", check: async () => void (await producerRedis.ping()) },
    ],
  });
  await app.listen({ port: config.PORT, host: config.HOST });
  closers.push({ name: "http", close: () => app.close() });
}

if (config.ROLE === "worker" || config.ROLE === "all") {
  const { channels, close: closeChannels } = channelsFromConfig(config);
  const relay = new OutboxRelay({ pool, connection: producerRedis, prefix: config.QUEUE_PREFIX, producer: PRODUCER, routes: subscriptions, logger });
  relay.start();
  // The consumer's own connections: one per concurrent event, on plain pg (data/sql.ts).
  const consumerPool = createPgPool(config.DATABASE_URL, { max: config.CONSUMER_CONCURRENCY });
  const consumer = createEventConsumer<SqlTx>({
    service: "notifications",
    connection: workerRedis,
    prefix: config.QUEUE_PREFIX,
    handlers: notificationHandlers({ quiet }),
    runInTransaction: (fn) => inPgTransaction(consumerPool, fn),
    concurrency: config.CONSUMER_CONCURRENCY,
    logger,
  });
  const dispatcher = startDispatcher(prisma, deliveryQueue, { pollMs: config.DISPATCH_POLL_MS, logger });
  const delivery = startDeliveryWorker({ prisma, channels, redis: producerRedis, keyPrefix: config.QUEUE_PREFIX, quiet, connection: workerRedis, prefix: config.QUEUE_PREFIX, logger });
  const birthdays = await startBirthdayWorker({ prisma, connection: workerRedis, prefix: config.QUEUE_PREFIX, queue: scheduleQueue, cron: config.BIRTHDAY_CRON, quiet, logger });
  closers.push(
    { name: "consumer", close: async () => { await consumer.close(); await consumerPool.end(); } },
    { name: "dispatcher", close: () => dispatcher.close() },
    { name: "delivery", close: () => delivery.close() },
    { name: "birthdays", close: () => birthdays.close() },
    { name: "relay", close: () => relay.stop() },
    { name: "channels", close: async () => closeChannels() },
  );
}

closers.push(
  { name: "queues", close: () => Promise.all([deliveryQueue.close(), scheduleQueue.close()]) },
  { name: "prisma", close: () => prisma.$disconnect() },
  { name: "pg", close: () => pool.end() },
  { name: "redis", close: async () => { producerRedis.disconnect(); workerRedis.disconnect(); } },
  { name: "telemetry", close: () => shutdownTelemetry() },
);
gracefulShutdown(closers, { logger });
logger.info({ role: config.ROLE, port: config.PORT }, "notifications started");
