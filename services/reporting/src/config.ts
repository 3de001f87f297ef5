import { z } from "zod";
import { serviceConfigSchema } from "@shouhu/kit";

export const reportingConfigSchema = serviceConfigSchema({ port: 3006, database: "shouhu_reporting" }).extend({
  /** Events applied in parallel; per-entity advisory locks keep counters exact. */
  // Events in hand at once; the consumer applies them in batches of up to half of this.
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(100),
  /** How long a report file may be downloaded; then the hourly purge deletes it. */
  REPORT_EXPORT_TTL_HOURS: z.coerce.number().int().min(1).max(720).default(24),
});
