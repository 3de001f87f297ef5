import { parentPort } from "node:worker_threads";
import { parseRegisterWorkbook } from "../spreadsheet/register-import.js";
import { prepareBatch, transferList, type PrepareContext } from "./import-prepare.js";
import { resolversFrom, type ResolverData } from "./import-resolvers.js";

/** What `runImport` hands the parse worker. */
export interface ImportWorkerData {
  file: Uint8Array;
  resolvers: ResolverData;
  today: string;
  batchSize: number;
  context: PrepareContext;
  /** Batches the worker may post before the store acknowledges one: bounds memory. */
  credits: number;
}

export type ImportWorkerMessage = { type: "batch"; batch: ReturnType<typeof prepareBatch> } | { type: "done"; totalRows: number };

/**
 * The parse worker: reads the workbook, validates every row and prepares each
 * batch's COPY text and events, so the main thread only talks to PostgreSQL.
 * It starts before the import's data is loaded (loading its modules takes a
 * while) and waits for `ImportWorkerData`; then "credit" messages let it post
 * more batches. An error ends the thread; `runImport` sees its `error` event.
 */
const port = parentPort!;
let credits = 0;
let wake: (() => void) | undefined;
const started = new Promise<ImportWorkerData>((resolve) => {
  port.on("message", (message: ImportWorkerData | "credit") => {
    if (message !== "credit") {
      credits = message.credits;
      resolve(message);
      return;
    }
    credits += 1;
    wake?.();
    wake = undefined;
  });
});

const data = await started;
const { totalRows } = await parseRegisterWorkbook(data.file, {
  ...resolversFrom(data.resolvers),
  today: data.today,
  batchSize: data.batchSize,
  onBatch: async (rows) => {
    const batch = prepareBatch(rows, data.context); // ready while earlier batches are stored
    while (credits === 0) await new Promise<void>((resolve) => (wake = resolve));
    credits -= 1;
    port.postMessage({ type: "batch", batch } satisfies ImportWorkerMessage, transferList(batch));
  },
});
port.postMessage({ type: "done", totalRows } satisfies ImportWorkerMessage);
port.close();
