#!/usr/bin/env node
// shouhu-migrate <migrationsDir>: applies pending migrations to DATABASE_URL (used in Dockerfiles).
import { migrate } from "./migrate.js";

const dir = process.argv[2];
const url = process.env.DATABASE_URL;
if (!dir || !url) {
  console.error("usage: DATABASE_URL=postgresql://… shouhu-migrate <prisma/migrations dir>");
  process.exit(2);
}
const applied = await migrate({ databaseUrl: url, migrationsDir: dir, logger: { info: (o) => console.log(JSON.stringify(o)) } });
console.log(applied.length ? `applied ${applied.length} migration(s)` : "database is up to date");
