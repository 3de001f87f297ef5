import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// scripts/prisma-migration.mjs saves the schema each migration was made from. If a
// service's schema.prisma differs from its latest snapshot, someone changed the schema
// without making the migration, and the database would silently lack the change.
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
/** Comments and spacing do not reach the database. */
const meaning = (schema: string) =>
  schema
    .split("\n")
    .map((line) => line.replace(/\s+/g, " ").trim())
    .filter((line) => line && !line.startsWith("//"))
    .join("\n");
const services = readdirSync(path.join(root, "services")).filter((s) => existsSync(path.join(root, "services", s, "prisma/migrations")));

describe("every service's migrations match its Prisma schema", () => {
  it("finds the services", () => {
    expect(services).toEqual(expect.arrayContaining(["registry", "pairing", "visits", "health", "notifications", "reporting", "gateway"]));
  });
  for (const service of services) {
    it(`${service}: schema.prisma equals the snapshot of its latest migration, and every migration has one`, () => {
      const dir = path.join(root, "services", service, "prisma/migrations");
      const migrations = readdirSync(dir)
        .filter((d) => /^\d{14}_/.test(d))
        .sort();
      expect(migrations.length).toBeGreaterThan(0);
      for (const m of migrations) {
        expect(existsSync(path.join(dir, m, "migration.sql")), `${m}/migration.sql`).toBe(true);
        expect(existsSync(path.join(dir, ".snapshots", `${m}.prisma`)), `.snapshots/${m}.prisma`).toBe(true);
      }
      const latest = readFileSync(path.join(dir, ".snapshots", `${migrations.at(-1)}.prisma`), "utf8");
      const schema = readFileSync(path.join(root, "services", service, "prisma/schema.prisma"), "utf8");
      expect(
        meaning(schema),
        `services/${service}/prisma/schema.prisma changed without a migration: run npm run migration -w @shouhu/${service} -- <name>`,
      ).toBe(meaning(latest));
    });
  }
});
