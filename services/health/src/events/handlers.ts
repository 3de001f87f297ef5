import type { EventHandler, EventHandlers } from "@shouhu/messaging";
import type { Tx } from "../data/db.js";
import { applyChild, endMentor, startMentor } from "../data/projections.js";

type Consumed = "child.registered" | "child.updated" | "child.status-changed" | "pairing.started" | "pairing.ended" | "snapshot.requested";

/** Registry events say who is in scope for check-ups; pairing events who follows findings up. */
export function healthHandlers(
  deps: { requestSnapshot?: (runId: string, county: string) => Promise<unknown> } = {},
): Required<Pick<EventHandlers<Tx>, Consumed>> {
  const child: EventHandler<Tx, "child.registered" | "child.updated" | "child.status-changed"> = async (event, tx) => applyChild(tx, event.data.child);
  return {
    "child.registered": child,
    "child.updated": child,
    "child.status-changed": child,
    "pairing.started": async (event, tx) => startMentor(tx, event.data, event.occurredAt),
    "pairing.ended": async (event, tx) => endMentor(tx, event.data),
    // A rebuild (reporting) asks for this county's exams: queued as a job (jobs/snapshot.ts).
    "snapshot.requested": async (event) => {
      const d = event.data;
      if (!d.producers.includes("health")) return;
      if (!deps.requestSnapshot) throw new Error("snapshot.requested: no snapshot queue wired");
      await deps.requestSnapshot(d.runId, d.county);
    },
  };
}
