import type { FastifyOtelInstrumentation } from "@fastify/otel";
import { createServiceApp, type Logger, type ReadinessCheck, type ServiceApp } from "@shouhu/kit";
import { protectApiRoutes, type TokenVerifier } from "@shouhu/auth";
import type { PrismaClient } from "./data/db.js";
import { registerHomeRoutes } from "./routes/homes.js";
import { registerSafetyRoutes } from "./routes/safety.js";
import { registerPhotoRoutes } from "./routes/photos.js";
import fastifyMultipart from "@fastify/multipart";
import type { AttachmentStore } from "@shouhu/attachments";

export interface ActivitiesAppDeps {
  prisma: PrismaClient;
  verifier: TokenVerifier;
  logger: Logger;
  readiness?: ReadinessCheck[];
  instrumentation?: FastifyOtelInstrumentation;
  /** The clock, injectable so tests can fix "today". */
  now?: () => Date;
  /** Where session photos live (S3 API); without it the photo routes are not served (tests that need none). */
  attachments?: AttachmentStore;
}

export async function buildActivitiesApp(deps: ActivitiesAppDeps): Promise<ServiceApp> {
  const app = await createServiceApp({
    service: "activities",
    logger: deps.logger,
    readiness: deps.readiness,
    instrumentation: deps.instrumentation,
    openapi: { title: "守护 · 儿童之家与活动 (activities)", description: "留守儿童之家、活动记录与签到、停摆提示、安全专题教育" },
  });
  const now = deps.now ?? (() => new Date());
  protectApiRoutes(app, deps.verifier);
  registerHomeRoutes(app, { prisma: deps.prisma, now, photos: Boolean(deps.attachments) });
  registerSafetyRoutes(app, { prisma: deps.prisma, now });
  if (deps.attachments) {
    await app.register(fastifyMultipart, { limits: { files: 1, fields: 5 } });
    registerPhotoRoutes(app, { prisma: deps.prisma, store: deps.attachments, now });
  }
  return app;
}
