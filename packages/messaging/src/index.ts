export { createRedisConnection } from "./redis.js";
export { buildEvent, appendToOutbox, OUTBOX_CHANNEL, type SqlTx, type EventFields } from "./outbox.js";
export { OutboxRelay, batchJobId, type RelayOptions } from "./relay.js";
export {
  EVENT_WORKER_LOCKS,
  createEventConsumer,
  consumeEvent,
  consumeEvents,
  CONSUMER_TRANSACTION,
  assertHandlersMatchRoutes,
  type EventHandler,
  type EventHandlers,
  type EventConsumerOptions,
  type ConsumeOutcome,
  type BatchOutcome,
  type BatchPrepare,
} from "./consumer.js";
export { listDeadLetters, replayDeadLetters, isFinalFailure, type DeadLetter, type DeadLetterOptions } from "./dead-letter.js";
export { JOB_WORKER_LOCKS, createJobQueue, createJobWorker, upsertDailySchedule, backgroundJobOptions, type JobWorkerOptions } from "./jobs.js";
export { gracefulShutdown, toCloser, type Closer, type Closable, type ShutdownOptions } from "./shutdown.js";
export { eventJobOptions } from "./defaults.js";
export { silentLogger, type MessagingLogger } from "./logger.js";
export { inPgTransaction, sqlOn } from "./pg-transaction.js";
export { lockChildPairings, rememberEndedPairing } from "./pairing-order.js";
export { helperEnded, helperStarted, type HelperProjection } from "./helper-projection.js";
export { upsertChildren, type ChildProjection } from "./child-projection.js";
export { closeWatchedQueues, watchOutbox, watchQueue } from "./metrics.js";
export { deferred, flushingFirst, rounds, type Deferred } from "./deferred.js";
export { BATCH_JOB, eventsOfJob, isBatchJob, type BatchJobData } from "./batch-job.js";
