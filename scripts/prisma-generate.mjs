#!/usr/bin/env node
// Runs `prisma generate` (Prisma 7) for the service in the current directory, offline:
// the query compiler is WASM, so generate only needs PRISMA_SCHEMA_ENGINE_BINARY to
// point at some existing file instead of downloading an engine (DEVELOPERS.md).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";

const require = createRequire(import.meta.url);
const cli = require.resolve("prisma/build/index.js", { paths: [process.cwd()] });

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1" };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY || !existsSync(env.PRISMA_SCHEMA_ENGINE_BINARY)) {
  const dir = path.join(os.tmpdir(), "shouhu-prisma");
  mkdirSync(dir, { recursive: true });
  const placeholder = path.join(dir, "schema-engine-placeholder");
  if (!existsSync(placeholder)) writeFileSync(placeholder, "");
  env.PRISMA_SCHEMA_ENGINE_BINARY = placeholder;
}

const result = spawnSync(process.execPath, [cli, "generate"], { stdio: "inherit", env });
if (result.status !== 0) {
  console.error(`prisma generate failed in ${process.cwd()} (exit ${result.status})`);
  process.exit(result.status ?? 1);
}
