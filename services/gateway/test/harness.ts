import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { createPrismaAdapter } from "@shouhu/db";
import { serviceTest } from "@shouhu/testing/vitest";
import { PrismaClient } from "../src/generated/prisma/client.js";

export const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * The gateway test file's `test`: besides serviceTest's `db`, `issuer` and `prefix`,
 * `prisma` (a client on the file's database, as its owner) and `redis` (the rate limiter's
 * connection), each made when a test or `test.beforeAll` first asks for it and closed after
 * the file. Files build their gateway on them: its upstreams, audit pool and limits differ
 * from file to file.
 */
export const gatewayTest = (label: string) =>
  serviceTest(label, migrationsDir)
    .extend("prisma", { scope: "file" }, async ({ db }, { onCleanup }) => {
      const prisma = new PrismaClient({ adapter: createPrismaAdapter(db.url) });
      onCleanup(() => prisma.$disconnect());
      return prisma;
    })
    .extend("redis", { scope: "file" }, async ({}, { onCleanup }) => {
      const redis = new Redis(REDIS_URL);
      onCleanup(() => redis.disconnect());
      return redis;
    });
