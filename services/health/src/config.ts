import { z } from "zod";
import { baseConfigSchema, commaList, portSchema } from "@shouhu/kit";

export const healthConfigSchema = baseConfigSchema.extend({
  PORT: portSchema(3004),
  DATABASE_URL: z.url().default("postgresql://root@127.0.0.1:5432/shouhu_health"),
  REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
  OIDC_ISSUER_URL: z.url().default("http://127.0.0.1:8081/realms/shouhu"),
  OIDC_AUDIENCE: z.string().default("shouhu-api"),
  OIDC_ALLOWED_CLIENTS: commaList.default(["shouhu-web", "shouhu-service"]),
  QUEUE_PREFIX: z.string().default("shouhu"),
});

export type HealthConfig = z.output<typeof healthConfigSchema>;
