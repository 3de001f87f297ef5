import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { Redis } from "ioredis";
import type { Worker } from "bullmq";
import { v7 as uuidv7 } from "uuid";
import { createTestDatabase, testPrefix, type TestDatabase } from "@shouhu/testing";
import type { Envelope, EventType } from "@shouhu/contracts";
import { buildEvent, createEventConsumer, type EventConsumerOptions, type SqlTx } from "../src/index.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
export const connection = { url: REDIS_URL };
export const messagingSql = readFileSync(new URL("../sql/messaging.sql", import.meta.url), "utf8");
export const effectsSql = "CREATE TABLE effects (event_id uuid NOT NULL, note text); CREATE TABLE children (id uuid PRIMARY KEY, name text);";
export const eventTypes: EventType[] = ["child.registered", "child.updated", "child.status-changed"];

/** A `pg` client dressed as a Prisma transaction client (the SqlTx surface). */
export function pgTx(client: pg.PoolClient | pg.Client): SqlTx {
  return {
    $executeRawUnsafe: async (q, ...v) => (await client.query(q, v)).rowCount ?? 0,
    $queryRawUnsafe: async <T>(q: string, ...v: unknown[]) => (await client.query(q, v)).rows as T,
  };
}

export function transactionRunner(pool: pg.Pool) {
  return async <T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const result = await fn(pgTx(client));
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK");
      throw err;
    } finally {
      client.release();
    }
  };
}

/** One test file's world: its own database (messaging tables + effects) and its own BullMQ prefix. */
export async function setupFile(label: string): Promise<{ db: TestDatabase; pool: pg.Pool; prefix: string; cleanup: () => Promise<void> }> {
  const db = await createTestDatabase(label);
  const pool = new pg.Pool({ connectionString: db.url, max: 10 });
  await pool.query(messagingSql);
  await pool.query(effectsSql);
  const prefix = testPrefix(label);
  return {
    db,
    pool,
    prefix,
    async cleanup() {
      // Every queue of this file lives under its prefix: delete them all (obliterate, without listing names).
      const redis = new Redis(REDIS_URL);
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== "0");
      await redis.quit();
      await pool.end();
      await db.drop();
    },
  };
}

export function childRegistered(childId = uuidv7()): Envelope<"child.registered"> {
  return buildEvent(
    "child.registered",
    {
      subject: childId,
      orgUnit: "360999101201",
      actor: { kind: "user", id: "u1" },
      data: {
        child: {
          id: childId,
          name: "李小花",
          sex: "female",
          birthDate: "2015-03-07",
          villageCode: "360999101201",
          townshipCode: "360999101",
          countyCode: "360999",
          schoolId: null,
          schoolName: null,
          grade: null,
          className: null,
          leftBehindType: "both_parents_away",
          difficultyCategories: [],
          riskLevel: "low",
          status: "active",
          exitReason: null,
          guardian: null,
          parents: [],
          revision: 1,
        },
      },
    },
    { producer: "test" },
  );
}

export interface Behaviour {
  /** subject → failures left before success */
  failures?: Map<string, number>;
  /** subjects that always fail */
  always?: Set<string>;
  delayMs?: number;
  /** called inside the handler's open transaction, after the effect row was written */
  inside?: (event: Envelope) => Promise<void>;
}

/** A consumer of every child event whose handler writes one `effects` row per applied event. */
export function recordingConsumer(
  pool: pg.Pool,
  service: string,
  prefix: string,
  behaviour: Behaviour = {},
  extra: Partial<EventConsumerOptions<SqlTx>> = {},
): Worker {
  return createEventConsumer<SqlTx>({
    service,
    connection,
    prefix,
    routes: Object.fromEntries(eventTypes.map((t) => [t, [service]])),
    runInTransaction: transactionRunner(pool),
    handlers: Object.fromEntries(
      eventTypes.map((type) => [
        type,
        async (event: Envelope, tx: SqlTx) => {
          if (behaviour.delayMs) await new Promise((r) => setTimeout(r, behaviour.delayMs));
          if (behaviour.always?.has(event.subject)) throw new Error("下游暂不可用");
          const left = behaviour.failures?.get(event.subject) ?? 0;
          if (left > 0) {
            behaviour.failures!.set(event.subject, left - 1);
            throw new Error("transient");
          }
          await tx.$executeRawUnsafe("INSERT INTO effects (event_id, note) VALUES ($1::uuid, $2)", event.id, event.type);
          await behaviour.inside?.(event);
        },
      ]),
    ),
    ...extra,
  });
}

export async function effectsFor(pool: pg.Pool, eventId: string): Promise<number> {
  return (await pool.query("SELECT 1 FROM effects WHERE event_id = $1", [eventId])).rowCount ?? 0;
}

/** Runs a test/fixtures script in its own Node process (tsx, source conditions), reading its JSON lines. */
export function runFixture(name: string, args: string[]) {
  const file = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", "--conditions=source", file, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const messages: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => {
    try {
      messages.push(JSON.parse(line));
      waiters.splice(0).forEach((w) => w());
    } catch {
      // not one of ours
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    exited,
    /** Resolves with the first message that has this `step`. */
    async message(step: string, timeoutMs = 15_000): Promise<Record<string, unknown>> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = messages.find((m) => m.step === step);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`fixture ${name} never reported ${step}`);
        await Promise.race([new Promise<void>((r) => waiters.push(r)), exited, new Promise((r) => setTimeout(r, 200))]);
      }
    },
  };
}
