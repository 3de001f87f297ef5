import { silentLogger, type MessagingLogger } from "./logger.js";

export interface Closer {
  name: string;
  close: () => Promise<unknown>;
}

/**
 * On SIGTERM/SIGINT closes everything in order: the HTTP server and relays
 * first, then workers (`worker.close()` waits for in-flight jobs; past the
 * timeout the process exits and BullMQ hands those jobs to another worker as
 * stalled), then queues, pools and connections.
 */
export function gracefulShutdown(closers: Closer[], options: { logger?: MessagingLogger; timeoutMs?: number; signals?: NodeJS.Signals[] } = {}): () => Promise<void> {
  const logger = options.logger ?? silentLogger;
  let started = false;
  const run = async () => {
    if (started) return;
    started = true;
    const timer = setTimeout(() => {
      logger.error({}, "shutdown timed out; exiting with jobs returned to their queues");
      process.exit(1);
    }, options.timeoutMs ?? 25_000);
    timer.unref();
    for (const closer of closers) {
      try {
        await closer.close();
        logger.info({ closer: closer.name }, "closed");
      } catch (err) {
        logger.error({ err, closer: closer.name }, "close failed");
      }
    }
    clearTimeout(timer);
  };
  for (const signal of options.signals ?? ["SIGTERM", "SIGINT"]) {
    process.once(signal, () => {
      logger.info({ signal }, "shutting down");
      void run().then(() => process.exit(0));
    });
  }
  return run;
}
