import { z } from "zod";
import { serviceConfigSchema } from "@shouhu/kit";
import { objectStoreConfigFields } from "@shouhu/attachments";

export const visitsConfigSchema = serviceConfigSchema({ port: 3003, database: "shouhu_visits" }).extend({
  /** Cron (China time) of the daily scan: items, reminders, overdue, escalation. */
  SCAN_CRON: z.string().default("30 6 * * *"),
  /** How many days back a visit may be recorded. */
  BACKDATE_DAYS: z.coerce.number().int().min(0).max(366).default(31),
  /** Days an unacknowledged concern waits before it is escalated to the county. */
  CONCERN_ESCALATION_DAYS: z.coerce.number().int().min(1).max(60).default(3),
  /** Signs the one-time task links sent to helpers without an account (shared with notifications); empty: links off. */
  TASK_LINK_SECRET: z.union([z.literal(""), z.string().min(32, "至少32个字符")]).default(""),
  /** How long a hand-issued link lives (never past its item's escalation). */
  TASK_LINK_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 31)
    .default(72),
  /** The console's public origin, for the links' URLs. */
  PUBLIC_LINK_BASE_URL: z.url().default("http://127.0.0.1:3000"),
  /** The object store holding visit photos (S3 API: MinIO, or packages/dev-s3 in development). */
  ...objectStoreConfigFields,
});
