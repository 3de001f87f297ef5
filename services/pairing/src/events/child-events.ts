import { todayInChina } from "@shouhu/cn";
import type { EventHandler, EventHandlers } from "@shouhu/messaging";
import type { Tx } from "../data/db.js";
import { applyChildSnapshot } from "../data/children.js";

/**
 * Registry events keep the local child projection current and drive pairings:
 * a registration queues matching, an exit ends pairings, a move re-pairs.
 * Each runs in the consumer's transaction with the inbox row (exactly-once effect).
 */
export function childEventHandlers(
  now: () => Date = () => new Date(),
  deps: { requestSnapshot?: (runId: string, county: string) => Promise<unknown> } = {},
): Required<Pick<EventHandlers<Tx>, "child.registered" | "child.updated" | "child.status-changed" | "snapshot.requested">> {
  const apply: EventHandler<Tx, "child.registered" | "child.updated" | "child.status-changed"> = async (event, tx) => {
    await applyChildSnapshot(tx, event.data.child, event.actor, todayInChina(now()));
  };
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
