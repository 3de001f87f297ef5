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
  /** The object store holding visit photos (S3 API: MinIO, or packages/dev-s3 in development). */
  ...objectStoreConfigFields,
});
