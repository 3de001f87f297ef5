import type { FastifyOtelInstrumentation } from "@fastify/otel";
import { createServiceApp, type Logger, type ReadinessCheck, type ServiceApp } from "@shouhu/kit";
import { protectApiRoutes, type TokenVerifier } from "@shouhu/auth";
import type { PrismaClient } from "./data/db.js";
import multipart from "@fastify/multipart";
import { todayInChina } from "@shouhu/cn";
import { registerCampaignRoutes } from "./routes/campaigns.js";
import { registerExamRoutes } from "./routes/exams.js";
import { registerReferenceRoutes } from "./routes/reference.js";
import { registerSnapshotRoutes } from "./routes/snapshots.js";

export interface HealthAppDeps {
  prisma: PrismaClient;
  verifier: TokenVerifier;
  logger: Logger;
  readiness?: ReadinessCheck[];
  instrumentation?: FastifyOtelInstrumentation;
  now?: () => Date;
}

export async function buildHealthApp(deps: HealthAppDeps): Promise<ServiceApp> {
  const app = await createServiceApp({
    service: "health",
    logger: deps.logger,
    readiness: deps.readiness,
    instrumentation: deps.instrumentation,
    openapi: { title: "守护 · 健康体检 (health)", description: "体检活动、体检记录（国家标准评价）、异常随访、覆盖统计、批量录入" },
  });
  protectApiRoutes(app, deps.verifier);
  await app.register(multipart, { limits: { fileSize: 10 * 1024 * 1024, files: 1 } });
  const now = deps.now ?? (() => new Date());
  const routeDeps = { prisma: deps.prisma, today: () => todayInChina(now()) };
  registerCampaignRoutes(app, routeDeps);
  registerExamRoutes(app, routeDeps);
  registerSnapshotRoutes(app, routeDeps);
  registerReferenceRoutes(app);
  return app;
}
