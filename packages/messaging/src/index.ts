export { createRedisConnection } from "./redis.js";
export { buildEvent, appendToOutbox, type SqlTx, type EventFields } from "./outbox.js";
export { OutboxRelay, type RelayOptions } from "./relay.js";
export { createEventConsumer, consumeEvent, assertHandlersMatchRoutes, type EventHandler, type EventConsumerOptions, type ConsumeOutcome } from "./consumer.js";
export { listDeadLetters, replayDeadLetters, isFinalFailure, type DeadLetter } from "./dead-letter.js";
export { createJobQueue, createJobWorker, upsertDailySchedule, type JobWorkerOptions } from "./jobs.js";
export { gracefulShutdown, type Closer } from "./shutdown.js";
export { eventJobOptions } from "./defaults.js";
export type { MessagingLogger } from "./logger.js";
