import { fileURLToPath } from "node:url";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { jobQueues } from "@shouhu/contracts";
import { createJobQueue, createRedisConnection } from "@shouhu/messaging";
import { startTestObjectStore, type TestDatabase, type TestIssuer } from "@shouhu/testing";
import { AttachmentStore } from "@shouhu/attachments";
import { serviceTest } from "@shouhu/testing/vitest";
import { createPrisma, type PrismaClient } from "../src/data/db.js";
import { buildVisitsApp } from "../src/app.js";
import type { TaskLinkOptions } from "../src/routes/task-links.js";

export const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));

export interface VisitsHarness {
  db: TestDatabase;
  prisma: PrismaClient;
  issuer: TestIssuer;
  app: ServiceApp;
  prefix: string;
  /** The app's schedule queue (visits.schedule) under the file's prefix, and its producer connection. */
  scheduleQueue: ReturnType<typeof createJobQueue>;
  connection: ReturnType<typeof createRedisConnection>;
  /** With `attachments: true`: the photo store, on an embedded S3 server of the file's own. */
  attachments?: AttachmentStore;
}

/**
 * The visits test file's `test`: `visits`, the service's app as in production (records may
 * be back-dated 31 days; its clock `now`, fixed by default) on the file's `db`, `issuer` and
 * `prefix` fixtures, built when a test or `test.beforeAll` first asks for it and closed
 * (then the database dropped, the issuer stopped) after the file.
 */
export const visitsTest = (label: string, options: { now?: () => Date; attachments?: boolean; taskLinks?: TaskLinkOptions } = {}) =>
  serviceTest(label, migrationsDir).extend("visits", { scope: "file" }, async ({ db, issuer, prefix }, { onCleanup }) => {
    const prisma = createPrisma(db.url);
    const connection = createRedisConnection(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { role: "producer" });
    const scheduleQueue = createJobQueue(jobQueues.visitsSchedule, connection, prefix);
    const s3 = options.attachments ? await startTestObjectStore() : null;
    const attachments = s3 ? new AttachmentStore(s3.config) : undefined;
    await attachments?.ensureBucket();
    const app = await buildVisitsApp({
      ...(attachments ? { attachments } : {}),
      scheduleQueue,
      prisma,
      verifier: createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] }),
      logger: createLogger(`${label}-test`, process.env.TEST_LOG_LEVEL ?? "silent"),
      now: options.now ?? (() => new Date("2026-11-22T02:00:00Z")),
      backdateDays: 31,
      ...(options.taskLinks ? { taskLinks: options.taskLinks } : {}),
    });
    onCleanup(async () => {
      await app.close();
      await scheduleQueue.obliterate({ force: true }).catch(() => undefined);
      await scheduleQueue.close();
      connection.disconnect();
      await prisma.$disconnect();
      attachments?.close();
      await s3?.close();
    });
    await app.ready();
    return { db, prisma, issuer, app, prefix, scheduleQueue, connection, ...(attachments ? { attachments } : {}) } satisfies VisitsHarness;
  });
