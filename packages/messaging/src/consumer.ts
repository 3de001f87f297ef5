import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions, type Job, type WorkerOptions } from "bullmq";
import { isDependencyUnavailable } from "@shouhu/kit/unavailable";
import { deadLetterQueue, eventsQueue, parseEnvelope, subscriptions, type Envelope, type EventType } from "@shouhu/contracts";
import { deadLetterOnFinalFailure, openDeadLetterQueue, withDeadLetters } from "./dead-letter.js";
import { silentLogger, type MessagingLogger } from "./logger.js";
import type { SqlTx } from "./outbox.js";
import { consumerBatchSize, consumerLag, watchQueue } from "./metrics.js";
import { isBatchJob } from "./batch-job.js";
import { eventJobOptions } from "./defaults.js";

/** A handler of one event type: its envelope's `data` is that type's payload from contracts, so producers and consumers are checked by the compiler. */
export type EventHandler<Tx extends SqlTx, T extends EventType = EventType> = (event: Envelope<T>, tx: Tx) => Promise<void>;
/** A service's handlers, keyed by event type. */
export type EventHandlers<Tx extends SqlTx> = { [T in EventType]?: EventHandler<Tx, T> };

export interface EventConsumerOptions<Tx extends SqlTx> {
  service: string;
  connection: ConnectionOptions;
  prefix?: string;
  handlers: EventHandlers<Tx>;
  /** Runs the handler and the inbox insert in one transaction (e.g. `prisma.$transaction`). */
  runInTransaction: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>;
  concurrency?: number;
  logger?: MessagingLogger;
  /** Routing table; defaults to the one in contracts. */
  routes?: Partial<Record<EventType, readonly string[]>>;
  /** Passed to the BullMQ Worker (lockDuration, stalledInterval, maxStalledCount...). */
  workerOptions?: Partial<Omit<WorkerOptions, "connection" | "prefix" | "concurrency">>;
  /**
   * Events applied per transaction (default 50) and how long a partial batch waits for
   * more (default 5 ms). One event per transaction spent most of a consumer's time on
   * commits: a 10,000-child import reached the read models minutes after it finished.
   */
  batch?: { size?: number; waitMs?: number };
  /**
   * Runs once per batch, in its transaction, before the handlers, with the batch's new
   * events: lets a projection load what its handlers will read in a few set queries
   * instead of a few queries per event.
   */
  prepare?: BatchPrepare<Tx>;
}

export type BatchPrepare<Tx extends SqlTx> = (events: Envelope[], tx: Tx) => Promise<void>;

export type ConsumeOutcome = "applied" | "duplicate";

/**
 * Locks of event consumers. A killed consumer's in-flight events come back once the lock
 * expires (lockDuration) and a worker's stall check (every stalledInterval) sees it:
 * at most 10 + 5 s, then the next worker runs them (BullMQ's defaults, 30 s + 30 s, took
 * ~76 s). An event handler is one short transaction, so a live worker renews its lock
 * (every lockDuration / 2) long before 10 s even on a busy 2-core machine; a handler
 * blocked past that would be redelivered, which the inbox makes harmless.
 */
export const EVENT_WORKER_LOCKS = { lockDuration: 10_000, stalledInterval: 5_000 } as const;

/**
 * Prisma interactive-transaction bounds for a consumer's batch: its default 5 s was
 * made for one request's few statements; a batch of 50 events on a loaded machine can
 * take longer, and an expired transaction would only be retried whole.
 */
export const CONSUMER_TRANSACTION = { maxWait: 10_000, timeout: 60_000 } as const;

/** How long an event waits while its database is unreachable before it is tried again. */
const DEPENDENCY_RETRY_MS = 2_000;

/** Like Immich: a service that is routed an event it cannot handle must not start. */
export function assertHandlersMatchRoutes(service: string, handlers: Record<string, unknown>, routes: Partial<Record<EventType, readonly string[]>>): void {
  const routed = Object.entries(routes)
    .filter(([, services]) => services?.includes(service))
    .map(([type]) => type);
  const missing = routed.filter((type) => typeof handlers[type] !== "function");
  const extra = Object.keys(handlers).filter((type) => handlers[type] !== undefined && !routed.includes(type));
  if (missing.length || extra.length) {
    throw new Error(
      `event handlers for ${service} do not match the routing table:` +
        (missing.length ? ` missing handlers for ${missing.join(", ")};` : "") +
        (extra.length ? ` handlers for events never routed here: ${extra.join(", ")}` : ""),
    );
  }
}

/**
 * Applies one event exactly once: the inbox row and the handler's effect commit
 * together, so a redelivered event (relay retry, stalled job, replay) is a no-op.
 */
export async function consumeEvent<Tx extends SqlTx>(
  raw: unknown,
  handlers: EventHandlers<Tx>,
  runInTransaction: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>,
): Promise<ConsumeOutcome> {
  let event: Envelope;
  try {
    event = parseEnvelope(raw);
  } catch (err) {
    throw new UnrecoverableError(`invalid event: ${(err as Error).message}`);
  }
  // One event is a batch of one: the same inbox insert and handler call as a batch.
  const [outcome] = await consumeEvents([event], handlers, runInTransaction);
  return outcome!;
}

/**
 * Applies several events in ONE transaction, each exactly once: their inbox rows go in
 * with one multi-row insert, and the handlers of the new ones run in order. Throws if
 * any handler throws (nothing is committed); the caller then applies them one by one.
 * `around` runs each handler in its own context (the producer's trace).
 */
export async function consumeEvents<Tx extends SqlTx>(
  events: Envelope[],
  handlers: EventHandlers<Tx>,
  runInTransaction: <T>(fn: (tx: Tx) => Promise<T>) => Promise<T>,
  around: (index: number, apply: () => Promise<void>) => Promise<void> = (_i, apply) => apply(),
  prepare?: BatchPrepare<Tx>,
): Promise<ConsumeOutcome[]> {
  const lookup = events.map((event) => {
    const handler = handlers[event.type] as EventHandler<Tx> | undefined;
    if (!handler) throw new UnrecoverableError(`no handler for ${event.type}`);
    return handler;
  });
  return runInTransaction(async (tx) => {
    const inserted = await tx.$queryRawUnsafe<{ event_id: string }[]>(
      "INSERT INTO inbox (event_id, type) SELECT * FROM unnest($1::uuid[], $2::text[]) ON CONFLICT DO NOTHING RETURNING event_id::text",
      events.map((e) => e.id),
      events.map((e) => e.type),
    );
    const fresh = new Set(inserted.map((r) => r.event_id));
    if (prepare && fresh.size > 0)
      await prepare(
        events.filter((e) => fresh.has(e.id.toLowerCase())),
        tx,
      );
    const outcomes: ConsumeOutcome[] = [];
    for (const [i, event] of events.entries()) {
      // `delete`: the same event twice in one batch (a redelivery beside the original) applies once.
      if (!fresh.delete(event.id.toLowerCase())) {
        outcomes.push("duplicate");
        continue;
      }
      await around(i, () => lookup[i]!(event, tx));
      outcomes.push("applied");
    }
    return outcomes;
  });
}

interface Pending {
  event: Envelope;
  context: ReturnType<typeof context.active>;
  resolve: (outcome: ConsumeOutcome) => void;
  reject: (err: unknown) => void;
}

type Entry = Pick<Pending, "event" | "context">;

/**
 * Gathers the events BullMQ hands the worker concurrently into batches of `size` (or
 * what arrived within `waitMs`) and applies each batch in one transaction, one batch at
 * a time so events keep the order they were taken in. The events of one batch job come
 * in together and go into one transaction whatever their number. A batch that fails is
 * applied again event by event, so one bad event fails alone and the rest go through.
 */
function eventBatcher<Tx extends SqlTx>(options: EventConsumerOptions<Tx>, queue: string, size: number, waitMs: number) {
  let pending: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let chain: Promise<void> = Promise.resolve();
  const inContext = (entry: Pending, apply: () => Promise<void>) => context.with(entry.context, apply);
  const settle = (entry: Pending, outcome: ConsumeOutcome) => {
    if (outcome === "applied") consumerLag.observe({ queue, type: entry.event.type }, Math.max(0, Date.now() - Date.parse(entry.event.occurredAt)) / 1000);
    entry.resolve(outcome);
  };

  const applyBatch = async (batch: Pending[]) => {
    try {
      const outcomes = await consumeEvents(
        batch.map((b) => b.event),
        options.handlers,
        options.runInTransaction,
        (i, apply) => inContext(batch[i]!, apply),
        options.prepare,
      );
      consumerBatchSize.observe({ queue }, batch.length);
      batch.forEach((b, i) => settle(b, outcomes[i]!));
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      for (const b of batch) {
        await consumeEvents([b.event], options.handlers, options.runInTransaction, (_i, apply) => inContext(b, apply), options.prepare).then(
          ([outcome]) => settle(b, outcome!),
          b.reject,
        );
      }
    }
  };
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length) chain = chain.then(() => applyBatch(batch));
  };
  /** Queues the entries together (never split between two batches); one promise per entry. */
  return (entries: Entry[]): Promise<ConsumeOutcome>[] => {
    const promises = entries.map((entry) => new Promise<ConsumeOutcome>((resolve, reject) => pending.push({ ...entry, resolve, reject })));
    if (pending.length >= size) flush();
    else if (pending.length) timer ??= setTimeout(flush, waitMs);
    return promises;
  };
}

/** The context a handler runs in: the producer's request, so one request is one trace across services. */
function producerContext(traceparent: unknown) {
  return typeof traceparent === "string" ? propagation.extract(context.active(), { traceparent }) : context.active();
}

/** What a batch job returns: how many of its events applied, were already applied, or failed and went on as jobs of their own. */
export interface BatchOutcome {
  applied: number;
  duplicate: number;
  retried: number;
}

export function createEventConsumer<Tx extends SqlTx>(options: EventConsumerOptions<Tx>): Worker {
  const routes = options.routes ?? subscriptions;
  assertHandlersMatchRoutes(options.service, options.handlers, routes);
  const logger = options.logger ?? silentLogger;
  const queue = eventsQueue(options.service);
  const dead = openDeadLetterQueue(queue, options, logger);
  const tracer = trace.getTracer("shouhu-messaging");
  const batchSize = Math.max(1, options.batch?.size ?? 50);
  const apply = eventBatcher(options, queue, batchSize, options.batch?.waitMs ?? 5);
  // For a batch job's events that failed: each goes on as a job of its own (see processBatch).
  let own: Queue | undefined;
  const ownQueue = () => {
    if (!own) {
      own = new Queue(queue, { connection: options.connection, prefix: options.prefix });
      own.on("error", (err) => logger.error({ err, queue }, "queue error"));
    }
    return own;
  };
  watchQueue(queue, options.connection, options.prefix);
  watchQueue(deadLetterQueue(queue), options.connection, options.prefix);

  const processEvent = async (job: Job, token?: string): Promise<ConsumeOutcome | BatchOutcome> => {
    try {
      return isBatchJob(job) ? await processBatch(job) : await processTraced(job);
    } catch (err) {
      // PostgreSQL down or restarting: not the event's fault. Wait and try again without
      // spending one of its attempts, so an outage of any length dead-letters nothing.
      if (token && isDependencyUnavailable(err)) {
        logger.warn({ err, queue, jobId: job.id }, "database unavailable; event postponed");
        await job.moveToDelayed(Date.now() + DEPENDENCY_RETRY_MS, token);
        throw new DelayedError();
      }
      throw err;
    }
  };

  const processTraced = async (job: Job): Promise<ConsumeOutcome> => {
    // The producer's request context, so one request is one trace across services.
    const parent = producerContext((job.data as { traceparent?: unknown } | null)?.traceparent);
    return context.with(parent, () =>
      tracer.startActiveSpan(
        `${queue} process ${job.name}`,
        { kind: SpanKind.CONSUMER, attributes: { "messaging.system": "bullmq", "messaging.destination.name": queue, "messaging.message.id": job.id ?? "" } },
        async (span) => {
          try {
            let event: Envelope;
            try {
              event = parseEnvelope(job.data);
            } catch (err) {
              throw new UnrecoverableError(`invalid event: ${(err as Error).message}`);
            }
            if (!options.handlers[event.type]) throw new UnrecoverableError(`no handler for ${event.type}`);
            const outcome = await apply([{ event, context: context.active() }])[0]!;
            span.setAttribute("shouhu.outcome", outcome);
            return outcome;
          } catch (err) {
            span.recordException(err as Error);
            span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
            throw err;
          } finally {
            span.end();
          }
        },
      ),
    );
  };

  /**
   * A batch job (the relay's: one per outbox batch): its events go to the batcher together,
   * so they are applied in one transaction, in the order the job holds them (one child's
   * events keep the producer's order). An event that fails (invalid, no handler, or its
   * handler threw even alone) does not fail the others: it goes back on this queue as a
   * job of its own under its event id, with the usual retries, and from there to the dead
   * letters as any single event would; the batch job completes. The database being down
   * is not the events' fault: the whole job is postponed (the applied ones are in the inbox).
   */
  const processBatch = async (job: Job): Promise<BatchOutcome> => {
    const raws = (job.data as { events?: unknown } | null)?.events;
    if (!Array.isArray(raws)) throw new UnrecoverableError("invalid batch job: no events");
    return tracer.startActiveSpan(
      `${queue} process ${job.name}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          "messaging.system": "bullmq",
          "messaging.destination.name": queue,
          "messaging.message.id": job.id ?? "",
          "messaging.batch.message_count": raws.length,
        },
      },
      async (span) => {
        try {
          const failed: { raw: unknown; index: number; event?: Envelope; err: unknown }[] = [];
          const valid: { index: number; event: Envelope }[] = [];
          raws.forEach((raw, index) => {
            try {
              const event = parseEnvelope(raw);
              if (!options.handlers[event.type]) throw new UnrecoverableError(`no handler for ${event.type}`);
              valid.push({ index, event });
            } catch (err) {
              failed.push({ raw, index, err });
            }
          });
          const settled = await Promise.allSettled(apply(valid.map(({ event }) => ({ event, context: producerContext(event.traceparent) }))));
          const outcome: BatchOutcome = { applied: 0, duplicate: 0, retried: 0 };
          settled.forEach((s, i) => {
            if (s.status === "fulfilled") outcome[s.value] += 1;
            else failed.push({ raw: raws[valid[i]!.index], index: valid[i]!.index, event: valid[i]!.event, err: s.reason });
          });
          const unavailable = failed.find((f) => isDependencyUnavailable(f.err));
          if (unavailable) throw unavailable.err;
          if (failed.length) {
            failed.sort((a, b) => a.index - b.index);
            await ownQueue().addBulk(
              failed.map((f) => ({
                name: f.event?.type ?? "invalid",
                data: f.raw,
                opts: {
                  ...eventJobOptions,
                  ...(job.opts.attempts ? { attempts: job.opts.attempts } : {}),
                  ...(job.opts.backoff ? { backoff: job.opts.backoff } : {}),
                  // As a first retry's backoff: a transient failure has a moment to pass.
                  delay: 1000,
                  jobId: f.event?.id ?? `${job.id}-${f.index}`,
                },
              })),
            );
            for (const f of failed)
              logger.warn({ err: f.err, queue, jobId: job.id, eventId: f.event?.id }, "event of a batch job failed; retried as a job of its own");
            outcome.retried = failed.length;
          }
          span.setAttribute("shouhu.applied", outcome.applied);
          return outcome;
        } catch (err) {
          span.recordException(err as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  };

  const worker = new Worker(queue, withDeadLetters(processEvent, dead, logger), {
    ...EVENT_WORKER_LOCKS,
    ...options.workerOptions,
    connection: options.connection,
    prefix: options.prefix,
    // Enough jobs in hand to fill a batch while the previous one commits.
    concurrency: options.concurrency ?? batchSize * 2,
  });
  worker.on("error", (err) => logger.error({ err, queue }, "worker error"));
  worker.on("failed", deadLetterOnFinalFailure(dead, logger, queue));
  worker.on("stalled", (jobId) => logger.warn({ queue, jobId }, "job stalled; redelivering"));
  worker.on("closed", () => {
    void dead.close();
    void own?.close();
  });
  return worker;
}
