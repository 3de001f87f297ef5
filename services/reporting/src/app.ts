import type { FastifyOtelInstrumentation } from "@fastify/otel";
import type { Queue } from "bullmq";
import { createServiceApp, type Logger, type ReadinessCheck, type ServiceApp } from "@shouhu/kit";
import { protectApiRoutes, type TokenVerifier } from "@shouhu/auth";
import type { PrismaClient } from "./data/db.js";
import { registerReportRoutes } from "./routes/reports.js";

export interface ReportingAppDeps {
  prisma: PrismaClient;
  /** REPORT_EXPORT_TTL_HOURS in ms (default 24 h). */
  exportTtlMs?: number;
  verifier: TokenVerifier;
  logger: Logger;
  exports: Queue;
  readiness?: ReadinessCheck[];
  instrumentation?: FastifyOtelInstrumentation;
  now?: () => Date;
}

export async function buildReportingApp(deps: ReportingAppDeps): Promise<ServiceApp> {
  const app = await createServiceApp({
    service: "reporting",
    logger: deps.logger,
    readiness: deps.readiness,
    instrumentation: deps.instrumentation,
    openapi: { title: "守护 · 统计报表 (reporting)", description: "县级总览、乡镇下钻、月度趋势、督导报告、报表导出、统计重建" },
  });
  protectApiRoutes(app, deps.verifier);
  registerReportRoutes(app, {
    prisma: deps.prisma,
    now: deps.now ?? (() => new Date()),
    exports: deps.exports,
    ...(deps.exportTtlMs ? { exportTtlMs: deps.exportTtlMs } : {}),
  });
  return app;
}
