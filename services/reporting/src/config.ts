import { z } from "zod";
import { baseConfigSchema, commaList, portSchema } from "@shouhu/kit";

export const reportingConfigSchema = baseConfigSchema.extend({
  PORT: portSchema(3006),
  DATABASE_URL: z.url().default("postgresql://root@127.0.0.1:5432/shouhu_reporting"),
  REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
  OIDC_ISSUER_URL: z.url().default("http://127.0.0.1:8081/realms/shouhu"),
  OIDC_AUDIENCE: z.string().default("shouhu-api"),
  OIDC_ALLOWED_CLIENTS: commaList.default(["shouhu-web", "shouhu-service"]),
  QUEUE_PREFIX: z.string().default("shouhu"),
  /** Events applied in parallel; per-entity advisory locks keep counters exact. */
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
});

export type ReportingConfig = z.output<typeof reportingConfigSchema>;
