import type { ChildSnapshot } from "@shouhu/contracts";
import { deferred, rounds, type EventHandler, type EventHandlers, type SqlTx } from "@shouhu/messaging";
import { applyChildren } from "../data/children.js";
import { applyOrgUnitNames } from "../data/org-units.js";
import { publishActivitiesSnapshot } from "../data/snapshot.js";

type Consumed = "child.registered" | "child.updated" | "child.status-changed" | "snapshot.org-units" | "snapshot.requested";

/** A consumer batch's child events, applied together: one upsert per round (a child's second event goes in the next round). */
const childBatch = deferred<SqlTx, ChildSnapshot>(async (tx, children) => {
  for (const round of rounds(children, (c) => c.id.toLowerCase())) await applyChildren(tx, round);
});

/** Runs a consumer batch's handlers with its child events applied together (the service's `runInTransaction`). */
export const inChildBatch = <T>(tx: SqlTx, fn: (tx: SqlTx) => Promise<T>): Promise<T> => childBatch.inBatch(tx, fn);

/** Registry events say which children a site may serve and a campaign must reach; the org-unit snapshot names places. */
export function activityHandlers(): Required<Pick<EventHandlers<SqlTx>, Consumed>> {
  const child: EventHandler<SqlTx, "child.registered" | "child.updated" | "child.status-changed"> = async (event, tx) => childBatch.defer(tx, event.data.child);
  return {
    "child.registered": child,
    "child.updated": child,
    "child.status-changed": child,
    "snapshot.org-units": async (event, tx) => {
      await childBatch.flush(tx);
      await applyOrgUnitNames(tx, event.data);
    },
    // A reporting rebuild: the county's sessions again, so its activity counts survive a lost event too.
    "snapshot.requested": async (event, tx) => {
      if (event.data.producers.includes("activities")) await publishActivitiesSnapshot(tx, event.data);
    },
  };
}
