import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job, type WorkerOptions } from "bullmq";
import { isDependencyUnavailable } from "@shouhu/kit/unavailable";
import { eventsQueue, parseEnvelope, subscriptions, type Envelope, type EventType } from "@shouhu/contracts";
import { deadLetterOnFinalFailure, openDeadLetterQueue, withDeadLetters } from "./dead-letter.js";
import { silentLogger, type MessagingLogger } from "./logger.js";
import type { SqlTx } from "./outbox.js";

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
}

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
  // parseEnvelope checked `data` against `type`'s schema; TypeScript cannot correlate the two through the lookup.
  const handler = handlers[event.type] as EventHandler<Tx> | undefined;
  if (!handler) throw new UnrecoverableError(`no handler for ${event.type}`);
  return runInTransaction(async (tx) => {
    const inserted = await tx.$executeRawUnsafe("INSERT INTO inbox (event_id, type) VALUES ($1::uuid, $2) ON CONFLICT DO NOTHING", event.id, event.type);
    if (inserted === 0) return "duplicate" as const;
    await handler(event, tx);
    return "applied" as const;
  });
}

export function createEventConsumer<Tx extends SqlTx>(options: EventConsumerOptions<Tx>): Worker {
  const routes = options.routes ?? subscriptions;
  assertHandlersMatchRoutes(options.service, options.handlers, routes);
  const logger = options.logger ?? silentLogger;
  const queue = eventsQueue(options.service);
  const dead = openDeadLetterQueue(queue, options, logger);
  const tracer = trace.getTracer("shouhu-messaging");

  const processEvent = async (job: Job, token?: string): Promise<ConsumeOutcome> => {
    try {
      return await processTraced(job);
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
    const traceparent = (job.data as { traceparent?: unknown } | null)?.traceparent;
    const parent = typeof traceparent === "string" ? propagation.extract(context.active(), { traceparent }) : context.active();
    return context.with(parent, () =>
      tracer.startActiveSpan(
        `${queue} process ${job.name}`,
        { kind: SpanKind.CONSUMER, attributes: { "messaging.system": "bullmq", "messaging.destination.name": queue, "messaging.message.id": job.id ?? "" } },
        async (span) => {
          try {
            const outcome = await consumeEvent(job.data, options.handlers, options.runInTransaction);
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

  const worker = new Worker(queue, withDeadLetters(processEvent, dead, logger), {
    ...EVENT_WORKER_LOCKS,
    ...options.workerOptions,
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 8,
  });
  worker.on("error", (err) => logger.error({ err, queue }, "worker error"));
  worker.on("failed", deadLetterOnFinalFailure(dead, logger, queue));
  worker.on("stalled", (jobId) => logger.warn({ queue, jobId }, "job stalled; redelivering"));
  worker.on("closed", () => void dead.close());
  return worker;
}
