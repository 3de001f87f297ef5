import { z } from "zod";
import { serviceConfigSchema } from "@shouhu/kit";

export const reportingConfigSchema = serviceConfigSchema({ port: 3006, database: "shouhu_reporting" }).extend({
  /** Events applied in parallel; per-entity advisory locks keep counters exact. */
  CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
});

export type ReportingConfig = z.output<typeof reportingConfigSchema>;
