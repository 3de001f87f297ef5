import { z } from "zod";

/**
 * The object store's settings, validated at start with the rest of a service's config
 * (spread into its schema). Defaults are the embedded server `npm start` runs
 * (packages/dev-s3); docker-compose and Kubernetes point them at MinIO.
 */
export const objectStoreConfigFields = {
  S3_ENDPOINT: z.url().default("http://127.0.0.1:9000"),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "S3_BUCKET must be a valid bucket name")
    .default("shouhu-attachments"),
  S3_ACCESS_KEY: z.string().min(3).default("shouhu-dev"),
  S3_SECRET_KEY: z.string().min(8).default("shouhu-dev-secret"),
  S3_REGION: z.string().min(1).default("us-east-1"),
  /** MinIO and the embedded server address buckets by path (http://host/bucket/key). */
  S3_FORCE_PATH_STYLE: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true"),
};

export interface ObjectStoreConfig {
  S3_ENDPOINT: string;
  S3_BUCKET: string;
  S3_ACCESS_KEY: string;
  S3_SECRET_KEY: string;
  S3_REGION: string;
  S3_FORCE_PATH_STYLE: boolean;
}
