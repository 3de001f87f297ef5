import type { ChildSnapshot } from "@shouhu/contracts";
import { deferred, rounds, type EventHandler, type EventHandlers, type SqlTx } from "@shouhu/messaging";
import { applyChildren, endMentor, startMentor } from "../data/projections.js";

type Consumed = "child.registered" | "child.updated" | "child.status-changed" | "pairing.started" | "pairing.ended" | "snapshot.requested";

/**
 * A consumer batch's child events, applied together: one upsert per round (a child's
 * second event in the batch goes in the next round, after its first).
 */
const childBatch = deferred<SqlTx, ChildSnapshot>(async (tx, children) => {
  for (const round of rounds(children, (c) => c.id.toLowerCase())) await applyChildren(tx, round);
});

/** Runs a consumer batch's handlers with its child events applied together (the service's `runInTransaction`). */
export const inChildBatch = <T>(tx: SqlTx, fn: (tx: SqlTx) => Promise<T>): Promise<T> => childBatch.inBatch(tx, fn);

/** Registry events say who is in scope for check-ups; pairing events who follows findings up. */
export function healthHandlers(
  deps: { requestSnapshot?: (runId: string, county: string) => Promise<unknown> } = {},
): Required<Pick<EventHandlers<SqlTx>, Consumed>> {
  const child: EventHandler<SqlTx, "child.registered" | "child.updated" | "child.status-changed"> = async (event, tx) => childBatch.defer(tx, event.data.child);
  return {
    "child.registered": child,
    "child.updated": child,
    "child.status-changed": child,
    // The batch's earlier child events first: a child who left must have closed findings before a hand-over looks at them.
    "pairing.started": async (event, tx) => {
      await childBatch.flush(tx);
      await startMentor(tx, event.data, event.occurredAt);
    },
    "pairing.ended": async (event, tx) => {
      await childBatch.flush(tx);
      await endMentor(tx, event.data);
    },
    // A rebuild (reporting) asks for this county's exams: queued as a job (jobs/snapshot.ts).
    "snapshot.requested": async (event) => {
      const d = event.data;
      if (!d.producers.includes("health")) return;
      if (!deps.requestSnapshot) throw new Error("snapshot.requested: no snapshot queue wired");
      await deps.requestSnapshot(d.runId, d.county);
    },
  };
}
