import { serviceConfigSchema } from "@shouhu/kit";
import { objectStoreConfigFields } from "@shouhu/attachments";

export const activitiesConfigSchema = serviceConfigSchema({ port: 3007, database: "shouhu_activities" }).extend({
  /** The object store holding session photos (S3 API: MinIO, or packages/dev-s3 in development). */
  ...objectStoreConfigFields,
});
