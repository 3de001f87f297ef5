import type { EventHandlers } from "@shouhu/messaging";
import type { Tx } from "../data/db.js";
import { endPairing, startPairing } from "../data/pairings.js";
import { growthEventHandlers } from "./growth-events.js";

type Consumed =
  | "pairing.started"
  | "pairing.ended"
  | "snapshot.requested"
  | "visit.recorded"
  | "activity.recorded"
  | "checkup.recorded"
  | "snapshot.visit-record"
  | "snapshot.activity";

/** Queues a county's snapshot for a rebuild; the job id is the run's, so a redelivered request is the same job. */
export type RequestSnapshot = (runId: string, county: string) => Promise<unknown>;

/**
 * Pairing events tell the registry who is paired with each child: the contact card's helper, teachers' scope.
 * A rebuild's snapshot.requested queues the registry's snapshot of that county. Visits, activities and
 * check-ups feed the handover pack's projection (growth-events.ts).
 */
export function registryEventHandlers(deps: { requestSnapshot?: RequestSnapshot } = {}): Required<Pick<EventHandlers<Tx>, Consumed>> {
  return {
    "snapshot.requested": async (event) => {
      const d = event.data;
      if (!d.producers.includes("registry")) return;
      if (!deps.requestSnapshot) throw new Error("snapshot.requested: no snapshot queue wired");
      await deps.requestSnapshot(d.runId, d.county);
    },
    "pairing.started": async (event, tx) => startPairing(tx, event.data, event.occurredAt),
    "pairing.ended": async (event, tx) => endPairing(tx, event.data),
    ...growthEventHandlers(),
  };
}
