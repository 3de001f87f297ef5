import { parseSemester, todayInChina } from "@shouhu/cn";
import { labels } from "@shouhu/contracts";
import { deferred, rounds, type EventHandler, type EventHandlers, type SqlTx } from "@shouhu/messaging";
import { applyChildSnapshots, type ChildChange } from "../data/children.js";
import { endAssignment, startAssignment } from "../data/assignments.js";
import { applyOrgUnitNames } from "../data/org-units.js";
import { raiseDropoutConcern } from "../data/concerns.js";
import { applyEnrolment } from "../data/enrolments.js";

type Consumed =
  | "child.registered"
  | "child.updated"
  | "child.status-changed"
  | "pairing.started"
  | "pairing.ended"
  | "snapshot.org-units"
  | "snapshot.requested"
  | "enrolment.changed";

/** Queues a county's snapshot for a rebuild; the job id is the run's, so a redelivered request is the same job. */
export type RequestSnapshot = (runId: string, county: string) => Promise<unknown>;

/**
 * A consumer batch's child events, applied together: one pass per round (a child's
 * second event in the batch goes in the next round, after its first).
 */
const childBatch = deferred<SqlTx, ChildChange>(async (tx, changes) => {
  for (const round of rounds(changes, (c) => c.child.id.toLowerCase())) await applyChildSnapshots(tx, round);
});

/** Runs a consumer batch's handlers with its child events applied together (the service's `runInTransaction`). */
export const inChildBatch = <T>(tx: SqlTx, fn: (tx: SqlTx) => Promise<T>): Promise<T> => childBatch.inBatch(tx, fn);

/**
 * Registry events keep the child projection and its items; pairing events say
 * who is responsible. Each runs in the consumer's transaction with the inbox row;
 * a batch's child events are applied together, before any later event of the batch.
 */
export function visitEventHandlers(
  now: () => Date = () => new Date(),
  deps: { requestSnapshot?: RequestSnapshot } = {},
): Required<Pick<EventHandlers<SqlTx>, Consumed>> {
  const child: EventHandler<SqlTx, "child.registered" | "child.updated" | "child.status-changed"> = async (event, tx) => {
    const at = now();
    // The child's `since` is the day the registry acted, not the day this worker got round to it.
    await childBatch.defer(tx, { child: event.data.child, today: todayInChina(at), at, occurredOn: todayInChina(new Date(event.occurredAt)) });
  };
  return {
    "child.registered": child,
    "child.updated": child,
    "child.status-changed": child,
    "pairing.started": async (event, tx) => {
      await childBatch.flush(tx);
      const at = now();
      await startAssignment(tx, event.data, event.occurredAt, todayInChina(at), at);
    },
    "pairing.ended": async (event, tx) => {
      await childBatch.flush(tx);
      await endAssignment(tx, event.data);
    },
    "snapshot.org-units": async (event, tx) => applyOrgUnitNames(tx, event.data),
    // 控辍保学: 辍学 opens a dropout-risk case for the township. 休学 (leave the school granted, e.g. illness) and
    // 转学 (moved school) do not: they are counted in reports, and a child missing from every list is listed there.
    // Every status is kept per child and semester, so an older or repeated event (a stale 辍学 arriving after the
    // child was recorded back 在读) opens nothing.
    "enrolment.changed": async (event, tx) => {
      const d = event.data;
      if (!(await applyEnrolment(tx, d, event.occurredAt))) return;
      if (d.status !== "dropped_out") return;
      await childBatch.flush(tx);
      const semester = parseSemester(d.semester)?.label ?? d.semester;
      const how = d.source === "import" ? "学籍名单" : "登记";
      const description =
        `${semester}${d.school ? `，${d.school.name}` : ""}${how}显示${d.child.name}${labels.enrolmentStatus[d.status]}` +
        `${d.note ? `（${d.note}）` : ""}。请核实情况，落实劝返复学（控辍保学）。`;
      const actor = event.actor;
      await raiseDropoutConcern(tx, {
        child: d.child,
        description,
        raisedBy: { userId: actor.id, name: actor.name ?? "系统", actor },
        at: new Date(event.occurredAt),
      });
    },
    // A rebuild asks for this county's items, records and concerns.
    "snapshot.requested": async (event) => {
      const d = event.data;
      if (!d.producers.includes("visits")) return;
      if (!deps.requestSnapshot) throw new Error("snapshot.requested: no snapshot queue wired");
      await deps.requestSnapshot(d.runId, d.county);
    },
  };
}
