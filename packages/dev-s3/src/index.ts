/**
 * The embedded S3-compatible server for `npm start` and tests: the maintained fork of
 * s3rver (@20minutes/s3rver), objects on disk, every request's AWS Signature V4 checked against
 * the one key pair given here (`verifySignature`, see signature.ts). Production and docker-compose use MinIO; @shouhu/attachments talks
 * to both through @aws-sdk/client-s3 with path-style addressing.
 */
import { mkdirSync } from "node:fs";
import S3rver from "@20minutes/s3rver";
import account from "@20minutes/s3rver/lib/models/account.js";
import S3Error from "@20minutes/s3rver/lib/models/error.js";
import { SignatureError, verifySignature } from "./signature.js";

export interface DevS3Options {
  /** 0 picks a free port (tests). */
  port?: number;
  address?: string;
  /** Where objects live on disk. */
  directory: string;
  /** Buckets created at start. */
  buckets?: string[];
  accessKey?: string;
  secretKey?: string;
}

export interface DevS3 {
  /** e.g. http://127.0.0.1:9000 — S3_ENDPOINT for the services. */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  close(): Promise<void>;
}

export const DEV_S3_ACCESS_KEY = "shouhu-dev";
export const DEV_S3_SECRET_KEY = "shouhu-dev-secret";

export async function startDevS3(options: DevS3Options): Promise<DevS3> {
  const accessKey = options.accessKey ?? DEV_S3_ACCESS_KEY;
  const secretKey = options.secretKey ?? DEV_S3_SECRET_KEY;
  // The server checks every request's signature against the keys it knows.
  account.DUMMY_ACCOUNT.createKeyPair(accessKey, secretKey);
  mkdirSync(options.directory, { recursive: true });
  const server = new S3rver({
    address: options.address ?? "127.0.0.1",
    port: options.port ?? 0,
    directory: options.directory,
    silent: true,
    vhostBuckets: false,
    // s3rver signs bucket-level requests (HeadBucket, ListObjectsV2) over "/bucket/" where the
    // SDK signs "/bucket", so its own check never matches them: it is left off, and every request
    // is checked before s3rver's routes by `verifySignature` (the SDK's own signer), as MinIO does.
    allowMismatchedSignatures: true,
    configureBuckets: (options.buckets ?? []).map((name) => ({ name })),
  });
  // Before the routes (the last middleware): a request not signed with the key pair never reaches them.
  server.middleware.splice(server.middleware.length - 1, 0, async (ctx, next) => {
    if (ctx.method !== "OPTIONS") {
      try {
        await verifySignature({ method: ctx.method, url: ctx.req.url ?? "/", headers: ctx.req.headers }, (key) => (key === accessKey ? secretKey : undefined));
      } catch (err) {
        throw err instanceof SignatureError ? new S3Error(err.code, err.message) : err;
      }
    }
    await next();
  });
  const { address, port } = await server.run();
  return {
    endpoint: `http://${address}:${port}`,
    accessKey,
    secretKey,
    close: () => server.close(),
  };
}
