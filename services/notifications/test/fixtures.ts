import { fileURLToPath } from "node:url";
import type { Redis } from "ioredis";
import type pg from "pg";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { createPgPool } from "@shouhu/db";
import { createRedisConnection } from "@shouhu/messaging";
import type { TestDatabase, TestIssuer } from "@shouhu/testing";
import { serviceTest } from "@shouhu/testing/vitest";
import { createPrisma, type PrismaClient } from "../src/data/db.js";
import { buildNotificationsApp } from "../src/app.js";
import { KeycloakAccounts } from "@shouhu/auth/keycloak-accounts";
import { syncDirectoryFromKeycloak } from "../src/data/directory.js";

export const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
/** The staff directory's source in tests: the file's dev issuer, through its admin API, as in production. */
export const directorySource = (issuerUrl: string) =>
  new KeycloakAccounts({ issuerUrl, clientId: "shouhu-directory", clientSecret: "shouhu-directory-secret" });
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

export interface NotificationsHarness {
  db: TestDatabase;
  prisma: PrismaClient;
  /** A plain pg pool on the database (the consumer's transactions). */
  pool: pg.Pool;
  issuer: TestIssuer;
  app: ServiceApp;
  prefix: string;
  /** The worker-role Redis connection the app's dead letters use under the file's prefix. */
  redis: Redis;
}

/**
 * The notifications test file's `test`: `notifications`, the service's app as in production
 * (its directory synced from the file's dev issuer through the Keycloak admin API, as main.ts does at start) on the
 * file's `db`, `issuer` and `prefix` fixtures, built when a test or `test.beforeAll` first
 * asks for it and closed (then the database dropped, the issuer stopped) after the file.
 */
export const notificationsTest = (label: string) =>
  serviceTest(label, migrationsDir).extend("notifications", { scope: "file" }, async ({ db, issuer, prefix }, { onCleanup }) => {
    const prisma = createPrisma(db.url);
    const pool = createPgPool(db.url, { max: 4 });
    const redis = createRedisConnection(REDIS_URL, { role: "worker" });
    await syncDirectoryFromKeycloak(prisma, directorySource(issuer.issuerUrl));
    const app = await buildNotificationsApp({
      prisma,
      verifier: createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] }),
      logger: createLogger(`${label}-test`, "silent"),
      deadLetters: { connection: redis, prefix },
    });
    onCleanup(async () => {
      await app.close();
      redis.disconnect();
      await prisma.$disconnect();
      await pool.end();
    });
    await app.ready();
    return { db, prisma, pool, issuer, app, prefix, redis } satisfies NotificationsHarness;
  });
