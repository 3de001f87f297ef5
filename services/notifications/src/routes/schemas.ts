import { z } from "zod";

/**
 * What notifications answers where the console reads it, documented so the console's types
 * are generated from the OpenAPI document (Fastify encodes each answer through these).
 */
export const OfficeResponse = z.object({
  orgUnit: z.string(),
  /** The office's own quiet hours (e.g. 21:00-08:00); null where it takes its county's or the default. */
  quietHours: z.string().nullable(),
  effective: z.object({ quietHours: z.string().nullable(), from: z.enum(["office", "county", "default"]) }),
  /** Robots by host only: a webhook URL carries its access key. */
  channels: z.array(z.object({ kind: z.string(), host: z.string(), signed: z.boolean(), updatedAt: z.string() })),
});
