import type { Envelope } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import type { EventHandler } from "@shouhu/messaging";
import type { Tx } from "../data/db.js";
import { applyChildSnapshot } from "../data/children.js";

/**
 * Registry events keep the local child projection current and drive pairings:
 * a registration queues matching, an exit ends pairings, a move re-pairs.
 * Each runs in the consumer's transaction with the inbox row (exactly-once effect).
 */
export function childEventHandlers(now: () => Date = () => new Date()): Record<"child.registered" | "child.updated" | "child.status-changed", EventHandler<Tx>> {
  const apply: EventHandler<Tx> = async (event: Envelope, tx) => {
    const { child } = event.data as { child: Parameters<typeof applyChildSnapshot>[1] };
    await applyChildSnapshot(tx, child, event.actor, todayInChina(now()));
  };
  return { "child.registered": apply, "child.updated": apply, "child.status-changed": apply };
}
