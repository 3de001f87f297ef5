import { z } from "zod";
import { serviceConfigSchema } from "@shouhu/kit";

export const reportingConfigSchema = serviceConfigSchema({ port: 3006, database: "shouhu_reporting" }).extend({
  /** Events applied in parallel; per-entity advisory locks keep counters exact. */
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  /** How long a report file may be downloaded; then the hourly purge deletes it. */
  REPORT_EXPORT_TTL_HOURS: z.coerce.number().int().min(1).max(720).default(24),
});

export type ReportingConfig = z.output<typeof reportingConfigSchema>;
