import { fileURLToPath } from "node:url";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import type { TestDatabase, TestIssuer } from "@shouhu/testing";
import { serviceTest } from "@shouhu/testing/vitest";
import { createPrisma, type PrismaClient } from "../src/data/db.js";
import { buildActivitiesApp } from "../src/app.js";

export const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));

export interface ActivitiesHarness {
  db: TestDatabase;
  prisma: PrismaClient;
  issuer: TestIssuer;
  app: ServiceApp;
  prefix: string;
}

/**
 * The activities test file's `test`: `activities`, the service's app as in production on the
 * file's `db`, `issuer` and `prefix` fixtures (its clock `now`, fixed by default), built when a
 * test or `test.beforeAll` first asks for it and closed (then the database dropped) after the file.
 */
export const activitiesTest = (label: string, options: { now?: () => Date } = {}) =>
  serviceTest(label, migrationsDir).extend("activities", { scope: "file" }, async ({ db, issuer, prefix }, { onCleanup }) => {
    const prisma = createPrisma(db.url);
    const app = await buildActivitiesApp({
      prisma,
      verifier: createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] }),
      logger: createLogger(`${label}-test`, "silent"),
      now: options.now ?? (() => new Date("2026-11-22T02:00:00Z")),
    });
    onCleanup(async () => {
      await app.close();
      await prisma.$disconnect();
    });
    await app.ready();
    return { db, prisma, issuer, app, prefix } satisfies ActivitiesHarness;
  });
