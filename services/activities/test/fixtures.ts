import { fileURLToPath } from "node:url";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { startTestObjectStore, type TestDatabase, type TestIssuer } from "@shouhu/testing";
import { AttachmentStore } from "@shouhu/attachments";
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
  /** With `attachments: true`: the photo store, on an embedded S3 server of the file's own. */
  attachments?: AttachmentStore;
}

/**
 * The activities test file's `test`: `activities`, the service's app as in production on the
 * file's `db`, `issuer` and `prefix` fixtures (its clock `now`, fixed by default), built when a
 * test or `test.beforeAll` first asks for it and closed (then the database dropped) after the file.
 */
export const activitiesTest = (label: string, options: { now?: () => Date; attachments?: boolean } = {}) =>
  serviceTest(label, migrationsDir).extend("activities", { scope: "file" }, async ({ db, issuer, prefix }, { onCleanup }) => {
    const prisma = createPrisma(db.url);
    const s3 = options.attachments ? await startTestObjectStore() : null;
    const attachments = s3 ? new AttachmentStore(s3.config) : undefined;
    await attachments?.ensureBucket();
    const app = await buildActivitiesApp({
      prisma,
      verifier: createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] }),
      logger: createLogger(`${label}-test`, "silent"),
      now: options.now ?? (() => new Date("2026-11-22T02:00:00Z")),
      ...(attachments ? { attachments } : {}),
    });
    onCleanup(async () => {
      await app.close();
      await prisma.$disconnect();
      attachments?.close();
      await s3?.close();
    });
    await app.ready();
    return { db, prisma, issuer, app, prefix, ...(attachments ? { attachments } : {}) } satisfies ActivitiesHarness;
  });
