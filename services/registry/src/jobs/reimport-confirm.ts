import type { Queue } from "bullmq";
import { z } from "zod";
import type { Logger } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { abandonConfirm, applyQueuedRows } from "../data/reimport.js";
import { addJob, defineJob, handle } from "./job-definitions.js";

/**
 * A re-import's confirm, on the import queue: applies the rows `POST /imports/:id/confirm`
 * queued (data/reimport.ts `applyQueuedRows`). Its job id names the batch and the confirm's
 * sequence number, so the request and the sweep add the same job once.
 */
export const reimportConfirmJob = defineJob({
  id: "reimport-confirm",
  schema: z.object({ batchId: z.uuid(), seq: z.number().int().positive() }),
});

export const confirmJobId = (batchId: string, seq: number) => `${batchId}-confirm-${seq}`;

export function enqueueConfirm(queue: Queue, batchId: string, seq: number) {
  return addJob(queue, reimportConfirmJob, { batchId, seq }, { jobId: confirmJobId(batchId, seq), attempts: 5, backoff: { type: "exponential", delay: 2000 } });
}

export function reimportConfirmHandler(prisma: PrismaClient, logger: Logger) {
  return {
    job: handle(reimportConfirmJob, async ({ batchId }) => {
      const result = await applyQueuedRows(prisma, batchId);
      logger.info({ batchId, ...result }, "re-import confirm finished");
      return result;
    }),
    onFinalFailure: (batchId: string, err: Error) => abandonConfirm(prisma, batchId, err.message),
  };
}
