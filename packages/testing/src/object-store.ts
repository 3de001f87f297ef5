import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

/** The object-store settings of @shouhu/attachments (same names as its config). */
export interface TestObjectStore {
  config: {
    S3_ENDPOINT: string;
    S3_BUCKET: string;
    S3_ACCESS_KEY: string;
    S3_SECRET_KEY: string;
    S3_REGION: string;
    S3_FORCE_PATH_STYLE: boolean;
  };
  /** Where the server keeps objects on disk. */
  directory: string;
  close(): Promise<void>;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * The embedded S3 server (packages/dev-s3) in its own process on a free port with a fresh
 * directory — its own process, so a test measuring the client's memory measures only the
 * client. Run from source (tsx), like every test.
 */
export async function startTestObjectStore(bucket = "test-attachments"): Promise<TestObjectStore> {
  const directory = mkdtempSync(path.join(tmpdir(), "shouhu-s3-"));
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "packages/dev-s3/src/main.ts")], {
    env: { ...process.env, PORT: "0", DEV_S3_DIR: directory, S3_BUCKET: bucket, S3_ACCESS_KEY: "test-key", S3_SECRET_KEY: "test-secret-key" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`dev-s3 exited (${code}) before listening`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        const msg = JSON.parse(line) as { endpoint?: string };
        if (msg.endpoint) resolve(msg.endpoint);
      } catch {
        /* not ours */
      }
    });
  });
  return {
    config: {
      S3_ENDPOINT: endpoint,
      S3_BUCKET: bucket,
      S3_ACCESS_KEY: "test-key",
      S3_SECRET_KEY: "test-secret-key",
      S3_REGION: "us-east-1",
      S3_FORCE_PATH_STYLE: true,
    },
    directory,
    close: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
