import { randomUUID } from "node:crypto";
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyBaseLogger,
  type RawServerDefault,
  type RawRequestDefaultExpression,
  type RawReplyDefaultExpression,
} from "fastify";
import fastifySwagger from "@fastify/swagger";
import { serializerCompiler, validatorCompiler, jsonSchemaTransform, type ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Logger } from "pino";
import { errorHandler, notFoundHandler } from "./error-handler.js";
import { registerHealthRoutes, type ReadinessCheck } from "./health.js";
import { lazyChildLogger } from "./logger.js";
import type { FastifyOtelInstrumentation } from "@fastify/otel";

declare module "fastify" {
  interface FastifyInstance {
    /** The Prometheus registry behind `/metrics`, for a service's own metrics. */
    metrics: import("prom-client").Registry;
  }
}

// Validation messages reach staff: zod's built-in zh-CN messages.
z.config(z.locales.zhCN());

export type ServiceApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

export interface ServiceAppOptions {
  service: string;
  logger: Logger;
  readiness?: ReadinessCheck[];
  /** From `initTelemetry`; omitted in tests that don't look at spans. */
  instrumentation?: FastifyOtelInstrumentation;
  openapi?: { title: string; version?: string; description?: string };
  bodyLimit?: number;
  /**
   * "header" (services behind the gateway): an incoming `x-request-id` is the request's id,
   * so the gateway's id joins the logs of every hop. "generate" (the public edge): every id
   * is made here; a client's header is never the id (the audit trail keeps it beside it).
   */
  requestIds?: "header" | "generate";
  /** Fastify's trustProxy: whose X-Forwarded-For sets `request.ip` (the load balancers' addresses or CIDRs); default none. */
  trustProxy?: boolean | string | string[];
}

/**
 * The Fastify instance every service builds on: request ids, tracing, zod
 * validation with field-naming 400s, the one error shape, OpenAPI at
 * `/openapi.json`, and `/healthz` `/readyz` `/metrics`. Routes come after.
 */
export async function createServiceApp(options: ServiceAppOptions): Promise<ServiceApp> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestIdHeader: options.requestIds === "generate" ? false : "x-request-id",
    genReqId: () => randomUUID(),
    trustProxy: options.trustProxy ?? false,
    // One access-log line per request (onResponse below) instead of two.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();
  // Typed for Fastify's base logger; the children it makes are pino's own.
  app.setChildLoggerFactory(lazyChildLogger as unknown as Parameters<typeof app.setChildLoggerFactory>[0]);

  if (options.instrumentation) await app.register(options.instrumentation.plugin());
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);

  // Callback hooks, not async ones: every request passes them, and an async hook
  // costs a promise and a microtask turn each.
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    const level = reply.statusCode >= 500 ? "error" : "info";
    // At warn level the access line is skipped before its object is built.
    if ((request.log as unknown as Logger).isLevelEnabled(level)) {
      request.log[level]({ method: request.method, route: request.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, "request");
    }
    done();
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: options.openapi?.title ?? options.service,
        version: options.openapi?.version ?? "1.0.0",
        description: options.openapi?.description,
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  app.get("/openapi.json", { schema: { hide: true }, config: { otel: false } }, async () => app.swagger());

  const metrics = registerHealthRoutes(app as unknown as FastifyInstance, options.service, options.readiness ?? []);
  app.decorate("metrics", metrics);
  return app as unknown as ServiceApp;
}
