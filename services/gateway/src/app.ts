import type { FastifyOtelInstrumentation } from "@fastify/otel";
import { createRequire } from "node:module";
import fastifyCors from "@fastify/cors";
import fastifyRateLimit from "@fastify/rate-limit";
import type { Redis } from "ioredis";
import { TooManyRequestsError, createServiceApp, type Logger, type ReadinessCheck, type ServiceApp } from "@shouhu/kit";
import { authenticate, type TokenVerifier } from "@shouhu/auth";
import { isPublicPath } from "./upstreams.js";
import type { PrismaClient } from "./generated/prisma/client.js";
import { AuditWriter, type AuditPool } from "./audit/writer.js";
import { registerAuditRoutes } from "./routes/audit.js";
import { OpenApiAggregator, registerDocs } from "./routes/docs.js";
import { auditUnauthenticated, registerProxy, rememberSourceIp } from "./routes/proxy.js";
import { registerConsole, type ConsoleOptions } from "./routes/console.js";
import { registerAccountRoutes, type AccountsOptions } from "./routes/accounts.js";
import { registerOps, registerOpsSession, type OpsOptions } from "./routes/ops.js";
import { Counter, Gauge } from "prom-client";
import { MemoryFallback, leasedRedisStore } from "./rate-limit-store.js";
import type { Upstream } from "./upstreams.js";

export interface GatewayDeps {
  prisma: PrismaClient;
  /** Plain pg pool for the audit INSERTs; without it Prisma runs the same SQL. */
  auditPool?: AuditPool;
  /** AuditWriter's minIntervalMs (config AUDIT_BATCH_INTERVAL_MS). */
  auditBatchIntervalMs?: number;
  /** The audit journal (config AUDIT_JOURNAL_*); no dir: a private temporary one (tests). */
  auditJournal?: { dir?: string; maxBytes?: number; sync?: "none" | "group" };
  verifier: TokenVerifier;
  redis: Redis;
  logger: Logger;
  upstreams: Upstream[];
  corsOrigins: string[];
  rateLimitPerMinute: number;
  /** Per source address, for the token-less `/api/v1/public/` routes (links from an SMS, provider callbacks). */
  publicRateLimitPerMinute?: number;
  /** Redis key prefix for rate-limit counters (tests isolate theirs). */
  rateLimitNamespace?: string;
  timeoutMs?: number;
  readiness?: ReadinessCheck[];
  instrumentation?: FastifyOtelInstrumentation;
  audit?: AuditWriter;
  /** Load balancers whose X-Forwarded-For is believed (config TRUST_PROXY); default none. */
  trustProxy?: boolean | string | string[];
  /** Bull Board at /ops/queues for the realm role `ops` (queues' Redis and prefix); absent: not mounted. */
  ops?: Omit<OpsOptions, "verifier">;
  /** Staff accounts in Keycloak at /api/v1/accounts (admin client, org-unit check); absent: not served. */
  accounts?: Omit<AccountsOptions, "audit" | "prisma">;
  /** The staff console at `/` (built files, issuer, client id); absent: not served. */
  console?: Omit<ConsoleOptions, "logger">;
}

/** Security headers; a JSON API loads nothing, and the docs UI sets its own policy (staticCSP). */
export const helmetOptions = {
  contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
};

type HelmetMiddleware = (req: unknown, res: { setHeader(name: string, value: string): void; removeHeader(name: string): void }, next: () => void) => void;

/**
 * helmet's headers, computed once. @fastify/helmet builds helmet's middleware
 * again (CSP parsed anew) on every request, ~3 % of the gateway's CPU, for
 * headers that are the same on every response; this uses the very helmet it does.
 */
export function securityHeaders(options: object): [string, string][] {
  const helmetPath = createRequire(import.meta.url).resolve("@fastify/helmet");
  const helmet = createRequire(helmetPath)("helmet") as (options: object) => HelmetMiddleware;
  const headers: [string, string][] = [];
  helmet(options)({}, { setHeader: (name, value) => void headers.push([name.toLowerCase(), String(value)]), removeHeader: () => undefined }, () => undefined);
  return headers;
}

/**
 * The one public entry: security headers and CORS, bearer-token validation on
 * every `/api/v1` route, per-user rate limits in Redis, the audit trail of child
 * records, proxying to the services, and the merged API documentation.
 */
export async function buildGatewayApp(deps: GatewayDeps): Promise<ServiceApp & { audit: AuditWriter }> {
  const app = await createServiceApp({
    service: "gateway",
    logger: deps.logger,
    readiness: deps.readiness,
    instrumentation: deps.instrumentation,
    openapi: { title: "守护 Shouhu API" },
    // The public edge: request ids are made here, never taken from a client.
    requestIds: "generate",
    trustProxy: deps.trustProxy,
  });
  const audit =
    deps.audit ??
    new AuditWriter(deps.prisma, {
      pool: deps.auditPool,
      minIntervalMs: deps.auditBatchIntervalMs,
      dir: deps.auditJournal?.dir,
      maxBytes: deps.auditJournal?.maxBytes,
      sync: deps.auditJournal?.sync,
      logger: deps.logger,
    });

  const security = securityHeaders(helmetOptions);
  app.addHook("onRequest", (_request, reply, done) => {
    for (const [name, value] of security) reply.raw.setHeader(name, value);
    done();
  });
  await app.register(fastifyCors, { origin: deps.corsOrigins.length ? deps.corsOrigins : false, credentials: false, maxAge: 600 });
  await registerDocs(app, new OpenApiAggregator(deps.upstreams));

  // Redis down: per-instance counting, said once in the log and visible in metrics.
  const fallback = new MemoryFallback((active, err) =>
    active ? deps.logger.warn({ err }, "rate limiting in memory: Redis unreachable") : deps.logger.info("rate limiting back on Redis"),
  );
  new Gauge({
    name: "gateway_rate_limit_fallback_active",
    help: "1 while rate limits are counted in memory because Redis is unreachable",
    registers: [app.metrics],
    collect() {
      this.set(fallback.active ? 1 : 0);
    },
  });
  new Counter({
    name: "gateway_rate_limit_fallback_total",
    help: "Requests rate-limited in memory because Redis was unreachable",
    registers: [app.metrics],
    collect() {
      this.reset();
      this.inc(fallback.uses);
    },
  });

  // The audit journal: what PostgreSQL has yet to receive (an outage shows here first).
  new Gauge({
    name: "gateway_audit_journal_bytes",
    help: "Audit records journaled and not yet written to PostgreSQL, in bytes",
    registers: [app.metrics],
    collect() {
      this.set(audit.pendingBytes);
    },
  });
  new Gauge({
    name: "gateway_audit_journal_lag_seconds",
    help: "Age of the oldest audit record not yet written to PostgreSQL",
    registers: [app.metrics],
    collect() {
      this.set(audit.lagSeconds);
    },
  });
  new Counter({
    name: "gateway_audit_insert_failures_total",
    help: "Audit INSERTs that failed and were retried from the journal",
    registers: [app.metrics],
    collect() {
      this.reset();
      this.inc(audit.counts.failures);
    },
  });

  await app.register(async (api) => {
    const scoped = api as unknown as ServiceApp;
    scoped.addHook("onRequest", rememberSourceIp);
    // Token-less routes (a letter's page, a one-time task link, an SMS receipt): each service checks the link's or
    // callback's own signature; the path must be plain (no escapes, no dot segments) to be taken as public.
    const check = authenticate(deps.verifier);
    scoped.addHook("onRequest", (request, reply, done) => (isPublicPath(request.url) ? done() : check(request, reply, done)));
    scoped.addHook("onResponse", auditUnauthenticated(audit));
    await scoped.register(fastifyRateLimit, {
      // After authentication, so the limit is per user, not per shared township NAT address.
      hook: "preHandler",
      // Provider receipts come in bursts from a few addresses and are signed: the staff limit, not the public one.
      max: (request) =>
        request.principal || request.url.startsWith("/api/v1/public/sms-receipts") ? deps.rateLimitPerMinute : (deps.publicRateLimitPerMinute ?? 60),
      timeWindow: 60_000,
      // Same Redis counters, taken in leases: no Redis round trip per request for a busy user.
      store: leasedRedisStore(deps.redis, deps.rateLimitNamespace ?? "shouhu-gw-rl-", fallback),
      keyGenerator: (request) => request.principal?.userId ?? request.ip,
      // Thrown by the plugin, rendered by our error handler in the one error shape.
      errorResponseBuilder: (_request, context) => new TooManyRequestsError(`请求过于频繁，请 ${Math.ceil(context.ttl / 1000)} 秒后再试`),
    });
    registerAuditRoutes(scoped, deps.prisma);
    registerOpsSession(scoped);
    if (deps.accounts)
      await scoped.register(async (accounts) => registerAccountRoutes(accounts as unknown as ServiceApp, { ...deps.accounts!, audit, prisma: deps.prisma }));
    await registerProxy(scoped, { upstreams: deps.upstreams, audit, timeoutMs: deps.timeoutMs ?? 30_000 });
  });

  if (deps.ops) {
    const ops = await registerOps(app, { ...deps.ops, verifier: deps.verifier });
    app.addHook("onClose", () => ops.close());
  }
  if (deps.console) await registerConsole(app, { ...deps.console, logger: deps.logger });

  // After the HTTP server: what PostgreSQL does not take within the grace stays in the journal for the next start.
  app.addHook("onClose", async () => audit.close());
  return Object.assign(app, { audit });
}
