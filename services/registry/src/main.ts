import { fileURLToPath } from "node:url";
import { createLogger, initTelemetry, loadConfig } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { createPgPool, migrate } from "@shouhu/db";
import { subscriptions } from "@shouhu/contracts";
import { OutboxRelay, createRedisConnection, gracefulShutdown } from "@shouhu/messaging";
import { registryConfigSchema } from "./config.js";
import { createPrisma } from "./data/db.js";
import { seedDemoOrg } from "./seed/demo-org.js";
import { publishOrgUnits } from "./jobs/snapshot.js";
import { buildRegistryApp } from "./app.js";
import { startRegistryWorkers, createRegistryQueues } from "./jobs/workers.js";
import { PRODUCER } from "./data/children.js";

const config = loadConfig(registryConfigSchema);
const logger = createLogger("registry", config.LOG_LEVEL);
const { instrumentation, shutdown: shutdownTelemetry } = initTelemetry({ serviceName: "registry", otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
await migrate({ databaseUrl: config.DATABASE_URL, migrationsDir, logger });

const prisma = createPrisma(config.DATABASE_URL);
if (config.SEED_DEMO_ORG) await seedDemoOrg(prisma);
await publishOrgUnits(prisma);
const pool = createPgPool(config.DATABASE_URL, { max: 4 });
const producerRedis = createRedisConnection(config.REDIS_URL, { role: "producer" });
const workerRedis = createRedisConnection(config.REDIS_URL, { role: "worker" });
const queues = createRegistryQueues(producerRedis, config.QUEUE_PREFIX);

const closers: { name: string; close: () => Promise<unknown> }[] = [];

if (config.ROLE === "api" || config.ROLE === "all") {
  // Its own pool, so child reads never queue behind import COPYs on the workers' pool.
  const readPool = createPgPool(config.DATABASE_URL, { max: 4 });
  const verifier = createTokenVerifier({ issuerUrl: config.OIDC_ISSUER_URL, audience: config.OIDC_AUDIENCE, allowedClients: config.OIDC_ALLOWED_CLIENTS });
  const app = await buildRegistryApp({
    prisma,
    pool: readPool,
    verifier,
    logger,
    instrumentation,
    readiness: [
      { name: "postgres", check: async () => void (await prisma.$queryRawUnsafe("SELECT 1")) },
      { name: "redis", check: async () => void (await producerRedis.ping()) },
    ],
    imports: { queue: queues.imports },
    exports: { queue: queues.exports },
    snapshots: { queue: queues.schedule },
  });
  await app.listen({ port: config.PORT, host: config.HOST });
  // In order: stop taking requests, then close the pool they read from.
  closers.push({ name: "http", close: () => app.close() }, { name: "pg-api", close: () => readPool.end() });
}

if (config.ROLE === "worker" || config.ROLE === "all") {
  const relay = new OutboxRelay({ pool, connection: producerRedis, prefix: config.QUEUE_PREFIX, producer: PRODUCER, routes: subscriptions, logger });
  relay.start();
  closers.push({ name: "relay", close: () => relay.stop() });
  const workers = await startRegistryWorkers({ prisma, pool, connection: workerRedis, prefix: config.QUEUE_PREFIX, queues, logger, ageOutCron: config.AGE_OUT_CRON });
  closers.push(...workers);
}

closers.push(
  { name: "queues", close: () => Promise.all([queues.imports.close(), queues.exports.close(), queues.schedule.close()]) },
  { name: "prisma", close: () => prisma.$disconnect() },
  { name: "pg", close: () => pool.end() },
  { name: "redis", close: async () => { producerRedis.disconnect(); workerRedis.disconnect(); } },
  { name: "telemetry", close: () => shutdownTelemetry() },
);
gracefulShutdown(closers, { logger });
logger.info({ role: config.ROLE, port: config.PORT }, "registry started");
