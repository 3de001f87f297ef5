/**
 * What a test file pays for its database: migrating an empty one (before) against cloning
 * the migrated template (@shouhu/testing createTestDatabase with migrationsDir), side by
 * side for every service, five of each.
 *
 *   npx tsx --conditions=source bench/test-databases.ts
 */
import { fileURLToPath } from "node:url";
import { migrate } from "@shouhu/db";
import { createTestDatabase } from "@shouhu/testing";

const services = ["gateway", "registry", "pairing", "visits", "health", "notifications", "reporting"];
const runs = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log("| service | migrations | migrate an empty database (ms, median of 5) | clone the template (ms, median of 5) | × faster |");
console.log("| --- | --: | --: | --: | --: |");
let totalMigrate = 0;
let totalClone = 0;
for (const service of services) {
  const migrationsDir = fileURLToPath(new URL(`../services/${service}/prisma/migrations`, import.meta.url));
  await (await createTestDatabase(`bench_warm_${service}`, { migrationsDir })).drop(); // the template exists from here on
  const migrated: number[] = [];
  const cloned: number[] = [];
  let count = 0;
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    const a = await createTestDatabase(`bench_m_${service}`);
    const applied = await migrate({ databaseUrl: a.url, migrationsDir });
    migrated.push(performance.now() - t);
    count = applied.length;
    await a.drop();
    t = performance.now();
    const b = await createTestDatabase(`bench_c_${service}`, { migrationsDir });
    cloned.push(performance.now() - t);
    await b.drop();
  }
  totalMigrate += median(migrated);
  totalClone += median(cloned);
  console.log(`| ${service} | ${count} | ${median(migrated).toFixed(0)} | ${median(cloned).toFixed(0)} | ${(median(migrated) / median(cloned)).toFixed(1)} |`);
}
console.log(`| **all seven** | | **${totalMigrate.toFixed(0)}** | **${totalClone.toFixed(0)}** | **${(totalMigrate / totalClone).toFixed(1)}** |`);
