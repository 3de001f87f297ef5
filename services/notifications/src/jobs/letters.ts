import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { jobQueues } from "@shouhu/contracts";
import type { Logger } from "@shouhu/kit";
import { createJobQueue, createJobWorker } from "@shouhu/messaging";
import type { PrismaClient } from "../data/db.js";
import { expandLetter } from "../data/letters.js";
import type { QuietHours } from "../domain/quiet-hours.js";

const LETTER_JOB = "send-letter";

/** The letters queue: a sent letter is one job (job id = letter id, so a second click adds nothing). */
export function createLetterQueue(connection: Redis, prefix: string | undefined): Queue {
  return createJobQueue(jobQueues.notificationsLetters, connection, prefix, { attempts: 5, backoff: { type: "exponential", delay: 5_000 } });
}

export const enqueueLetter = (queue: Queue) => async (letterId: string) => {
  await queue.add(LETTER_JOB, { letterId }, { jobId: letterId });
};

/** Turns a letter into its recipients and SMS (data/letters.ts expandLetter); the dispatcher sends them as any message. */
export function startLetterWorker(deps: {
  prisma: PrismaClient;
  connection: Redis;
  prefix?: string;
  quiet: QuietHours;
  linkBase: string;
  logger: Logger;
  now?: () => Date;
}) {
  const now = deps.now ?? (() => new Date());
  return createJobWorker(
    jobQueues.notificationsLetters,
    async (job) => {
      const { letterId } = job.data as { letterId: string };
      const recipients = await expandLetter(deps.prisma, letterId, { now: now(), quiet: deps.quiet, linkBase: deps.linkBase });
      deps.logger.info({ letterId, recipients }, "letter sent to its recipients' queue");
      return recipients;
    },
    { connection: deps.connection, prefix: deps.prefix, logger: deps.logger },
  );
}
