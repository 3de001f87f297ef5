import type { FastifyOtelInstrumentation } from "@fastify/otel";
import { createServiceApp, type Logger, type ReadinessCheck, type ServiceApp } from "@shouhu/kit";
import { protectApiRoutes, type TokenVerifier } from "@shouhu/auth";
import type { PrismaClient } from "./data/db.js";
import { registerRecordRoutes } from "./routes/records.js";
import { registerItemRoutes } from "./routes/items.js";
import { registerConcernRoutes } from "./routes/concerns.js";
import { registerRuleRoutes, registerSnapshotRoute } from "./routes/rules.js";
import type { Queue } from "bullmq";
import fastifyMultipart from "@fastify/multipart";
import type { AttachmentStore } from "@shouhu/attachments";
import { registerPhotoRoutes } from "./routes/photos.js";
import { registerTaskLinkRoutes, type TaskLinkOptions } from "./routes/task-links.js";

export interface VisitsAppDeps {
  prisma: PrismaClient;
  verifier: TokenVerifier;
  logger: Logger;
  readiness?: ReadinessCheck[];
  instrumentation?: FastifyOtelInstrumentation;
  /** The clock, injectable so tests can fix "today". */
  now?: () => Date;
  backdateDays?: number;
  /** The schedule queue, where snapshot publishing runs as a background job. */
  scheduleQueue: Queue;
  /** Where visit photos live (S3 API); without it the photo routes are not served (tests that need none). */
  attachments?: AttachmentStore;
  /** One-time links for helpers without an account (issue 22.2); without a secret every link is invalid. */
  taskLinks?: TaskLinkOptions;
}

export async function buildVisitsApp(deps: VisitsAppDeps): Promise<ServiceApp> {
  const app = await createServiceApp({
    service: "visits",
    logger: deps.logger,
    readiness: deps.readiness,
    instrumentation: deps.instrumentation,
    openapi: { title: "守护 · 走访关爱 (visits)", description: "走访节奏与规则、走访记录、到期与逾期、关注事项（强制报告）" },
  });
  const now = deps.now ?? (() => new Date());

  protectApiRoutes(app, deps.verifier);

  registerRecordRoutes(app, { prisma: deps.prisma, now, backdateDays: deps.backdateDays ?? 31 });
  registerItemRoutes(app, { prisma: deps.prisma, now });
  registerConcernRoutes(app, { prisma: deps.prisma, now });
  registerRuleRoutes(app, deps.prisma, now);
  registerSnapshotRoute(app, deps.scheduleQueue);
  registerTaskLinkRoutes(app, {
    prisma: deps.prisma,
    now,
    backdateDays: deps.backdateDays ?? 31,
    links: deps.taskLinks ?? { secret: "", ttlHours: 72, baseUrl: "http://127.0.0.1:3000" },
  });
  if (deps.attachments) {
    await app.register(fastifyMultipart, { limits: { files: 1, fields: 5 } });
    registerPhotoRoutes(app, { prisma: deps.prisma, store: deps.attachments, now });
  }
  return app;
}
