import type { AnyEnvelope } from "@shouhu/contracts";
import type { EventHandler, EventHandlers, SqlTx } from "@shouhu/messaging";
import { applyChild, endMentor, familyOf, startMentor } from "../data/projections.js";
import { storeMessages } from "../data/messages.js";
import { plansFor } from "../domain/rules.js";
import type { QuietHours } from "../domain/quiet-hours.js";

type Consumed =
  | "child.registered"
  | "child.updated"
  | "child.status-changed"
  | "pairing.started"
  | "pairing.ended"
  | "visit.due"
  | "visit.overdue"
  | "concern.raised"
  | "concern.escalated"
  | "checkup.flagged";

/**
 * Every event that asks to notify becomes messages in the consumer's
 * transaction (with its inbox row); child and pairing events also keep the
 * projections birthdays and guardian messages need.
 */
export function notificationHandlers(options: { now?: () => Date; quiet: QuietHours }): Required<Pick<EventHandlers<SqlTx>, Consumed>> {
  const now = options.now ?? (() => new Date());
  const notify = async (event: AnyEnvelope, tx: SqlTx) => {
    const childId = event.subject;
    // Only rules that write to the family need it (guardian and parents' phones).
    const family =
      event.type === "pairing.started" || event.type === "checkup.flagged" ? await familyOf(tx, event.data.child.id) : { guardian: null, parents: [] };
    const plans = plansFor(event, family);
    await storeMessages(tx, { id: event.id, type: event.type, orgUnit: event.orgUnit, childId: /^[0-9a-f-]{36}$/.test(childId) ? childId : null }, plans, {
      now: now(),
      quiet: options.quiet,
    });
  };
  const child: EventHandler<SqlTx, "child.registered" | "child.updated" | "child.status-changed"> = async (event, tx) => applyChild(tx, event.data.child);
  return {
    "child.registered": child,
    "child.updated": child,
    "child.status-changed": child,
    "pairing.started": async (event, tx) => {
      await startMentor(tx, event.data, event.occurredAt);
      await notify(event, tx);
    },
    "pairing.ended": async (event, tx) => {
      await endMentor(tx, event.data);
      await notify(event, tx);
    },
    "visit.due": notify,
    "visit.overdue": notify,
    "concern.raised": notify,
    "concern.escalated": notify,
    "checkup.flagged": notify,
  };
}
