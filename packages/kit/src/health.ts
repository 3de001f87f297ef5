import type { FastifyInstance } from "fastify";
import { Registry, collectDefaultMetrics, Histogram } from "prom-client";
import { processMetrics } from "./metrics.js";

/** Turns `/readyz` false for good once the process starts shutting down. */
export function shutdownReadiness(): ReadinessCheck & { begin(): void } {
  let stopping = false;
  return {
    name: "shutdown",
    check: async () => {
      if (stopping) throw new Error("shutting down");
    },
    begin: () => void (stopping = true),
  };
}

/** A dependency `/readyz` checks, e.g. the database or Redis. */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
}

async function withTimeout(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** `/healthz` (process alive), `/readyz` (dependencies reachable), `/metrics` (Prometheus). */
export function registerHealthRoutes(app: FastifyInstance, service: string, checks: ReadinessCheck[]): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration by route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    if (route !== "/metrics") duration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
    done();
  });

  const hidden = { schema: { hide: true }, config: { otel: false } } as const;
  app.get("/healthz", hidden, async () => ({ status: "ok", service }));
  app.get("/readyz", hidden, async (_request, reply) => {
    const results = await Promise.all(
      checks.map(async (c) => {
        try {
          await withTimeout(c.check(), 2000);
          return { name: c.name, ok: true as const };
        } catch (err) {
          return { name: c.name, ok: false as const, error: (err as Error).message };
        }
      }),
    );
    const ready = results.every((r) => r.ok);
    return reply.status(ready ? 200 : 503).send({ status: ready ? "ready" : "not_ready", service, checks: results });
  });
  app.get("/metrics", hidden, async (_request, reply) => {
    // The app's HTTP and process metrics, then the process's queue, outbox and consumer metrics.
    const background = await processMetrics.metrics();
    return reply.header("content-type", registry.contentType).send(`${await registry.metrics()}\n${background}`);
  });
  return registry;
}
