export { createRedisConnection } from "./redis.js";
export { buildEvent, appendToOutbox, OUTBOX_CHANNEL, type SqlTx, type EventFields } from "./outbox.js";
export { OutboxRelay, type RelayOptions } from "./relay.js";
export { createEventConsumer, consumeEvent, assertHandlersMatchRoutes, type EventHandler, type EventConsumerOptions, type ConsumeOutcome } from "./consumer.js";
export { listDeadLetters, replayDeadLetters, isFinalFailure, type DeadLetter, type DeadLetterOptions } from "./dead-letter.js";
export { createJobQueue, createJobWorker, upsertDailySchedule, backgroundJobOptions, type JobWorkerOptions } from "./jobs.js";
export { gracefulShutdown, toCloser, type Closer, type Closable, type ShutdownOptions } from "./shutdown.js";
export { eventJobOptions } from "./defaults.js";
export { silentLogger, type MessagingLogger } from "./logger.js";
