import { context, propagation } from "@opentelemetry/api";
import { eventSchemas, newEventId, type Actor, type Envelope, type EventData, type EventType } from "@shouhu/contracts";

/** What a Prisma interactive-transaction client offers; also easy to implement over `pg`. */
export interface SqlTx {
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
}

export interface EventFields<T extends EventType> {
  subject: string;
  orgUnit: string;
  actor: Actor;
  data: EventData<T>;
  /** Defaults to the active trace context, so one request is one trace across services. */
  traceparent?: string;
}

function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** A validated envelope: a payload that does not match its contract fails here, in the producer. */
export function buildEvent<T extends EventType>(type: T, fields: EventFields<T>, options: { producer: string; now?: Date }): Envelope<T> {
  const schema = eventSchemas[type];
  const data = schema.data.parse(fields.data) as EventData<T>;
  const traceparent = fields.traceparent ?? activeTraceparent();
  return {
    id: newEventId(),
    type,
    version: schema.version,
    occurredAt: (options.now ?? new Date()).toISOString(),
    producer: options.producer,
    subject: fields.subject,
    orgUnit: fields.orgUnit,
    actor: fields.actor,
    ...(traceparent ? { traceparent } : {}),
    data,
  };
}

/** The channel relays LISTEN on; notifications are delivered only when the transaction commits. */
export const OUTBOX_CHANNEL = "outbox";

/**
 * Writes events to the outbox inside the caller's transaction, so they commit
 * or roll back with the state change they describe. One statement for any count;
 * it also notifies listening relays, which PostgreSQL delivers at commit (and
 * never on rollback), so events go out without waiting for the next poll.
 *
 * Parameters are typed by casts (`$1::uuid[]`, `$5::text[]::jsonb[]`) rather than
 * left to the driver: pg (and Prisma's adapter-pg, which hands values to pg)
 * sends JS arrays as text arrays, and the envelope as JSON text.
 */
export async function appendToOutbox(tx: SqlTx, events: Envelope[]): Promise<number> {
  if (events.length === 0) return 0;
  // One JSON document for the batch: pg would otherwise escape every quote of
  // every envelope into an array literal (the cost of a 1,000-row import batch).
  return tx.$executeRawUnsafe(
    `WITH notify AS (SELECT pg_notify('${OUTBOX_CHANNEL}', ''))
     INSERT INTO outbox (id, type, subject, org_unit, envelope)
     SELECT (e->>'id')::uuid, e->>'type', e->>'subject', e->>'orgUnit', e FROM jsonb_array_elements($1::jsonb) AS e
     CROSS JOIN notify`,
    JSON.stringify(events),
  );
}
