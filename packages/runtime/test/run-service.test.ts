import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { randomUUID } from "node:crypto";
import { createServiceApp, serviceConfigSchema } from "@shouhu/kit";
import { appendToOutbox, buildEvent, type SqlTx } from "@shouhu/messaging";
import { createTestDatabase, freePort, testPrefix, type TestDatabase } from "@shouhu/testing";
import { runService, type RunningService } from "../src/index.js";

// A small real service on the shared process: its own database and migrations, an
// API that writes to its outbox, a relay, and a consumer of its own events.
const SERVICE = "runtime-probe";
const routes = { "snapshot.completed": [SERVICE] } as const;

/** Just enough of a Prisma client over pg for the process (queries, disconnect). */
function pgDb(url: string) {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const asTx = (c: pg.PoolClient | pg.Pool): SqlTx => ({
    $executeRawUnsafe: async (q, ...v) => (await c.query(q, v)).rowCount ?? 0,
    $queryRawUnsafe: async <T>(q: string, ...v: unknown[]) => (await c.query(q, v)).rows as T,
  });
  return {
    ...asTx(pool),
    async $transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await fn(asTx(client));
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK");
        throw err;
      } finally {
        client.release();
      }
    },
    $disconnect: () => pool.end(),
  };
}
type Db = ReturnType<typeof pgDb>;

let db: TestDatabase;
let service: RunningService<unknown, Db> | undefined;
const closed: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase("runtime");
});
afterAll(async () => {
  await service?.stop();
  await db.drop();
});

describe("runService", () => {
  it("fails at start naming a bad variable", async () => {
    await expect(
      runService({
        name: SERVICE,
        configSchema: serviceConfigSchema({ port: 0, database: "x" }),
        env: { DATABASE_URL: "not a url" },
        migrationsDir: new URL("./fixtures/migrations", import.meta.url),
        createPrisma: pgDb,
        exitOnShutdown: false,
        setup: () => ({}),
      }),
    ).rejects.toThrow(/DATABASE_URL/);
  });

  it("migrates, serves /readyz, relays its outbox to its consumer, and closes everything in order", async () => {
    service = await runService({
      name: SERVICE,
      configSchema: serviceConfigSchema({ port: 0, database: "unused" }),
      env: { DATABASE_URL: db.url, PORT: "0", LOG_LEVEL: "silent", QUEUE_PREFIX: testPrefix("runtime"), ROLE: "all" },
      migrationsDir: new URL("./fixtures/migrations", import.meta.url),
      createPrisma: pgDb,
      producer: SERVICE,
      routes,
      exitOnShutdown: false,
      setup: (ctx) => ({
        api: async () => {
          const app = await createServiceApp({ service: SERVICE, logger: ctx.logger, readiness: ctx.readiness });
          app.post("/probe", async () => {
            const runId = randomUUID();
            await ctx.prisma.$transaction((tx) =>
              appendToOutbox(tx, [
                buildEvent(
                  "snapshot.completed",
                  { subject: runId, orgUnit: "360999", actor: { kind: "system", id: SERVICE }, data: { runId, producer: SERVICE, events: 0 } },
                  { producer: SERVICE },
                ),
              ]),
            );
            return { runId };
          });
          app.addHook("onClose", async () => void closed.push("http"));
          return app;
        },
        consumer: {
          handlers: {
            "snapshot.completed": async (event, tx) => {
              await tx.$executeRawUnsafe(`INSERT INTO seen (event_id, run_id) VALUES ($1::uuid, $2::uuid)`, event.id, (event.data as { runId: string }).runId);
            },
          },
          runInTransaction: (fn) => ctx.prisma.$transaction(fn),
        },
        workers: async () => [{ name: "probe-worker", close: async () => void closed.push("worker") }],
      }),
    });
    const app = service.app!;
    const ready = await app.inject({ method: "GET", url: "/readyz" });
    expect(ready.statusCode, ready.body).toBe(200);
    const migrations = await service.prisma.$queryRawUnsafe<{ migration_name: string }[]>(
      `SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL`,
    );
    expect(migrations.map((m) => m.migration_name)).toEqual(["20260101000000_init"]);

    const { runId } = (await app.inject({ method: "POST", url: "/probe" })).json<{ runId: string }>();
    let seen: { run_id: string }[] = [];
    for (let i = 0; i < 100 && seen.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = await service.prisma.$queryRawUnsafe<{ run_id: string }[]>(`SELECT run_id FROM seen`);
    }
    expect(seen).toEqual([{ run_id: runId }]);

    await service.stop();
    expect(closed).toEqual(["http", "worker"]);
    await expect(service.prisma.$queryRawUnsafe("SELECT 1")).rejects.toThrow();
    service = undefined;
  });
  it("a worker-role process answers probes on its port, and stops answering when it stops", async () => {
    const port = await freePort();
    const worker = await runService({
      name: SERVICE,
      configSchema: serviceConfigSchema({ port: 0, database: "unused" }),
      env: { DATABASE_URL: db.url, PORT: String(port), LOG_LEVEL: "silent", QUEUE_PREFIX: testPrefix("runtime_w"), ROLE: "worker", SHUTDOWN_DRAIN_MS: "0" },
      migrationsDir: new URL("./fixtures/migrations", import.meta.url),
      createPrisma: pgDb,
      exitOnShutdown: false,
      setup: () => ({ workers: async () => [] }),
    });
    expect(worker.app).toBeUndefined();
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", service: SERVICE });
    await worker.stop();
    await expect(fetch(`http://127.0.0.1:${port}/readyz`)).rejects.toThrow();
  });
});
