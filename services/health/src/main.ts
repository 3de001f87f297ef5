import { runService } from "@shouhu/runtime";
import { healthConfigSchema } from "./config.js";
import { createPrisma, type Tx } from "./data/db.js";
import { PRODUCER } from "./data/exams.js";
import { buildHealthApp } from "./app.js";
import { healthHandlers } from "./events/handlers.js";

await runService({
  name: "health",
  configSchema: healthConfigSchema,
  migrationsDir: new URL("../prisma/migrations", import.meta.url),
  createPrisma,
  producer: PRODUCER,
  setup: ({ logger, instrumentation, prisma, readiness }) => ({
    api: (verifier) => buildHealthApp({ prisma, verifier, logger, instrumentation, readiness }),
    consumer: { handlers: healthHandlers(), runInTransaction: <T>(fn: (tx: Tx) => Promise<T>) => prisma.$transaction(fn) },
  }),
});
