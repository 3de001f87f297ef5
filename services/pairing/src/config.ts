import { z } from "zod";
import { baseConfigSchema, commaList, portSchema } from "@shouhu/kit";

export const pairingConfigSchema = baseConfigSchema.extend({
  PORT: portSchema(3002),
  DATABASE_URL: z.url().default("postgresql://root@127.0.0.1:5432/shouhu_pairing"),
  REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
  OIDC_ISSUER_URL: z.url().default("http://127.0.0.1:8081/realms/shouhu"),
  OIDC_AUDIENCE: z.string().default("shouhu-api"),
  OIDC_ALLOWED_CLIENTS: commaList.default(["shouhu-web", "shouhu-service"]),
  QUEUE_PREFIX: z.string().default("shouhu"),
  /** Matching waits this long after the last change in a township, so a bulk import is matched once. */
  MATCH_QUIET_MS: z.coerce.number().int().min(0).default(3_000),
  /** How often the worker looks for townships to match. */
  MATCH_POLL_MS: z.coerce.number().int().positive().default(1_000),
});

export type PairingConfig = z.output<typeof pairingConfigSchema>;
