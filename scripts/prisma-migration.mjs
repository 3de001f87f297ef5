#!/usr/bin/env node
// Creates a new migration for a service, offline:
//   node scripts/prisma-migration.mjs services/registry add_something
// It diffs the schema snapshot saved with the latest migration (or nothing) against
// the current prisma/schema.prisma with Prisma 6.19's WASM schema engine
// (`migrate diff --from-schema-datamodel --to-schema-datamodel --script`), writes
// prisma/migrations/<timestamp>_<name>/migration.sql, and saves the new snapshot.
// Prisma 7's own `migrate dev` needs an engine binary this network cannot download.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const [serviceArg, name] = process.argv.slice(2);
if (!serviceArg || !name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: node scripts/prisma-migration.mjs <service-dir> <snake_case_name>");
  process.exit(2);
}
const serviceDir = path.resolve(root, serviceArg);
const schemaPath = path.join(serviceDir, "prisma/schema.prisma");
const migrationsDir = path.join(serviceDir, "prisma/migrations");
// Snapshots live beside the migrations, not inside them, so migration folders hold
// exactly what `prisma migrate deploy` expects.
const snapshotsDir = path.join(migrationsDir, ".snapshots");
const toolDir = path.join(root, "tools/prisma-diff");

if (!existsSync(path.join(toolDir, "node_modules/prisma"))) {
  console.log("installing Prisma 6.19 for offline diffing into tools/prisma-diff …");
  const r = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--prefix", toolDir], { stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

/** Prisma 6 wants the old generator name and a URL in the datasource block. */
function toPrisma6(schema) {
  return schema
    .replace(/provider\s*=\s*"prisma-client"/, 'provider = "prisma-client-js"')
    .replace(/^\s*output\s*=.*$/m, "")
    .replace(/(datasource\s+\w+\s*\{[^}]*provider\s*=\s*"postgresql")/, '$1\n  url = env("DATABASE_URL")');
}

const existing = existsSync(migrationsDir)
  ? readdirSync(migrationsDir)
      .filter((d) => /^\d{14}_/.test(d))
      .sort()
  : [];
const latest = existing.at(-1);
const work = mkdtempSync(path.join(os.tmpdir(), "shouhu-migration-"));
const fromFile = path.join(work, "from.prisma");
const toFile = path.join(work, "to.prisma");
writeFileSync(toFile, toPrisma6(readFileSync(schemaPath, "utf8")));
const fromArgs = latest ? ["--from-schema-datamodel", fromFile] : ["--from-empty"];
if (latest) {
  const snapshot = path.join(snapshotsDir, `${latest}.prisma`);
  if (!existsSync(snapshot)) {
    console.error(`no schema snapshot for the latest migration ${latest} (${snapshot})`);
    process.exit(1);
  }
  writeFileSync(fromFile, toPrisma6(readFileSync(snapshot, "utf8")));
}
const placeholder = path.join(work, "engine-placeholder");
writeFileSync(placeholder, "");
writeFileSync(
  path.join(work, "prisma.config.ts"),
  `import { defineConfig } from "prisma/config";
import { PrismaPg } from "@prisma/adapter-pg";
export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: "to.prisma",
  async adapter() { return new PrismaPg({ connectionString: process.env.DATABASE_URL }); },
});
`,
);
// Resolve prisma/config and the adapter from the tool folder.
spawnSync("ln", ["-s", path.join(toolDir, "node_modules"), path.join(work, "node_modules")]);

const env = {
  ...process.env,
  // The JS engine only needs a reachable server for its adapter handshake.
  DATABASE_URL: process.env.MIGRATION_DIFF_DATABASE_URL ?? "postgresql://root@127.0.0.1:5432/postgres",
  PRISMA_QUERY_ENGINE_LIBRARY: placeholder,
  PRISMA_SCHEMA_ENGINE_BINARY: placeholder,
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
  CHECKPOINT_DISABLE: "1",
};
const diff = spawnSync(
  process.execPath,
  [path.join(toolDir, "node_modules/prisma/build/index.js"), "migrate", "diff", ...fromArgs, "--to-schema-datamodel", toFile, "--script"],
  { cwd: work, env, encoding: "utf8" },
);
if (diff.status !== 0) {
  console.error(diff.stdout, diff.stderr);
  console.error("prisma migrate diff failed");
  process.exit(diff.status ?? 1);
}
const sql = diff.stdout.replace(/^Loaded Prisma config.*\n/m, "").trim();
if (!sql || /^-- This is an empty migration\.?$/.test(sql)) {
  console.log("no changes: schema matches the latest migration");
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);
const folder = `${stamp}_${name}`;
mkdirSync(path.join(migrationsDir, folder), { recursive: true });
mkdirSync(snapshotsDir, { recursive: true });
writeFileSync(path.join(migrationsDir, folder, "migration.sql"), `${sql}\n`);
copyFileSync(schemaPath, path.join(snapshotsDir, `${folder}.prisma`));
writeFileSync(
  path.join(migrationsDir, "migration_lock.toml"),
  '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n',
);
console.log(`created ${path.relative(root, path.join(migrationsDir, folder, "migration.sql"))}`);
