import { z } from "zod";
import { baseConfigSchema, commaList, portSchema } from "@shouhu/kit";

export const registryConfigSchema = baseConfigSchema.extend({
  PORT: portSchema(3001),
  DATABASE_URL: z.url().default("postgresql://root@127.0.0.1:5432/shouhu_registry"),
  REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
  OIDC_ISSUER_URL: z.url().default("http://127.0.0.1:8081/realms/shouhu"),
  OIDC_AUDIENCE: z.string().default("shouhu-api"),
  OIDC_ALLOWED_CLIENTS: commaList.default(["shouhu-web", "shouhu-service"]),
  /** Load the demo county's org units and schools at start (development and demos). */
  SEED_DEMO_ORG: z.enum(["true", "false"]).default("true").transform((v) => v === "true"),
  /** Cron for the daily age-out job (children turning 16 leave the programme), China time. */
  AGE_OUT_CRON: z.string().default("15 1 * * *"),
  QUEUE_PREFIX: z.string().default("shouhu"),
});

export type RegistryConfig = z.output<typeof registryConfigSchema>;
