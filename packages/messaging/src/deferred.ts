import type { EventType } from "@shouhu/contracts";

/**
 * Work of one kind that a consumer batch applies together, by a few set statements,
 * instead of a few statements per event (a 10,000-child import is 10,000 child events
 * in every projection). Handlers `defer` their item; any other handler of the batch
 * `flush`es first, and `inBatch` flushes before the commit, so the effects keep the
 * events' order. Outside a batch (a single event, a test's plain transaction) an item
 * is applied at once, through the same set statements.
 */
export interface Deferred<Tx extends object, T> {
  /** Runs a consumer batch's handlers on `tx` with deferral on; what is still queued is applied before it returns. */
  inBatch<R>(tx: Tx, fn: (tx: Tx) => Promise<R>): Promise<R>;
  /** Queues the item in `tx`'s batch, or applies it now when `tx` is not a batch's. */
  defer(tx: Tx, item: T): Promise<void>;
  /** Applies what `tx`'s batch has queued. */
  flush(tx: Tx): Promise<void>;
}

export function deferred<Tx extends object, T>(apply: (tx: Tx, items: T[]) => Promise<void>): Deferred<Tx, T> {
  const queued = new WeakMap<object, T[]>();
  const flush = async (tx: Tx) => {
    const items = queued.get(tx);
    if (!items?.length) return;
    queued.set(tx, []);
    await apply(tx, items);
  };
  return {
    async inBatch(tx, fn) {
      queued.set(tx, []);
      try {
        const result = await fn(tx);
        await flush(tx);
        return result;
      } finally {
        queued.delete(tx);
      }
    },
    async defer(tx, item) {
      const items = queued.get(tx);
      if (items) items.push(item);
      else await apply(tx, [item]);
    },
    flush,
  };
}

/**
 * Splits items into rounds holding at most one item per key, each key's items in their
 * order across the rounds: a multi-row upsert cannot touch a row twice, and one child's
 * second event must see its first one's effects.
 */
export function rounds<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const out: T[][] = [];
  const seen = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    const n = seen.get(k) ?? 0;
    seen.set(k, n + 1);
    (out[n] ??= []).push(item);
  }
  return out;
}

/**
 * The handlers, each of a type not in `deferredTypes` flushing first: the effects of a
 * batch's deferred events come before those of any later event, whatever its type.
 */
export function flushingFirst<Tx extends object, H extends Partial<Record<EventType, ((event: never, tx: Tx) => Promise<void>) | undefined>>>(
  handlers: H,
  flush: (tx: Tx) => Promise<void>,
  deferredTypes: readonly EventType[],
): H {
  const wrapped: Record<string, unknown> = {};
  for (const [type, handler] of Object.entries(handlers)) {
    wrapped[type] =
      !handler || deferredTypes.includes(type as EventType)
        ? handler
        : async (event: never, tx: Tx) => {
            await flush(tx);
            await handler(event, tx);
          };
  }
  return wrapped as H;
}
