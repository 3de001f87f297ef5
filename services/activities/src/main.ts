import { runService } from "@shouhu/runtime";
import { createPgPool } from "@shouhu/db";
import { inPgTransaction, type SqlTx } from "@shouhu/messaging";
import { activitiesConfigSchema } from "./config.js";
import { createPrisma } from "./data/db.js";
import { PRODUCER } from "./data/children.js";
import { buildActivitiesApp } from "./app.js";
import { activityHandlers, inChildBatch } from "./events/handlers.js";
import { AttachmentStore } from "@shouhu/attachments";
import { purgeExpiredPhotos } from "./data/photos.js";

/** Expired session photos are deleted this often (retention is in years: a day late is nothing). */
const PURGE_EVERY_MS = 6 * 3600 * 1000;

await runService({
  name: "activities",
  configSchema: activitiesConfigSchema,
  migrationsDir: new URL("../prisma/migrations", import.meta.url),
  createPrisma,
  producer: PRODUCER,
  setup: ({ config, logger, instrumentation, prisma, readiness, own }) => {
    // The consumer's handlers are raw SQL: plain pg transactions, a batch's child events applied together.
    const consumerPool = own(createPgPool(config.DATABASE_URL, { max: 2 }));
    // Session photos; the bucket is made by MinIO's start script or the embedded server. A store that is
    // down answers 503 on the photo routes only.
    const attachments = new AttachmentStore(config);
    return {
      api: (verifier) => buildActivitiesApp({ prisma, verifier, logger, instrumentation, readiness, attachments }),
      // A timer, not a queue: deleting what has expired is idempotent, and a purge missed by a restart is done by the next.
      workers: async () => {
        const purge = () =>
          purgeExpiredPhotos(prisma, attachments, new Date()).then(
            (deleted) => logger.info({ deleted }, "expired session photos deleted"),
            (err: unknown) => logger.warn({ err }, "session photo purge failed; retried at the next run"),
          );
        const timer = setInterval(() => void purge(), PURGE_EVERY_MS);
        timer.unref();
        return [{ name: "session-photo-purge", close: async () => clearInterval(timer) }];
      },
      consumer: {
        handlers: activityHandlers(),
        runInTransaction: <T>(fn: (tx: SqlTx) => Promise<T>) => inPgTransaction(consumerPool, (tx) => inChildBatch(tx, fn)),
      },
    };
  },
});
