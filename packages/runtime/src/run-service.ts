import { fileURLToPath } from "node:url";
import type pg from "pg";
import type { Redis } from "ioredis";
import type { z } from "zod";
import type { FastifyOtelInstrumentation } from "@fastify/otel";
import {
  createLogger,
  createServiceApp,
  initTelemetry,
  loadConfig,
  processMetrics,
  shutdownReadiness,
  type Logger,
  type ReadinessCheck,
  type ServiceApp,
  type ServiceConfig,
} from "@shouhu/kit";
import { createTokenVerifier, type TokenVerifier } from "@shouhu/auth";
import { createPgPool, migrate } from "@shouhu/db";
import { subscriptions, type EventType } from "@shouhu/contracts";
import {
  OutboxRelay,
  closeWatchedQueues,
  createEventConsumer,
  type BatchPrepare,
  createRedisConnection,
  gracefulShutdown,
  toCloser,
  type Closable,
  type Closer,
  type EventHandlers,
  type SqlTx,
} from "@shouhu/messaging";

/** What a service's database client must offer the process (a Prisma client does). */
export interface ServiceDb {
  $queryRawUnsafe(query: string, ...values: unknown[]): Promise<unknown>;
  $disconnect(): Promise<void>;
}

/** Everything the process opened, handed to the service to build its parts from. */
export interface ServiceContext<C extends ServiceConfig, P extends ServiceDb> {
  config: C;
  logger: Logger;
  instrumentation: FastifyOtelInstrumentation;
  prisma: P;
  /** A plain pg pool on the same database (relay LISTEN, COPY, bulk paths); opened on first use. */
  readonly pool: pg.Pool;
  /** Fails fast when Redis is down: for enqueueing from requests. */
  producerRedis: Redis;
  /** Retries forever: for BullMQ workers. */
  workerRedis: Redis;
  /** The PostgreSQL and Redis checks behind /readyz. */
  readiness: ReadinessCheck[];
  /** Queues and other resources to close at shutdown, after the HTTP server and workers. */
  own<T extends Closable>(resource: T): T;
}

/** The service's own parts; each is built only in the roles that run it. */
export interface ServiceParts<Tx extends SqlTx> {
  /** ROLE=api|all: the Fastify app. The process adds nothing to it but `listen`. */
  api?: (verifier: TokenVerifier) => Promise<ServiceApp>;
  /** ROLE=worker|all: consumes `<name>.events`, the handler and the inbox row in one transaction. */
  consumer?: {
    handlers: EventHandlers<Tx>;
    runInTransaction: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;
    concurrency?: number;
    /** Loads what a batch's handlers read, once per batch (see EventConsumerOptions.prepare). */
    prepare?: BatchPrepare<Tx>;
  };
  /** ROLE=worker|all: scheduled jobs, background job workers, pollers. */
  workers?: () => Promise<Closable[]>;
}

export interface ServiceDefinition<S extends z.ZodType<ServiceConfig>, P extends ServiceDb, Tx extends SqlTx> {
  name: string;
  configSchema: S;
  /** The service's `prisma/migrations`, applied (advisory-locked) before anything starts. */
  migrationsDir: string | URL;
  createPrisma: (databaseUrl: string) => P;
  /** When set, the worker role relays this service's outbox to the consuming services' queues. */
  producer?: string;
  poolMax?: number;
  /** Routing table (tests); defaults to the one in contracts. */
  routes?: Partial<Record<EventType, readonly string[]>>;
  env?: NodeJS.ProcessEnv;
  /** Exit the process after shutdown (default true; tests pass false and keep the process). */
  exitOnShutdown?: boolean;
  /** Runs in every role after migrations: seeds, directory syncs, queues the API and workers share. */
  setup: (ctx: ServiceContext<z.output<S>, P>) => Promise<ServiceParts<Tx>> | ServiceParts<Tx>;
}

export interface RunningService<C, P> {
  config: C;
  prisma: P;
  logger: Logger;
  /** The app when this process serves HTTP. */
  app?: ServiceApp;
  /** Closes everything in order, as SIGTERM does. */
  stop: () => Promise<void>;
}

/**
 * The process every service runs: validated config, logger, telemetry, migrations,
 * database and Redis connections; then, by ROLE, the HTTP API and/or the outbox relay,
 * the event consumer and the service's workers; and one graceful shutdown that closes
 * the HTTP server first, then workers (in-flight jobs finish), relay, queues, pools,
 * Redis and telemetry. Written once so no service can forget a step or its order.
 */
export async function runService<S extends z.ZodType<ServiceConfig>, P extends ServiceDb, Tx extends SqlTx>(
  def: ServiceDefinition<S, P, Tx>,
): Promise<RunningService<z.output<S>, P>> {
  const config = loadConfig(def.configSchema, def.env ?? process.env) as z.output<S>;
  const logger = createLogger(def.name, config.LOG_LEVEL);
  const telemetry = initTelemetry({ serviceName: def.name, otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });
  const migrationsDir = typeof def.migrationsDir === "string" ? def.migrationsDir : fileURLToPath(def.migrationsDir);
  await migrate({ databaseUrl: config.DATABASE_URL, migrationsDir, logger });

  const prisma = def.createPrisma(config.DATABASE_URL);
  processMetrics.setDefaultLabels({ service: def.name });
  const draining = shutdownReadiness();
  const producerRedis = createRedisConnection(config.REDIS_URL, { role: "producer" });
  const workerRedis = createRedisConnection(config.REDIS_URL, { role: "worker" });
  await untilReady(producerRedis, config.REDIS_URL);
  let pool: pg.Pool | undefined;
  const owned: Closer[] = [];
  const ctx: ServiceContext<z.output<S>, P> = {
    config,
    logger,
    instrumentation: telemetry.instrumentation,
    prisma,
    get pool() {
      pool ??= createPgPool(config.DATABASE_URL, {
        max: def.poolMax ?? 2,
        onError: (err) => logger.warn({ err }, "postgres connection lost; reconnecting on next use"),
      });
      return pool;
    },
    producerRedis,
    workerRedis,
    readiness: [
      draining,
      { name: "postgres", check: async () => void (await prisma.$queryRawUnsafe("SELECT 1")) },
      { name: "redis", check: async () => void (await producerRedis.ping()) },
    ],
    own(resource) {
      owned.push(toCloser(resource));
      return resource;
    },
  };
  const parts = await def.setup(ctx);

  const front: Closer[] = [];
  let app: ServiceApp | undefined;
  if (config.ROLE !== "worker" && parts.api) {
    const verifier = createTokenVerifier({ issuerUrl: config.OIDC_ISSUER_URL, audience: config.OIDC_AUDIENCE, allowedClients: config.OIDC_ALLOWED_CLIENTS });
    const built = await parts.api(verifier);
    app = built;
    await built.listen({ port: config.PORT, host: config.HOST });
    front.push({ name: "http", close: () => built.close() });
  }
  if (config.ROLE === "worker") {
    // Workers answer probes too (/healthz, /readyz, /metrics): orchestrators restart a
    // worker whose PostgreSQL or Redis checks fail, and compose waits on its health.
    const probes = await createServiceApp({ service: def.name, logger, readiness: ctx.readiness });
    await probes.listen({ port: config.PORT, host: config.HOST });
    front.push({ name: "probes", close: () => probes.close() });
  }
  if (config.ROLE !== "api") {
    if (parts.workers) front.push(...(await parts.workers()).map(toCloser));
    if (parts.consumer) {
      const consumer = createEventConsumer<Tx>({
        service: def.name,
        connection: workerRedis,
        prefix: config.QUEUE_PREFIX,
        handlers: parts.consumer.handlers,
        runInTransaction: parts.consumer.runInTransaction,
        concurrency: parts.consumer.concurrency,
        prepare: parts.consumer.prepare,
        routes: def.routes,
        logger,
      });
      front.push({ name: "consumer", close: () => consumer.close() });
    }
    if (def.producer) {
      const relay = new OutboxRelay({
        pool: ctx.pool,
        connection: producerRedis,
        prefix: config.QUEUE_PREFIX,
        producer: def.producer,
        routes: def.routes ?? subscriptions,
        logger,
      });
      relay.start();
      front.push({ name: "relay", close: () => relay.stop() });
    }
  }

  const stop = gracefulShutdown(
    [
      // Not ready first, so load balancers stop sending; then the server stops taking
      // connections and waits for in-flight requests (Fastify answers 503 meanwhile).
      {
        name: "drain",
        close: async () => {
          draining.begin();
          await new Promise((r) => setTimeout(r, config.SHUTDOWN_DRAIN_MS));
        },
      },
      ...front,
      ...owned,
      { name: "metrics", close: () => closeWatchedQueues() },
      { name: "prisma", close: () => prisma.$disconnect() },
      { name: "pg", close: async () => pool?.end() },
      {
        name: "redis",
        close: async () => {
          producerRedis.disconnect();
          workerRedis.disconnect();
        },
      },
      { name: "telemetry", close: () => telemetry.shutdown() },
    ],
    { logger, timeoutMs: config.SHUTDOWN_GRACE_MS, exit: def.exitOnShutdown ?? true, ...(def.exitOnShutdown === false ? { signals: [] } : {}) },
  );
  logger.info({ role: config.ROLE, port: app ? config.PORT : undefined }, `${def.name} started`);
  return { config, prisma, logger, app, stop };
}

/** The producer connection queues nothing while offline, so wait for it once at start and say which URL failed. */
async function untilReady(redis: Redis, url: string, timeoutMs = 10_000): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off("ready", onReady);
      reject(new Error(`Redis not reachable at REDIS_URL=${url} within ${timeoutMs / 1000}s`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once("ready", onReady);
  });
}
