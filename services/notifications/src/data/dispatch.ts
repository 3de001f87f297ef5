import type { Queue } from "bullmq";
import type { Logger } from "@shouhu/kit";
import type { PrismaClient } from "./db.js";

const DELIVER_JOB = "deliver";

/**
 * Moves queued messages to the delivery queue, one job per message, job id =
 * message id, delayed until its quiet hours end. Rows are claimed with SKIP
 * LOCKED and marked in the same transaction that added their jobs; a crash in
 * between re-adds under the same id (a no-op) and the worker checks the
 * message's status before sending, so nothing goes out twice.
 */
export async function dispatchQueued(prisma: PrismaClient, queue: Queue, now: Date, batch = 500): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await prisma.$transaction(async (tx) => {
      const rows = await tx.$queryRawUnsafe<{ id: string; notBefore: Date; urgent: boolean }[]>(
        `SELECT id, not_before AS "notBefore", urgent FROM messages WHERE status = 'queued' AND enqueued_at IS NULL
          ORDER BY urgent DESC, created_at LIMIT $1 FOR UPDATE SKIP LOCKED`,
        batch,
      );
      if (rows.length === 0) return 0;
      await queue.addBulk(
        rows.map((r) => ({
          name: DELIVER_JOB,
          data: { messageId: r.id },
          opts: { jobId: r.id, delay: Math.max(0, r.notBefore.getTime() - now.getTime()), priority: r.urgent ? 1 : 5 },
        })),
      );
      await tx.$executeRawUnsafe(
        `UPDATE messages SET enqueued_at = now() WHERE id = ANY($1::uuid[])`,
        rows.map((r) => r.id),
      );
      return rows.length;
    });
    total += n;
    if (n < batch) return total;
  }
}

export function startDispatcher(
  prisma: PrismaClient,
  queue: Queue,
  options: { pollMs: number; logger: Logger; now?: () => Date },
): { close: () => Promise<void> } {
  const now = options.now ?? (() => new Date());
  let busy = false;
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    running = dispatchQueued(prisma, queue, now())
      .then(() => undefined)
      .catch((err: unknown) => options.logger.error({ err }, "dispatching messages failed; will retry"))
      .finally(() => {
        busy = false;
      });
  }, options.pollMs);
  return {
    close: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
