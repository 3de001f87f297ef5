import { Queue, Worker } from "bullmq";
import { silentLogger, type MessagingLogger } from "./logger.js";
import { OutboxRelay } from "./relay.js";

/** Anything that must be closed at shutdown; `forceClose` runs if the timeout passes first. */
export interface Closer {
  name: string;
  close: () => Promise<unknown>;
  forceClose?: () => Promise<unknown>;
}

/** BullMQ workers and queues, relays, pg pools (`end`), ioredis clients (`quit`), or a Closer. */
export type Closable = Closer | Worker | Queue | OutboxRelay | { end(): Promise<unknown> } | { quit(): Promise<unknown> };

export function toCloser(item: Closable): Closer {
  if (item instanceof Worker) {
    // close() lets in-flight jobs finish. No forceClose: BullMQ memoizes close(), so a
    // close(true) after it is the same pending promise. On timeout the process exits;
    // the abandoned jobs' locks expire and another worker takes them as stalled.
    return { name: `worker ${item.name}`, close: () => item.close() };
  }
  if (item instanceof Queue) return { name: `queue ${item.name}`, close: () => item.close() };
  if (item instanceof OutboxRelay) return { name: "outbox relay", close: () => item.stop() };
  if ("close" in item && "name" in item) return item;
  if ("end" in item) return { name: "pg pool", close: () => item.end() };
  if ("quit" in item) return { name: "redis", close: () => item.quit() };
  throw new Error("gracefulShutdown: cannot close this object");
}

export interface ShutdownOptions {
  logger?: MessagingLogger;
  /** After this, workers are force-closed and the process exits 1. Keep it below the orchestrator's grace period. Default 25 s. */
  timeoutMs?: number;
  signals?: NodeJS.Signals[];
  /** Exit the process when done (default true; tests pass false). */
  exit?: boolean;
}

/**
 * On SIGTERM/SIGINT closes everything in the order given — list the HTTP server
 * and relays first, then workers (`worker.close()` waits for in-flight jobs),
 * then queues, pools and Redis connections — and exits 0. Past the timeout it
 * runs any `forceClose` (bounded to 1 s) and exits 1: the jobs still running come
 * back as stalled once their lock expires (lockDuration) and run again; their
 * transactions never committed, and the inbox keeps any rerun safe.
 * Returns the shutdown function, for callers that stop for other reasons.
 */
export function gracefulShutdown(closables: Closable[], options: ShutdownOptions = {}): () => Promise<void> {
  const logger = options.logger ?? silentLogger;
  const closers = closables.map(toCloser);
  const exit = options.exit ?? true;
  let running: Promise<void> | undefined;

  const run = (): Promise<void> => {
    running ??= (async () => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        logger.error({ timeoutMs: options.timeoutMs ?? 25_000 }, "shutdown timed out; exiting, unfinished jobs will be redelivered as stalled");
        const forced = Promise.allSettled(closers.map((c) => c.forceClose?.()));
        // Open transactions roll back when the process dies, so exiting is safe.
        void Promise.race([forced, new Promise((r) => setTimeout(r, 1000))]).then(() => {
          if (exit) process.exit(1);
        });
      }, options.timeoutMs ?? 25_000);
      for (const closer of closers) {
        if (timedOut) break;
        try {
          await closer.close();
          logger.info({ closer: closer.name }, "closed");
        } catch (err) {
          logger.error({ err, closer: closer.name }, "close failed");
        }
      }
      if (timedOut) return;
      clearTimeout(timer);
      if (exit) process.exit(0);
    })();
    return running;
  };

  for (const signal of options.signals ?? ["SIGTERM", "SIGINT"]) {
    process.once(signal, () => {
      logger.info({ signal }, "shutting down");
      void run();
    });
  }
  return run;
}
