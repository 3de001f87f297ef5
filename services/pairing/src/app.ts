import type { FastifyOtelInstrumentation } from "@fastify/otel";
import fastifyMultipart from "@fastify/multipart";
import { createServiceApp, type Logger, type ReadinessCheck, type ServiceApp } from "@shouhu/kit";
import { protectApiRoutes, type TokenVerifier } from "@shouhu/auth";
import type { PrismaClient } from "./data/db.js";
import { HELPER_LIST_MAX_BYTES, registerHelperRoutes } from "./routes/helpers.js";
import { registerPairingRoutes } from "./routes/pairings.js";
import { registerMatchingRoutes } from "./routes/matching.js";
import { registerUnpairedRoutes } from "./routes/unpaired.js";

export interface PairingAppDeps {
  prisma: PrismaClient;
  verifier: TokenVerifier;
  logger: Logger;
  readiness?: ReadinessCheck[];
  instrumentation?: FastifyOtelInstrumentation;
  /** The clock, injectable so tests can fix "today". */
  now?: () => Date;
}

export async function buildPairingApp(deps: PairingAppDeps): Promise<ServiceApp> {
  const app = await createServiceApp({
    service: "pairing",
    logger: deps.logger,
    readiness: deps.readiness,
    instrumentation: deps.instrumentation,
    openapi: { title: "守护 · 结对帮扶 (pairing)", description: "帮扶人、结对建议（最优匹配）、审批、解除与交接、未结对儿童" },
  });
  const now = deps.now ?? (() => new Date());

  protectApiRoutes(app, deps.verifier);

  // The helper list import (POST /helpers/import) takes one .xlsx.
  await app.register(fastifyMultipart, { limits: { fileSize: HELPER_LIST_MAX_BYTES, files: 1, fields: 5 } });
  registerHelperRoutes(app, { prisma: deps.prisma, now });
  registerPairingRoutes(app, { prisma: deps.prisma, now });
  registerMatchingRoutes(app, deps.prisma);
  registerUnpairedRoutes(app, deps.prisma);
  return app;
}
