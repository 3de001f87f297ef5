import { runService } from "@shouhu/runtime";
import { createPgPool } from "@shouhu/db";
import { inPgTransaction, type SqlTx } from "@shouhu/messaging";
import { activitiesConfigSchema } from "./config.js";
import { createPrisma } from "./data/db.js";
import { PRODUCER } from "./data/children.js";
import { buildActivitiesApp } from "./app.js";
import { activityHandlers, inChildBatch } from "./events/handlers.js";

await runService({
  name: "activities",
  configSchema: activitiesConfigSchema,
  migrationsDir: new URL("../prisma/migrations", import.meta.url),
  createPrisma,
  producer: PRODUCER,
  setup: ({ config, logger, instrumentation, prisma, readiness, own }) => {
    // The consumer's handlers are raw SQL: plain pg transactions, a batch's child events applied together.
    const consumerPool = own(createPgPool(config.DATABASE_URL, { max: 2 }));
    return {
      api: (verifier) => buildActivitiesApp({ prisma, verifier, logger, instrumentation, readiness }),
      consumer: {
        handlers: activityHandlers(),
        runInTransaction: <T>(fn: (tx: SqlTx) => Promise<T>) => inPgTransaction(consumerPool, (tx) => inChildBatch(tx, fn)),
      },
    };
  },
});
