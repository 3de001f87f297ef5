import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { createLogger, initTelemetry, loadConfig, shutdownReadiness } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { createPgPool, createPrismaAdapter, migrate } from "@shouhu/db";
import { gracefulShutdown } from "@shouhu/messaging";
import { gatewayConfigSchema } from "./config.js";
import { PrismaClient } from "./generated/prisma/client.js";
import { buildGatewayApp } from "./app.js";
import { upstreamTable } from "./upstreams.js";
import { grantRuntimeRole } from "./audit/grants.js";
import { AuditWriter } from "./audit/writer.js";
import { KeycloakAccounts } from "@shouhu/auth/keycloak-accounts";
import { registryOrgUnits } from "./accounts/org-units.js";

const config = loadConfig(gatewayConfigSchema);
/** host:port/database, without the credentials: whose rows an audit journal holds. */
const databaseIdentity = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}:${u.port || "5432"}${u.pathname}`;
};
const logger = createLogger("gateway", config.LOG_LEVEL);
const { instrumentation, exporting, shutdown: shutdownTelemetry } = initTelemetry({ serviceName: "gateway", otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT });

await migrate({ databaseUrl: config.DATABASE_URL, migrationsDir: fileURLToPath(new URL("../prisma/migrations", import.meta.url)), logger });
// Migrated as the owner; run as the runtime role, which cannot change or delete audit rows.
const runtimeUrl = config.DATABASE_RUNTIME_URL ?? config.DATABASE_URL;
if (config.DATABASE_RUNTIME_URL) {
  const owner = createPgPool(config.DATABASE_URL, { max: 1 });
  await grantRuntimeRole(owner, decodeURIComponent(new URL(config.DATABASE_RUNTIME_URL).username));
  await owner.end();
}
const prisma = new PrismaClient({ adapter: createPrismaAdapter(runtimeUrl) });
// Rate limiting must not hang requests when Redis is slow: fail fast.
// Auto-pipelining: rate-limit calls of requests handled in the same event-loop turn go in one write.
const redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1, connectTimeout: 2000, enableOfflineQueue: false, enableAutoPipelining: true });
// The audit INSERT on a plain pg pool (prepared statement): Prisma's raw query costs ~5x the CPU.
const auditPool = createPgPool(runtimeUrl, { max: 2, onError: (err) => logger.warn({ err }, "postgres connection lost; reconnecting on next use") });
// Replays what an earlier run left in the journal, then writes every audited request from it.
const audit = new AuditWriter(prisma, {
  pool: auditPool,
  minIntervalMs: config.AUDIT_BATCH_INTERVAL_MS,
  // Per port by default: several gateways of one checkout (npm start, test stacks) each have their own.
  dir: config.AUDIT_JOURNAL_DIR ?? fileURLToPath(new URL(`../var/audit-journal/port-${config.PORT}`, import.meta.url)),
  database: databaseIdentity(runtimeUrl),
  maxBytes: config.AUDIT_JOURNAL_MAX_MB * 1024 * 1024,
  sync: config.AUDIT_JOURNAL_SYNC,
  logger,
});
const draining = shutdownReadiness();
redis.on("error", (err) => logger.warn({ err }, "redis error"));

const app = await buildGatewayApp({
  prisma,
  auditPool,
  audit,
  verifier: createTokenVerifier({ issuerUrl: config.OIDC_ISSUER_URL, audience: config.OIDC_AUDIENCE, allowedClients: config.OIDC_ALLOWED_CLIENTS }),
  redis,
  logger,
  // Spans exported: the gateway's request span is the parent of the service's. None
  // exported: no per-request span machinery; the caller's traceparent, if any, is
  // forwarded as it came, so the service still continues the caller's trace.
  instrumentation: exporting ? instrumentation : undefined,
  upstreams: upstreamTable({
    registry: config.REGISTRY_URL,
    pairing: config.PAIRING_URL,
    visits: config.VISITS_URL,
    health: config.HEALTH_URL,
    notifications: config.NOTIFICATIONS_URL,
    reporting: config.REPORTING_URL,
    activities: config.ACTIVITIES_URL,
  }),
  corsOrigins: config.CORS_ORIGINS,
  trustProxy: config.TRUST_PROXY,
  rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
  publicRateLimitPerMinute: config.PUBLIC_RATE_LIMIT_PER_MINUTE,
  timeoutMs: config.UPSTREAM_TIMEOUT_MS,
  ...(config.KEYCLOAK_ACCOUNTS_SECRET
    ? {
        accounts: {
          accounts: new KeycloakAccounts({
            issuerUrl: config.OIDC_ISSUER_URL,
            clientId: config.KEYCLOAK_ACCOUNTS_CLIENT_ID,
            clientSecret: config.KEYCLOAK_ACCOUNTS_SECRET,
          }),
          orgUnitExists: registryOrgUnits(config.REGISTRY_URL),
        },
      }
    : {}),
  ops: { connection: { url: config.REDIS_URL, maxRetriesPerRequest: 1, connectTimeout: 2000 }, prefix: config.QUEUE_PREFIX },
  console: {
    dir: config.CONSOLE_DIR ?? fileURLToPath(new URL("../../../apps/console/dist", import.meta.url)),
    issuerUrl: config.CONSOLE_OIDC_ISSUER_URL ?? config.OIDC_ISSUER_URL,
    clientId: config.CONSOLE_CLIENT_ID,
  },
  readiness: [
    draining,
    // Not PostgreSQL: while it is away the journal keeps the audit and requests are served;
    // only a full journal (audited requests refused) makes the instance not ready.
    {
      name: "audit-journal",
      check: async () => {
        if (audit.full) throw new Error("audit journal full: PostgreSQL unreachable");
      },
    },
    { name: "redis", check: async () => void (await redis.ping()) },
  ],
});
await app.listen({ port: config.PORT, host: config.HOST });
logger.info({ port: config.PORT }, "gateway started");

gracefulShutdown(
  [
    {
      name: "drain",
      close: async () => {
        draining.begin();
        await new Promise((r) => setTimeout(r, config.SHUTDOWN_DRAIN_MS));
      },
    },
    { name: "http", close: () => app.close() },
    { name: "audit-pool", close: () => auditPool.end() },
    { name: "prisma", close: () => prisma.$disconnect() },
    { name: "redis", close: async () => redis.disconnect() },
    { name: "telemetry", close: () => shutdownTelemetry() },
  ],
  { logger, timeoutMs: config.SHUTDOWN_GRACE_MS },
);
