import { test as base } from "vitest";
import { createTestDatabase } from "./database.js";
import { startTestIssuer } from "./issuer.js";
import { testPrefix } from "./prefix.js";

/**
 * A vitest `test` (fixtures in the style of Trigger.dev's) carrying what a service's test
 * file needs, set up once for the file when a test or `beforeAll` first asks for it and
 * torn down after the file: `db`, a migrated database cloned from the service's template;
 * `issuer`, the dev issuer on a free port with the realm and demo users; `prefix`, the
 * file's queue and Redis key prefix (its keys are removed after the file by vitest-setup).
 * Files extend it further with their own app: `serviceTest(...).extend("app", …)`.
 */
export function serviceTest(label: string, migrationsDir: string) {
  return base
    .extend("db", { scope: "file" }, async ({}, { onCleanup }) => {
      const db = await createTestDatabase(label, { migrationsDir });
      onCleanup(() => db.drop());
      return db;
    })
    .extend("issuer", { scope: "file" }, async ({}, { onCleanup }) => {
      const issuer = await startTestIssuer();
      onCleanup(() => issuer.close());
      return issuer;
    })
    .extend("prefix", { scope: "file" }, testPrefix(label));
}
