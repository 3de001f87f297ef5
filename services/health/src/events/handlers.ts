import type { ChildSnapshot, EventData, EventType } from "@shouhu/contracts";
import type { EventHandler } from "@shouhu/messaging";
import type { Tx } from "../data/db.js";
import { applyChild, endMentor, startMentor } from "../data/projections.js";

type Consumed = "child.registered" | "child.updated" | "child.status-changed" | "pairing.started" | "pairing.ended";

/** Registry events say who is in scope for check-ups; pairing events who follows findings up. */
export function healthHandlers(): Record<Consumed, EventHandler<Tx>> {
  const child: EventHandler<Tx> = async (event, tx) => applyChild(tx, (event.data as { child: ChildSnapshot }).child);
  return {
    "child.registered": child,
    "child.updated": child,
    "child.status-changed": child,
    "pairing.started": async (event, tx) => startMentor(tx, event.data as EventData<"pairing.started">, event.occurredAt),
    "pairing.ended": async (event, tx) => endMentor(tx, event.data as EventData<"pairing.ended">),
  } satisfies Partial<Record<EventType, EventHandler<Tx>>>;
}
