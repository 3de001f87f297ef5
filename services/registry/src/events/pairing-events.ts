import type { EventData, EventType } from "@shouhu/contracts";
import type { EventHandler } from "@shouhu/messaging";
import type { Tx } from "../data/db.js";
import { endPairing, startPairing } from "../data/pairings.js";

type Consumed = "pairing.started" | "pairing.ended";

/** Pairing events tell the registry who is paired with each child: the contact card's helper, teachers' scope. */
export function registryEventHandlers(): Record<Consumed, EventHandler<Tx>> {
  return {
    "pairing.started": async (event, tx) => startPairing(tx, event.data as EventData<"pairing.started">, event.occurredAt),
    "pairing.ended": async (event, tx) => endPairing(tx, event.data as EventData<"pairing.ended">),
  } satisfies Partial<Record<EventType, EventHandler<Tx>>>;
}
