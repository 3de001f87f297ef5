import { todayInChina } from "@shouhu/cn";
import type { EventHandler, EventHandlers } from "@shouhu/messaging";
import type { Tx } from "../data/db.js";
import { applyChildSnapshot } from "../data/children.js";
import { endAssignment, startAssignment } from "../data/assignments.js";
import { applyOrgUnitNames } from "../data/org-units.js";

type Consumed =
  "child.registered" | "child.updated" | "child.status-changed" | "pairing.started" | "pairing.ended" | "snapshot.org-units" | "snapshot.requested";

/** Queues a county's snapshot for a rebuild; the job id is the run's, so a redelivered request is the same job. */
export type RequestSnapshot = (runId: string, county: string) => Promise<unknown>;

/**
 * Registry events keep the child projection and its items; pairing events say
 * who is responsible. Each runs in the consumer's transaction with the inbox row.
 */
export function visitEventHandlers(
  now: () => Date = () => new Date(),
  deps: { requestSnapshot?: RequestSnapshot } = {},
): Required<Pick<EventHandlers<Tx>, Consumed>> {
  const child: EventHandler<Tx, "child.registered" | "child.updated" | "child.status-changed"> = async (event, tx) => {
    const { child: snapshot } = event.data;
    const at = now();
    // The child's `since` is the day the registry acted, not the day this worker got round to it.
    await applyChildSnapshot(tx, snapshot, todayInChina(at), at, todayInChina(new Date(event.occurredAt)));
  };
  return {
    "child.registered": child,
    "child.updated": child,
    "child.status-changed": child,
    "pairing.started": async (event, tx) => {
      const at = now();
      await startAssignment(tx, event.data, event.occurredAt, todayInChina(at), at);
    },
    "pairing.ended": async (event, tx) => endAssignment(tx, event.data),
    "snapshot.org-units": async (event, tx) => applyOrgUnitNames(tx, event.data),
    // A rebuild asks for this county's items, records and concerns.
    "snapshot.requested": async (event) => {
      const d = event.data;
      if (!d.producers.includes("visits")) return;
      if (!deps.requestSnapshot) throw new Error("snapshot.requested: no snapshot queue wired");
      await deps.requestSnapshot(d.runId, d.county);
    },
  };
}
