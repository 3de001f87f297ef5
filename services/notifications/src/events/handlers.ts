import type { AnyEnvelope, ChildSnapshot } from "@shouhu/contracts";
import { deferred, flushingFirst, rounds, type EventHandler, type EventHandlers, type SqlTx } from "@shouhu/messaging";
import { applyChildren, endMentor, familyOf, startMentor } from "../data/projections.js";
import { messageBatch, storeMessages } from "../data/messages.js";
import { plansFor } from "../domain/rules.js";
import type { QuietHours } from "../domain/quiet-hours.js";
import { taskLinkMinter, type TaskLinkOptions } from "./task-links.js";

type Consumed =
  | "child.registered"
  | "child.updated"
  | "child.status-changed"
  | "child.transferred"
  | "pairing.started"
  | "pairing.ended"
  | "visit.due"
  | "visit.overdue"
  | "task-link.requested"
  | "concern.raised"
  | "concern.escalated"
  | "checkup.flagged";

/**
 * A consumer batch's child events, applied together: one upsert per round (a child's
 * second event in the batch goes in the next round, after its first). Any other event of
 * the batch applies them first: its messages may read the child (the family's phones).
 */
const childBatch = deferred<SqlTx, ChildSnapshot>(async (tx, snapshots) => {
  for (const round of rounds(snapshots, (c) => c.id.toLowerCase())) await applyChildren(tx, round);
});
const childTypes = ["child.registered", "child.updated", "child.status-changed"] as const;

/** Runs a consumer batch's handlers with its child events applied together and its messages stored by one insert (the service's `runInTransaction`). */
export const inChildBatch = <T>(tx: SqlTx, fn: (tx: SqlTx) => Promise<T>): Promise<T> => childBatch.inBatch(tx, (t) => messageBatch.inBatch(t, fn));

/**
 * Every event that asks to notify becomes messages in the consumer's
 * transaction (with its inbox row); child and pairing events also keep the
 * projections birthdays and guardian messages need.
 */
export function notificationHandlers(options: {
  now?: () => Date;
  quiet: QuietHours;
  /** One-time task links in the reminders of helpers without an account (issue 22.2). */
  taskLinks?: TaskLinkOptions;
}): Required<Pick<EventHandlers<SqlTx>, Consumed>> {
  const now = options.now ?? (() => new Date());
  const taskLink = options.taskLinks?.secret ? taskLinkMinter(options.taskLinks, now) : undefined;
  const notify = async (event: AnyEnvelope, tx: SqlTx) => {
    const childId = event.subject;
    // Only rules that write to the family need it (guardian and parents' phones).
    const family =
      event.type === "pairing.started" || event.type === "checkup.flagged" ? await familyOf(tx, event.data.child.id) : { guardian: null, parents: [] };
    const plans = plansFor(event, { ...family, taskLink });
    await storeMessages(tx, { id: event.id, type: event.type, orgUnit: event.orgUnit, childId: /^[0-9a-f-]{36}$/.test(childId) ? childId : null }, plans, {
      now: now(),
      quiet: options.quiet,
      batched: true,
    });
  };
  const child: EventHandler<SqlTx, "child.registered" | "child.updated" | "child.status-changed"> = async (event, tx) => childBatch.defer(tx, event.data.child);
  return flushingFirst<SqlTx, Required<Pick<EventHandlers<SqlTx>, Consumed>>>(
    {
      "child.registered": child,
      "child.updated": child,
      "child.status-changed": child,
      // Both townships' supervisors are told (the child's copy follows from the child.updated beside it).
      "child.transferred": notify,
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
      "task-link.requested": notify,
      "concern.raised": notify,
      "concern.escalated": notify,
      "checkup.flagged": notify,
    },
    childBatch.flush,
    childTypes,
  );
}
