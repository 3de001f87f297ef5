import { fileURLToPath } from "node:url";
import { createLogger, initTelemetry, loadConfig } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { createPgPool, migrate } from "@shouhu/db";
import { subscriptions } from "@shouhu/contracts";
import { OutboxRelay, createEventConsumer, createRedisConnection, gracefulShutdown } from "@shouhu/messaging";
import { healthConfigSchema } from "./config.js";
import { createPrisma, type Tx } from "./data/db.js";
import { PRODUCER } from "./data/exams.js";
import { buildHealthApp } from "./app.js";
import { healthHandlers } from "./events/handlers.js";

const config = loadConfig(healthConfigSchema);
const logger = createLogger("health", config.LOG_LEVEL);
const { instrumentation, shutdown: shutdownTelemetry } = initTelemetry({ serviceName: "health", otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
await migrate({ databaseUrl: config.DATABASE_URL, migrationsDir, logger });

const prisma = createPrisma(config.DATABASE_URL);
const pool = createPgPool(config.DATABASE_URL, { max: 2 });
const producerRedis = createRedisConnection(config.REDIS_URL, { role: "producer" });
const workerRedis = createRedisConnection(config.REDIS_URL, { role: "worker" });

const closers: { name: string; close: () => Promise<unknown> }[] = [];

if (config.ROLE === "api" || config.ROLE === "all") {
  const verifier = createTokenVerifier({ issuerUrl: config.OIDC_ISSUER_URL, audience: config.OIDC_AUDIENCE, allowedClients: config.OIDC_ALLOWED_CLIENTS });
  const app = await buildHealthApp({
    prisma,
    verifier,
    logger,
    instrumentation,
    readiness: [
      { name: "postgres", check: async () => void (await prisma.$queryRawUnsafe("SELECT 1")) },
      { name: "redis", check: async () => void (await producerRedis.ping()) },
    ],
  });
  await app.listen({ port: config.PORT, host: config.HOST });
  closers.push({ name: "http", close: () => app.close() });
}

if (config.ROLE === "worker" || config.ROLE === "all") {
  const relay = new OutboxRelay({ pool, connection: producerRedis, prefix: config.QUEUE_PREFIX, producer: PRODUCER, routes: subscriptions, logger });
  relay.start();
  const consumer = createEventConsumer<Tx>({
    service: "health",
    connection: workerRedis,
    prefix: config.QUEUE_PREFIX,
    handlers: healthHandlers(),
    runInTransaction: (fn) => prisma.$transaction(fn),
    logger,
  });
  closers.push({ name: "consumer", close: () => consumer.close() }, { name: "relay", close: () => relay.stop() });
}

closers.push(
  { name: "prisma", close: () => prisma.$disconnect() },
  { name: "pg", close: () => pool.end() },
  { name: "redis", close: async () => { producerRedis.disconnect(); workerRedis.disconnect(); } },
  { name: "telemetry", close: () => shutdownTelemetry() },
);
gracefulShutdown(closers, { logger });
logger.info({ role: config.ROLE, port: config.PORT }, "health started");
