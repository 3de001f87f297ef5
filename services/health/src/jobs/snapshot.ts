import type { ConnectionOptions, Queue } from "bullmq";
import { jobQueues } from "@shouhu/contracts";
import type { Logger } from "@shouhu/kit";
import { createJobWorker } from "@shouhu/messaging";
import type { PrismaClient } from "../data/db.js";
import { publishHealthSnapshot } from "../data/snapshot.js";

const SNAPSHOT_JOB = "publish-snapshot";

/**
 * Queues one county's snapshot for a rebuild (snapshot.requested). The job id is the
 * run's: a redelivered request adds nothing, and a crash mid-run is finished by the retry
 * (reporting merges by revision, so repeated snapshot events are harmless).
 */
export function requestSnapshot(queue: Queue) {
  return (runId: string, county: string) => queue.add(SNAPSHOT_JOB, { runId, county }, { jobId: `snapshot-${runId}` });
}

export function startSnapshotWorker(prisma: PrismaClient, options: { connection: ConnectionOptions; prefix?: string; logger: Logger }) {
  return createJobWorker(
    jobQueues.healthSnapshot,
    async (job) => {
      const result = await publishHealthSnapshot(prisma, job.data as { runId: string; county: string });
      options.logger.info(result, "snapshot published");
      return result;
    },
    { connection: options.connection, prefix: options.prefix, logger: options.logger },
  );
}
