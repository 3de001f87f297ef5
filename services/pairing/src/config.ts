import { z } from "zod";
import { serviceConfigSchema } from "@shouhu/kit";

export const pairingConfigSchema = serviceConfigSchema({ port: 3002, database: "shouhu_pairing" }).extend({
  /** Matching waits this long after the last change in a township, so a bulk import is matched once. */
  MATCH_QUIET_MS: z.coerce.number().int().min(0).default(3_000),
  /** How often the worker looks for townships to match. */
  MATCH_POLL_MS: z.coerce.number().int().positive().default(1_000),
});
