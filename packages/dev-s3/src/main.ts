// `npm start`'s object store: the embedded S3 server with the development defaults.
import path from "node:path";
import { startDevS3 } from "./index.js";

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;
const server = await startDevS3({
  port: Number(env("PORT", "9000")),
  directory: path.resolve(env("DEV_S3_DIR", ".run/s3")),
  buckets: [env("S3_BUCKET", "shouhu-attachments")],
  accessKey: env("S3_ACCESS_KEY", "shouhu-dev"),
  secretKey: env("S3_SECRET_KEY", "shouhu-dev-secret"),
});
console.log(JSON.stringify({ msg: "dev S3 server listening", endpoint: server.endpoint }));
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
