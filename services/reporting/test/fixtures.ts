import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import type { TestDatabase, TestIssuer } from "@shouhu/testing";
import { serviceTest } from "@shouhu/testing/vitest";
import { createPrisma, type PrismaClient } from "../src/data/db.js";
import { buildReportingApp } from "../src/app.js";

export const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export interface ReportingHarness {
  db: TestDatabase;
  prisma: PrismaClient;
  issuer: TestIssuer;
  app: ServiceApp;
  prefix: string;
  /** The app's export queue (reporting.export) under the file's prefix. */
  exportQueue: Queue;
}

/**
 * The reporting test file's `test`: `reporting`, the service's app as in production (its
 * clock `now`, fixed by default) on the file's `db`, `issuer` and `prefix` fixtures, built
 * when a test or `test.beforeAll` first asks for it and closed (then the database dropped,
 * the issuer stopped) after the file.
 */
export const reportingTest = (label: string, options: { now?: () => Date } = {}) =>
  serviceTest(label, migrationsDir).extend("reporting", { scope: "file" }, async ({ db, issuer, prefix }, { onCleanup }) => {
    const prisma = createPrisma(db.url);
    const exportQueue = new Queue("reporting.export", { connection: { url: REDIS_URL }, prefix });
    const app = await buildReportingApp({
      prisma,
      verifier: createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] }),
      logger: createLogger(`${label}-test`, "silent"),
      exports: exportQueue,
      now: options.now ?? (() => new Date("2026-11-22T02:00:00Z")),
    });
    onCleanup(async () => {
      await app.close();
      await exportQueue.obliterate({ force: true }).catch(() => undefined);
      await exportQueue.close();
      await prisma.$disconnect();
    });
    await app.ready();
    return { db, prisma, issuer, app, prefix, exportQueue } satisfies ReportingHarness;
  });
