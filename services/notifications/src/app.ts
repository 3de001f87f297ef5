import type { FastifyOtelInstrumentation } from "@fastify/otel";
import { createServiceApp, type Logger, type ReadinessCheck, type ServiceApp } from "@shouhu/kit";
import { protectApiRoutes, type TokenVerifier } from "@shouhu/auth";
import type { DeadLetterOptions } from "@shouhu/messaging";
import type { PrismaClient } from "./data/db.js";
import { registerInboxRoutes } from "./routes/inbox.js";
import { registerAdminRoutes } from "./routes/admin.js";
import { registerOfficeRoutes } from "./routes/offices.js";
import { registerLetterRoutes } from "./routes/letters.js";
import { registerPublicLetterRoutes } from "./routes/public-letters.js";
import { parseQuietHours, type QuietHours } from "./domain/quiet-hours.js";

export interface NotificationsAppDeps {
  prisma: PrismaClient;
  verifier: TokenVerifier;
  logger: Logger;
  /** Where the delivery queue's dead letters live. */
  deadLetters: DeadLetterOptions;
  readiness?: ReadinessCheck[];
  instrumentation?: FastifyOtelInstrumentation;
  /** WEBHOOK_ALLOWED_HOSTS: robot hosts allowed besides the providers' (tests). */
  webhookAllowedHosts?: readonly string[];
  /** QUIET_HOURS: the default where neither the township nor the county set their own. */
  quiet?: QuietHours;
  /** Letters home: how a sent letter reaches its job (jobs/letters.ts), and the SMS receipts' secret. */
  letters?: { enqueue: (letterId: string) => Promise<void>; callbackSecret: string; now?: () => Date };
}

export async function buildNotificationsApp(deps: NotificationsAppDeps): Promise<ServiceApp> {
  const app = await createServiceApp({
    service: "notifications",
    logger: deps.logger,
    readiness: deps.readiness,
    instrumentation: deps.instrumentation,
    openapi: { title: "守护 · 通知 (notifications)", description: "站内消息、发送状态、死信重发、办公群机器人" },
  });
  protectApiRoutes(app, deps.verifier);
  registerInboxRoutes(app, deps.prisma);
  registerAdminRoutes(app, { prisma: deps.prisma, deadLetters: deps.deadLetters });
  registerOfficeRoutes(app, { prisma: deps.prisma, webhookAllowedHosts: deps.webhookAllowedHosts, quiet: deps.quiet ?? parseQuietHours("21:00-08:00") });
  // Letters home: the routes are always there (the API description has them); without a queue a send fails with 503-like error.
  const letters = deps.letters ?? { enqueue: () => Promise.reject(new Error("letters queue not configured")), callbackSecret: "" };
  registerLetterRoutes(app, { prisma: deps.prisma, enqueueLetter: letters.enqueue, now: letters.now });
  registerPublicLetterRoutes(app, { prisma: deps.prisma, callbackSecret: letters.callbackSecret, now: letters.now });
  return app;
}
