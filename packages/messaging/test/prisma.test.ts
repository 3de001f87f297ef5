// The raw SQL of appendToOutbox and the inbox insert, through a real Prisma 7 client
// (prisma-client generator, @prisma/adapter-pg) rather than the pg stand-in: proves
// how parameters bind (uuid/jsonb casts) and that a Prisma interactive transaction
// satisfies SqlTx. The client is generated from test/prisma/schema.prisma (the
// canonical models plus a test table) into test/prisma/generated, git-ignored.
import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Envelope } from "@shouhu/contracts";
import { appendToOutbox, consumeEvent, type SqlTx } from "../src/index.js";
import { childRegistered, setupFile } from "./support.js";

interface TestPrisma extends SqlTx {
  $transaction<T>(fn: (tx: TestPrisma & { effect: { create(args: { data: { eventId: string; note: string } }): Promise<unknown> } }) => Promise<T>): Promise<T>;
  $disconnect(): Promise<void>;
}

let pool: pg.Pool;
let cleanup: () => Promise<void>;
let prisma: TestPrisma;

function generateClient(): void {
  const require = createRequire(import.meta.url);
  const cli = require.resolve("prisma/build/index.js");
  // Offline generate needs the schema-engine variable to name an existing file (DEVELOPERS.md).
  const placeholder = path.join(os.tmpdir(), "shouhu-messaging-schema-engine-placeholder");
  if (!existsSync(placeholder)) writeFileSync(placeholder, "");
  const schema = fileURLToPath(new URL("./prisma/schema.prisma", import.meta.url));
  const result = spawnSync(process.execPath, [cli, "generate", "--schema", schema], {
    env: { ...process.env, PRISMA_SCHEMA_ENGINE_BINARY: placeholder, PRISMA_HIDE_UPDATE_MESSAGE: "1", CHECKPOINT_DISABLE: "1" },
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`prisma generate failed: ${result.stderr}${result.stdout}`);
}

beforeAll(async () => {
  generateClient();
  const file = await setupFile("msg_prisma");
  ({ pool, cleanup } = file);
  await pool.query('CREATE TABLE "prisma_effects" ("event_id" UUID NOT NULL, "note" TEXT, "id" SERIAL PRIMARY KEY)');
  const generated = "./prisma/generated/client.js";
  const { PrismaClient } = (await import(/* @vite-ignore */ generated)) as { PrismaClient: new (o: object) => TestPrisma };
  prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: file.db.url }) });
}, 30_000);
afterAll(async () => {
  await prisma?.$disconnect();
  await cleanup();
});

describe("with a real Prisma client", () => {
  it("appendToOutbox commits with the state change in prisma.$transaction; the envelope is stored as a jsonb object", async () => {
    const events = [childRegistered(), childRegistered()];
    const inserted = await prisma.$transaction(async (tx) => {
      await tx.effect.create({ data: { eventId: events[0]!.id, note: "state change" } });
      return appendToOutbox(tx, events);
    });
    expect(inserted).toBe(2);
    const { rows } = await pool.query(
      "SELECT id, type, subject, org_unit, jsonb_typeof(envelope) AS kind, envelope FROM outbox WHERE id = ANY($1::uuid[]) ORDER BY id",
      [events.map((e) => e.id)],
    );
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      const event = events.find((e) => e.id === row.id)!;
      expect(row).toMatchObject({ type: "child.registered", subject: event.subject, org_unit: "360999101201", kind: "object" });
      expect(row.envelope).toEqual(event);
    }
  });

  it("a rolled-back Prisma transaction leaves no outbox row", async () => {
    const event = childRegistered();
    await expect(
      prisma.$transaction(async (tx) => {
        await appendToOutbox(tx, [event]);
        throw new Error("rollback");
      }),
    ).rejects.toThrow("rollback");
    expect((await pool.query("SELECT 1 FROM outbox WHERE id = $1", [event.id])).rowCount).toBe(0);
  });

  it("the inbox insert reports 1 then 0 rows through Prisma: applied once, then duplicate", async () => {
    const event = childRegistered();
    const handlers = {
      "child.registered": async (e: Envelope, tx: SqlTx) => {
        await tx.$executeRawUnsafe("INSERT INTO prisma_effects (event_id, note) VALUES ($1::uuid, $2)", e.id, "consumed");
      },
    };
    const run = <T>(fn: (tx: SqlTx) => Promise<T>) => prisma.$transaction(fn);
    expect(await consumeEvent(JSON.parse(JSON.stringify(event)), handlers, run)).toBe("applied");
    expect(await consumeEvent(JSON.parse(JSON.stringify(event)), handlers, run)).toBe("duplicate");
    expect((await pool.query("SELECT 1 FROM prisma_effects WHERE event_id = $1 AND note = 'consumed'", [event.id])).rowCount).toBe(1);
  });
});
