import { z } from "zod";
import { serviceConfigSchema } from "@shouhu/kit";
import { objectStoreConfigFields } from "@shouhu/attachments";

export const registryConfigSchema = serviceConfigSchema({ port: 3001, database: "shouhu_registry" }).extend({
  /** Load the demo county's org units and schools at start (development and demos). */
  SEED_DEMO_ORG: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true"),
  /** Cron for the daily age-out job (children turning 16 leave the programme), China time. */
  AGE_OUT_CRON: z.string().default("15 1 * * *"),
  /** How long an export file may be downloaded; then a scheduled job deletes it (file and record). */
  EXPORT_TTL_HOURS: z.coerce.number().int().min(1).max(720).default(24),
  /** The CJK font the handover pack (交接包) embeds: a TrueType/OpenType file or collection (fonts-noto-cjk). */
  HANDOVER_FONT_PATH: z.string().min(1).default("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
  /** The face inside a collection (.ttc); ignored for a single font file. */
  HANDOVER_FONT_NAME: z.string().default("NotoSansCJKsc-Regular"),
  /** The object store holding children's attachments (S3 API: MinIO, or packages/dev-s3 in development). */
  ...objectStoreConfigFields,
});
