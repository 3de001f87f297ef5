#!/usr/bin/env node
// Backs up each service's database with pg_dump (custom format, one file per
// database) into a directory with a manifest.json (service, database, file, size,
// sha256, server version, time). docs/RELIABILITY.md "Backup and restore".
//
//   node scripts/backup.mjs [--out DIR] [--pg postgresql://root@127.0.0.1:5432] [--service registry ...] [--db registry=other_db_name ...]
//
// Defaults: every service (registry, pairing, visits, health, notifications,
// reporting, gateway), databases shouhu_<service> (as `npm start` creates them),
// server from PG_BASE_URL or postgresql://root@127.0.0.1:5432, into backups/<UTC time>/.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ALL_SERVICES = ["registry", "pairing", "visits", "health", "notifications", "reporting", "gateway"];

/** Parses the flags both scripts share: --pg, --service (repeatable), --db service=name (repeatable). */
export function parseCommon(argv) {
  const opts = { pg: process.env.PG_BASE_URL ?? "postgresql://root@127.0.0.1:5432", services: [], dbs: {}, rest: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === "--pg") ((opts.pg = v), i++);
    else if (a === "--service") (opts.services.push(v), i++);
    else if (a === "--db") {
      const [svc, name] = (v ?? "").split("=");
      if (!svc || !name) throw new Error(`--db expects service=database, got ${v}`);
      opts.dbs[svc] = name;
      i++;
    } else if (a.startsWith("--")) ((opts.rest[a.slice(2)] = v), i++);
    else throw new Error(`unexpected argument ${a}`);
  }
  for (const s of opts.services) if (!ALL_SERVICES.includes(s)) throw new Error(`unknown service ${s} (one of ${ALL_SERVICES.join(", ")})`);
  return opts;
}

export const databaseUrl = (pgBase, database) => `${pgBase.replace(/\/+$/, "")}/${database}`;
export const sha256File = (file) => createHash("sha256").update(readFileSync(file)).digest("hex");

export function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.filter((a) => !a.startsWith("postgresql://")).join(" ")} exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout;
}

export function backup({ out, pg, services, dbs }) {
  mkdirSync(out, { recursive: true });
  const entries = [];
  for (const service of services.length ? services : ALL_SERVICES) {
    const database = dbs[service] ?? `shouhu_${service}`;
    const file = `${service}.dump`;
    const target = path.join(out, file);
    // -Fc: compressed, restorable table by table with pg_restore; no owner/ACL so it restores under any role.
    run("pg_dump", ["-Fc", "--no-owner", "--no-acl", "-f", target, "-d", databaseUrl(pg, database)]);
    entries.push({ service, database, file, bytes: statSync(target).size, sha256: sha256File(target) });
  }
  const manifest = {
    createdAt: new Date().toISOString(),
    pgDump: run("pg_dump", ["--version"]).trim(),
    server: run("psql", ["-qAtc", "SHOW server_version", "-d", databaseUrl(pg, "postgres")]).trim(),
    format: "pg_dump custom (-Fc)",
    entries,
  };
  writeFileSync(path.join(out, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  try {
    const opts = parseCommon(process.argv.slice(2));
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
    const out = path.resolve(opts.rest.out ?? path.join(root, "backups", new Date().toISOString().replace(/[:.]/g, "-")));
    const manifest = backup({ out, ...opts });
    for (const e of manifest.entries) console.log(`[backup] ${e.database} → ${path.join(out, e.file)} (${e.bytes} bytes)`);
    console.log(`[backup] manifest: ${path.join(out, "manifest.json")}`);
  } catch (err) {
    console.error(`[backup] ${err.message}`);
    process.exit(1);
  }
}
