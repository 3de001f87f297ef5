#!/usr/bin/env node
// Restores service databases from a backup made by scripts/backup.mjs: checks each
// file's sha256 against the manifest, drops and recreates the database, and
// pg_restores it. Stop the service first (its connections are cut by the drop).
// Afterwards see docs/RELIABILITY.md "Backup and restore" for bringing the read
// models level again.
//
//   node scripts/restore.mjs --from DIR [--service reporting ...] [--pg URL] [--db reporting=other_db_name ...]
//
// Without --service every database in the manifest is restored.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { databaseUrl, parseCommon, run, sha256File } from "./backup.mjs";

export function restore({ from, pg, services, dbs }) {
  const manifest = JSON.parse(readFileSync(path.join(from, "manifest.json"), "utf8"));
  const wanted = services.length ? services : manifest.entries.map((e) => e.service);
  const restored = [];
  for (const service of wanted) {
    const entry = manifest.entries.find((e) => e.service === service);
    if (!entry) throw new Error(`the backup in ${from} has no database for ${service}`);
    const file = path.join(from, entry.file);
    if (sha256File(file) !== entry.sha256) throw new Error(`${file} does not match its sha256 in the manifest: refusing to restore a damaged dump`);
    const database = dbs[service] ?? entry.database;
    if (!/^[A-Za-z0-9_]+$/.test(database)) throw new Error(`unexpected database name ${database}`);
    const admin = databaseUrl(pg, "postgres");
    run("psql", ["-v", "ON_ERROR_STOP=1", "-qAt", "-d", admin, "-c", `DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`]);
    run("psql", ["-v", "ON_ERROR_STOP=1", "-qAt", "-d", admin, "-c", `CREATE DATABASE "${database}"`]);
    run("pg_restore", ["--no-owner", "--no-acl", "--exit-on-error", "-d", databaseUrl(pg, database), file]);
    restored.push({ service, database, from: file, backupCreatedAt: manifest.createdAt });
  }
  return restored;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  try {
    const opts = parseCommon(process.argv.slice(2));
    if (!opts.rest.from) throw new Error("--from DIR is required (a directory written by scripts/backup.mjs)");
    for (const r of restore({ from: path.resolve(opts.rest.from), ...opts }))
      console.log(`[restore] ${r.database} ← ${r.from} (backup of ${r.backupCreatedAt})`);
  } catch (err) {
    console.error(`[restore] ${err.message}`);
    process.exit(1);
  }
}
