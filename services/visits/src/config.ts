import { z } from "zod";
import { baseConfigSchema, commaList, portSchema } from "@shouhu/kit";

export const visitsConfigSchema = baseConfigSchema.extend({
  PORT: portSchema(3003),
  DATABASE_URL: z.url().default("postgresql://root@127.0.0.1:5432/shouhu_visits"),
  REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
  OIDC_ISSUER_URL: z.url().default("http://127.0.0.1:8081/realms/shouhu"),
  OIDC_AUDIENCE: z.string().default("shouhu-api"),
  OIDC_ALLOWED_CLIENTS: commaList.default(["shouhu-web", "shouhu-service"]),
  QUEUE_PREFIX: z.string().default("shouhu"),
  /** Cron (China time) of the daily scan: items, reminders, overdue, escalation. */
  SCAN_CRON: z.string().default("30 6 * * *"),
  /** How many days back a visit may be recorded. */
  BACKDATE_DAYS: z.coerce.number().int().min(0).max(366).default(31),
  /** Days an unacknowledged concern waits before it is escalated to the county. */
  CONCERN_ESCALATION_DAYS: z.coerce.number().int().min(1).max(60).default(3),
});

export type VisitsConfig = z.output<typeof visitsConfigSchema>;
