import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Worker } from "node:worker_threads";
import type pg from "pg";
import copyStreams from "pg-copy-streams";
import type { Actor } from "@shouhu/contracts";
import { currentTraceparent, processCounter } from "@shouhu/kit";
import { OUTBOX_CHANNEL } from "@shouhu/messaging";
import type { PrismaClient } from "../data/db.js";
import { REGISTERED_ELSEWHERE_MESSAGE } from "../data/children.js";
import { PRODUCER } from "../data/children.js";
import {
  copyTables,
  keptText,
  prepareBatch,
  type CopyTable,
  type ParsedRow,
  type PreparedBatch,
  type PrepareContext,
  type Rejection,
} from "./import-prepare.js";
import { resolversFrom, type Resolvers } from "./import-resolvers.js";
import type { ImportWorkerData, ImportWorkerMessage } from "./import-worker.js";
import { contains } from "@shouhu/contracts";
import { z } from "zod";
import { defineJob } from "./job-definitions.js";
import { loadResolverData, schoolNames, startBatch } from "./batch-start.js";

export const IMPORT_JOB = "import-register";
/** An uploaded register to import (mode create) or to stage as a preview (mode update). */
export const importRegisterJob = defineJob({ id: IMPORT_JOB, schema: z.object({ batchId: z.uuid() }) });
// rate(import_rows_total[1m]) is the import's rows per second, by outcome.
const importedRows = processCounter("import_rows_total", "Register rows committed by imports, by outcome", ["outcome"]);
export type { ParsedRow } from "./import-prepare.js";

/** The parser, injected so this module holds only the storing logic. */
export type ParseRegister = (
  file: Uint8Array,
  options: Resolvers & { today: string; onBatch: (rows: ParsedRow[]) => Promise<void>; batchSize: number },
) => Promise<{ totalRows: number }>;

export interface ImportDeps {
  prisma: PrismaClient;
  /** Batches are stored with COPY on a plain pg connection (Prisma cannot COPY). */
  pool: pg.Pool;
  /**
   * Parse on this thread with this parser instead of the parse worker
   * (`import-worker.ts`, the default); tests wrap it to stop an import half-way.
   */
  parse?: ParseRegister;
  today: () => string;
  batchSize?: number;
}

/** Batches stored at once, each on its own connection, while parsing goes on. */
const STORES_IN_FLIGHT = 3;

/** Village and school names of the uploader's county, from the registry's own tables. */
async function copyInto(client: pg.PoolClient, table: CopyTable, parts: Uint8Array[]): Promise<void> {
  if (parts.length === 0 || parts.every((p) => p.length === 0)) return;
  await pipeline(Readable.from(parts), client.query(copyStreams.from(`COPY ${table} (${copyTables[table].join(", ")}) FROM STDIN`)));
}

/**
 * Stores one prepared batch in one transaction: new children with guardians,
 * parents, first history entry and `child.registered` outbox event (all with
 * COPY: an INSERT per row, or even one INSERT per table, costs several times
 * what the rows do, bench/RESULTS.md), rejected rows with reasons, progress.
 * Re-running a batch after a crash is safe: rows this import already stored are
 * recognised by their import batch id, rejections are keyed by (sheet, row).
 */
async function storeBatch(pool: pg.Pool, batchId: string, orgUnit: string, batch: PreparedBatch): Promise<void> {
  const rejections: Rejection[] = [...batch.rejections];
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const existing = batch.candidates.length
      ? (
          await client.query<{ id: string; id_number: string; name: string; village_code: string; import_batch_id: string | null }>(
            "SELECT id, id_number, name, village_code, import_batch_id FROM children WHERE id_number = ANY($1::text[])",
            [batch.candidates.map((c) => c.idNumber)],
          )
        ).rows
      : [];
    const byIdNumber = new Map(existing.map((e) => [e.id_number, e]));
    const kept: number[] = [];
    batch.candidates.forEach((c, i) => {
      const found = byIdNumber.get(c.idNumber);
      if (!found) kept.push(i);
      else if (found.import_batch_id !== batchId) {
        // As at registration: the existing record is named only inside the import's
        // jurisdiction; elsewhere the row says "registered elsewhere" and nothing more.
        const inside = contains(orgUnit, found.village_code);
        rejections.push({
          sheet: c.sheet,
          rowNumber: c.rowNumber,
          name: c.name,
          idNumber: c.idNumber,
          reasons: [inside ? `身份证号已建档：${found.name}（档案 ${found.id}），未重复导入` : REGISTERED_ELSEWHERE_MESSAGE],
          existingChildId: inside ? found.id : null,
        });
      } // else: stored by an earlier attempt of this import
    });
    if (kept.length) {
      for (const table of Object.keys(copyTables) as CopyTable[]) await copyInto(client, table, keptText(batch, table, kept));
      // What appendToOutbox does after its insert: relays hear of the events at commit.
      await client.query("SELECT pg_notify($1, '')", [OUTBOX_CHANNEL]);
    }
    if (rejections.length) {
      await client.query(
        `INSERT INTO import_rejections (batch_id, sheet, row_number, name, id_number, reasons, existing_child_id)
         SELECT $1::uuid, r."sheet", r."rowNumber", r."name", r."idNumber", r."reasons", r."existingChildId"
         FROM jsonb_to_recordset($2::jsonb) AS r("sheet" text, "rowNumber" int, "name" text, "idNumber" text, "reasons" text[], "existingChildId" uuid)
         ON CONFLICT (batch_id, sheet, row_number) DO NOTHING`,
        [batchId, JSON.stringify(rejections)],
      );
    }
    await client.query("UPDATE import_batches SET processed_rows = processed_rows + $2 WHERE id = $1", [batchId, batch.rowCount]);
    await client.query("COMMIT");
    importedRows.inc({ outcome: "accepted" }, kept.length);
    importedRows.inc({ outcome: "rejected" }, rejections.length);
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Stores batches as they come, up to STORES_IN_FLIGHT at once. They hold
 * disjoint children (the parser already refused in-file repeats), and a
 * resumed import recognises its own rows, so order does not matter.
 */
class BatchStore {
  private inFlight = new Set<Promise<void>>();
  failure: unknown;
  /** Called as each batch is stored or fails. */
  onSettled: () => void = () => undefined;
  constructor(
    private pool: pg.Pool,
    private batchId: string,
    private orgUnit: string,
  ) {}

  get full(): boolean {
    return this.inFlight.size >= STORES_IN_FLIGHT;
  }

  add(batch: PreparedBatch): void {
    const store: Promise<void> = storeBatch(this.pool, this.batchId, this.orgUnit, batch).then(
      () => {
        this.inFlight.delete(store);
        this.onSettled();
      },
      (err) => {
        this.failure ??= err;
        this.inFlight.delete(store);
        this.onSettled();
      },
    );
    this.inFlight.add(store);
  }

  async waitForRoom(): Promise<void> {
    while (this.full) await Promise.race(this.inFlight);
  }

  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
  }
}

/** Parses on this thread with an injected parser; each batch is prepared here too. */
async function parseHere(
  parse: ParseRegister,
  file: Uint8Array,
  resolvers: Resolvers,
  today: string,
  batchSize: number,
  context: PrepareContext,
  store: BatchStore,
) {
  return parse(file, {
    ...resolvers,
    today,
    batchSize,
    onBatch: async (rows) => {
      if (store.failure) throw store.failure;
      await store.waitForRoom();
      if (store.failure) throw store.failure;
      store.add(prepareBatch(rows, context));
    },
  });
}

/** Where the parse worker starts: its TypeScript source through tsx in tests and benchmarks, else the built file. */
function startWorker(): Worker {
  const fromSource = import.meta.url.endsWith(".ts");
  return new Worker(new URL(fromSource ? "./import-worker-source.mjs" : "./import-worker.js", import.meta.url), {
    // (--cpu-prof passed on, so profiling the benchmark profiles the worker too.)
    ...(fromSource ? { execArgv: [...process.execArgv.filter((a) => a.startsWith("--cpu-prof")), "--conditions=source"] } : {}),
  });
}

/**
 * Parses in the worker thread while this thread stores: both cores work (the
 * worker on the workbook, PostgreSQL on the batches). The worker runs at most
 * STORES_IN_FLIGHT batches ahead of the store.
 */
async function parseInWorker(worker: Worker, data: Omit<ImportWorkerData, "credits">, store: BatchStore) {
  return new Promise<{ totalRows: number }>((resolve, reject) => {
    let done = false;
    worker.on("message", (message: ImportWorkerMessage) => {
      if (message.type === "done") {
        done = true;
        resolve({ totalRows: message.totalRows });
      } else if (store.failure) reject(store.failure);
      else store.add(message.batch);
    });
    worker.on("error", reject);
    worker.on("exit", (code) => {
      if (!done) reject(new Error(`import parse worker stopped (exit code ${code})`));
    });
    // A stored batch (or a failed one) makes room for the worker's next.
    store.onSettled = () => {
      if (store.failure) reject(store.failure);
      else worker.postMessage("credit");
    };
    worker.postMessage({ ...data, credits: STORES_IN_FLIGHT } satisfies ImportWorkerData, [data.file.buffer as ArrayBuffer]);
  });
}

/** Runs one queued import to completion. Returns the final counts. */
export async function runImport(deps: ImportDeps, batchId: string) {
  // Started first: its modules load while we read the batch and the county's villages.
  const worker = deps.parse ? undefined : startWorker();
  try {
    return await importBatch(deps, batchId, worker);
  } finally {
    await worker?.terminate();
  }
}

async function importBatch(deps: ImportDeps, batchId: string, worker: Worker | undefined) {
  const { prisma } = deps;
  const started = await startBatch(prisma, batchId, ["completed"]);
  if (started.done) return started.batch;
  const { batch, file } = started;

  const actor: Actor = { kind: "user", id: batch.createdBy, name: batch.createdByName ?? undefined, role: "import" };
  const resolverData = await loadResolverData(prisma, batch.orgUnit);
  const traceparent = currentTraceparent();
  const context: PrepareContext = {
    batchId,
    orgUnit: batch.orgUnit,
    actor,
    producer: PRODUCER,
    schoolNames: await schoolNames(prisma),
    ...(traceparent ? { traceparent } : {}),
  };
  const batchSize = deps.batchSize ?? 1000;
  const store = new BatchStore(deps.pool, batchId, batch.orgUnit);
  const parsing = worker
    ? parseInWorker(worker, { file, resolvers: resolverData, today: deps.today(), batchSize, context }, store)
    : parseHere(deps.parse!, file, resolversFrom(resolverData), deps.today(), batchSize, context, store);
  // Whatever happens to the parse, batches in flight finish (or fail) before we report.
  const [parsed] = await Promise.allSettled([parsing]);
  await store.drain();
  if (store.failure) throw store.failure;
  if (parsed.status === "rejected") throw parsed.reason;
  const { totalRows } = parsed.value;

  // Counts from what is stored, so a resumed import reports the same numbers.
  const [acceptedRows, rejectedRows] = await Promise.all([
    prisma.child.count({ where: { importBatchId: batchId } }),
    prisma.importRejection.count({ where: { batchId } }),
  ]);
  return prisma.$transaction(async (tx) => {
    await tx.importFile.delete({ where: { batchId } });
    return tx.importBatch.update({
      where: { id: batchId },
      data: { status: "completed", totalRows, processedRows: totalRows, acceptedRows, rejectedRows, finishedAt: new Date() },
    });
  });
}
