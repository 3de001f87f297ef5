import { fileURLToPath } from "node:url";
import { createLogger, initTelemetry, loadConfig } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { migrate } from "@shouhu/db";
import { jobQueues } from "@shouhu/contracts";
import { createEventConsumer, createJobQueue, createRedisConnection, gracefulShutdown } from "@shouhu/messaging";
import { reportingConfigSchema } from "./config.js";
import { createPrisma, type Tx } from "./data/db.js";
import { buildReportingApp } from "./app.js";
import { reportingHandlers } from "./events/handlers.js";
import { startExportWorker } from "./jobs/export.js";

const config = loadConfig(reportingConfigSchema);
const logger = createLogger("reporting", config.LOG_LEVEL);
const { instrumentation, shutdown: shutdownTelemetry } = initTelemetry({ serviceName: "reporting", otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
await migrate({ databaseUrl: config.DATABASE_URL, migrationsDir, logger });

const prisma = createPrisma(config.DATABASE_URL);
const producerRedis = createRedisConnection(config.REDIS_URL, { role: "producer" });
const workerRedis = createRedisConnection(config.REDIS_URL, { role: "worker" });
const exportQueue = createJobQueue(jobQueues.reportingExport, producerRedis, config.QUEUE_PREFIX);

const closers: { name: string; close: () => Promise<unknown> }[] = [];

if (config.ROLE === "api" || config.ROLE === "all") {
  const verifier = createTokenVerifier({ issuerUrl: config.OIDC_ISSUER_URL, audience: config.OIDC_AUDIENCE, allowedClients: config.OIDC_ALLOWED_CLIENTS });
  const app = await buildReportingApp({
    prisma,
    verifier,
    logger,
    instrumentation,
    exports: exportQueue,
    readiness: [
      { name: "postgres", check: async () => void (await prisma.$queryRawUnsafe("SELECT 1")) },
      { name: "redis", check: async () => void (await producerRedis.ping()) },
    ],
  });
  await app.listen({ port: config.PORT, host: config.HOST });
  closers.push({ name: "http", close: () => app.close() });
}

if (config.ROLE === "worker" || config.ROLE === "all") {
  const consumer = createEventConsumer<Tx>({
    service: "reporting",
    connection: workerRedis,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.CONSUMER_CONCURRENCY,
    handlers: reportingHandlers(),
    runInTransaction: (fn) => prisma.$transaction(fn),
    logger,
  });
  const exporter = startExportWorker({ prisma, connection: workerRedis, prefix: config.QUEUE_PREFIX, logger });
  closers.push({ name: "consumer", close: () => consumer.close() }, { name: "exports", close: () => exporter.close() });
}

closers.push(
  { name: "queues", close: () => exportQueue.close() },
  { name: "prisma", close: () => prisma.$disconnect() },
  { name: "redis", close: async () => { producerRedis.disconnect(); workerRedis.disconnect(); } },
  { name: "telemetry", close: () => shutdownTelemetry() },
);
gracefulShutdown(closers, { logger });
logger.info({ role: config.ROLE, port: config.PORT }, "reporting started");
