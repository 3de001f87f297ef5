import type { Logger } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { runPendingMatches } from "../data/matching.js";

/**
 * Runs queued township matches (rows in match_requests, written with the
 * events and changes that asked for them). Polling a table rather than a queue
 * job: the request is durable in the same transaction as its cause, several
 * workers share the work through SKIP LOCKED, and requests collapse per township.
 */
export function startMatchPoller(prisma: PrismaClient, options: { quietMs: number; pollMs: number; logger: Logger }): { close: () => Promise<void> } {
  let stopped = false;
  let busy = false;
  let running: Promise<void> = Promise.resolve();
  const tick = async () => {
    try {
      const runs = await runPendingMatches(prisma, { quietMs: options.quietMs });
      for (const run of runs) if (run.children > 0) options.logger.info(run, "matching run");
    } catch (err) {
      options.logger.error({ err }, "matching run failed; the request stays queued");
    }
  };
  const timer = setInterval(() => {
    if (stopped || busy) return;
    busy = true;
    running = tick().finally(() => {
      busy = false;
    });
  }, options.pollMs);
  return {
    close: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
