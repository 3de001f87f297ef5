import type { ChildSnapshot, EventData, EventType } from "@shouhu/contracts";
import type { EventHandler } from "@shouhu/messaging";
import type { Tx } from "../data/db.js";
import { applyChild, endMentor, startMentor } from "../data/projections.js";

type Consumed = "child.registered" | "child.updated" | "child.status-changed" | "pairing.started" | "pairing.ended" | "snapshot.requested";

/** Registry events say who is in scope for check-ups; pairing events who follows findings up. */
export function healthHandlers(deps: { requestSnapshot?: (runId: string, county: string) => Promise<unknown> } = {}): Record<Consumed, EventHandler<Tx>> {
  const child: EventHandler<Tx> = async (event, tx) => applyChild(tx, (event.data as { child: ChildSnapshot }).child);
  return {
    "child.registered": child,
    "child.updated": child,
    "child.status-changed": child,
    "pairing.started": async (event, tx) => startMentor(tx, event.data as EventData<"pairing.started">, event.occurredAt),
    "pairing.ended": async (event, tx) => endMentor(tx, event.data as EventData<"pairing.ended">),
    // A rebuild (reporting) asks for this county's exams: queued as a job (jobs/snapshot.ts).
    "snapshot.requested": async (event) => {
      const d = event.data as EventData<"snapshot.requested">;
      if (!d.producers.includes("health")) return;
      if (!deps.requestSnapshot) throw new Error("snapshot.requested: no snapshot queue wired");
      await deps.requestSnapshot(d.runId, d.county);
    },
  } satisfies Partial<Record<EventType, EventHandler<Tx>>>;
}
