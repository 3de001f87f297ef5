import { todayInChina } from "@shouhu/cn";
import { deferred, rounds, type EventHandler, type EventHandlers, type SqlTx } from "@shouhu/messaging";
import { applyChildSnapshots, type ChildChange } from "../data/children.js";

/**
 * A consumer batch's child events, applied together: one pass per round (a child's
 * second event in the batch goes in the next round, after its first).
 */
const childBatch = deferred<SqlTx, ChildChange>(async (tx, changes) => {
  for (const round of rounds(changes, (c) => c.child.id.toLowerCase())) await applyChildSnapshots(tx, round);
});

/** Runs a consumer batch's handlers with its child events applied together (the service's `runInTransaction`). */
export const inChildBatch = <T>(tx: SqlTx, fn: (tx: SqlTx) => Promise<T>): Promise<T> => childBatch.inBatch(tx, fn);

/**
 * Registry events keep the local child projection current and drive pairings:
 * a registration queues matching, an exit ends pairings, a move re-pairs.
 * Each runs in the consumer's transaction with the inbox row (exactly-once effect);
 * a batch's child events are applied together.
 */
export function childEventHandlers(
  now: () => Date = () => new Date(),
  deps: { requestSnapshot?: (runId: string, county: string) => Promise<unknown> } = {},
): Required<Pick<EventHandlers<SqlTx>, "child.registered" | "child.updated" | "child.status-changed" | "snapshot.requested">> {
  const apply: EventHandler<SqlTx, "child.registered" | "child.updated" | "child.status-changed"> = async (event, tx) =>
    childBatch.defer(tx, { child: event.data.child, actor: event.actor, today: todayInChina(now()) });
  return {
    "child.registered": apply,
    "child.updated": apply,
    "child.status-changed": apply,
    // A rebuild (reporting) asks for this county's active pairings: queued as a job (jobs/snapshot.ts).
    "snapshot.requested": async (event) => {
      const d = event.data;
      if (!d.producers.includes("pairing")) return;
      if (!deps.requestSnapshot) throw new Error("snapshot.requested: no snapshot queue wired");
      await deps.requestSnapshot(d.runId, d.county);
    },
  };
}
