import type { FastifyOtelInstrumentation } from "@fastify/otel";
import { createServiceApp, type Logger, type ReadinessCheck, type ServiceApp } from "@shouhu/kit";
import { protectApiRoutes, type TokenVerifier } from "@shouhu/auth";
import type { PrismaClient } from "./data/db.js";
import { registerChildRoutes } from "./routes/children.js";
import { registerOrgUnitRoutes } from "./routes/org-units.js";
import { registerImportRoutes, type ImportRoutesDeps } from "./routes/imports.js";
import { registerExportRoutes, type ExportRoutesDeps } from "./routes/exports.js";
import { registerSnapshotRoutes } from "./routes/snapshots.js";
import { registerSchoolYearRoutes } from "./routes/school-year.js";
import { registerTransferRoutes } from "./routes/transfers.js";
import { registerGrowthRoutes } from "./routes/growth.js";
import { registerAttachmentRoutes } from "./routes/attachments.js";
import { registerHandoverRoutes } from "./routes/handover.js";
import { DEFAULT_PACK_FONT, type PackFont } from "./domain/handover-pdf.js";
import { registerEnrolmentRoutes } from "./routes/enrolment.js";
import type { AttachmentStore } from "@shouhu/attachments";
import type { Queue } from "bullmq";
import type pg from "pg";

export interface RegistryAppDeps {
  prisma: PrismaClient;
  /** Plain pg pool for the hot single-child read; optional (Prisma runs the same SQL without it). */
  pool?: pg.Pool;
  verifier: TokenVerifier;
  logger: Logger;
  readiness?: ReadinessCheck[];
  instrumentation?: FastifyOtelInstrumentation;
  /** The clock, injectable so tests can fix "today". */
  now?: () => Date;
  imports: ImportRoutesDeps["imports"];
  exports: ExportRoutesDeps["exports"];
  /** EXPORT_TTL_HOURS in ms (default 24 h). */
  exportTtlMs?: number;
  /** The schedule queue, where snapshot publishing runs as a background job. */
  snapshots: { queue: Queue };
  /** Where a child's evidence files live (S3 API); without it the attachment routes are not served (tests that need none). */
  attachments?: AttachmentStore;
  /** The CJK font the handover pack embeds; a request is refused (503) while it is missing. */
  handoverFont?: PackFont;
}

export async function buildRegistryApp(deps: RegistryAppDeps): Promise<ServiceApp> {
  const app = await createServiceApp({
    service: "registry",
    logger: deps.logger,
    readiness: deps.readiness,
    instrumentation: deps.instrumentation,
    openapi: { title: "守护 · 儿童档案 (registry)", description: "行政区划、学校、儿童档案、批量导入导出" },
    // Register workbooks of a whole township can be several MB.
    bodyLimit: 50 * 1024 * 1024,
  });
  const now = deps.now ?? (() => new Date());

  // Every API route validates the bearer token again (the gateway already did):
  protectApiRoutes(app, deps.verifier);

  registerChildRoutes(app, { prisma: deps.prisma, pool: deps.pool, now });
  registerGrowthRoutes(app, { prisma: deps.prisma, reads: { prisma: deps.prisma, pool: deps.pool }, now });
  // Registers multipart, which the list imports of the org-unit routes use too.
  await registerImportRoutes(app, { prisma: deps.prisma, imports: deps.imports });
  registerOrgUnitRoutes(app, deps.prisma, now);
  registerExportRoutes(app, { prisma: deps.prisma, exports: deps.exports, now, ...(deps.exportTtlMs ? { exportTtlMs: deps.exportTtlMs } : {}) });
  registerHandoverRoutes(app, {
    prisma: deps.prisma,
    exports: deps.exports,
    font: deps.handoverFont ?? DEFAULT_PACK_FONT,
    ...(deps.exportTtlMs ? { exportTtlMs: deps.exportTtlMs } : {}),
  });
  registerSnapshotRoutes(app, deps.snapshots);
  registerSchoolYearRoutes(app, deps.prisma);
  registerTransferRoutes(app, deps.prisma, now);
  registerEnrolmentRoutes(app, { prisma: deps.prisma, reads: { prisma: deps.prisma, pool: deps.pool }, now });
  if (deps.attachments) registerAttachmentRoutes(app, { prisma: deps.prisma, pool: deps.pool, store: deps.attachments, now });
  return app;
}
