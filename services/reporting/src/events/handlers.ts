import type { AnyEnvelope, ChildSnapshot, EventData } from "@shouhu/contracts";
import { deferred, flushingFirst, rounds, type BatchPrepare, type EventHandlers, type SqlTx } from "@shouhu/messaging";
import {
  applyActivity,
  applyCheckup,
  applyChildren,
  applyConcern,
  applyEnrolment,
  applyItem,
  applyPairing,
  applyRecord,
  countNotification,
  preload,
  type Bucket,
} from "../data/projection.js";
import { completeSnapshot, applyOrgUnits } from "../data/rebuild.js";

type Handlers = EventHandlers<SqlTx>;

const snapshotBucket = (d: EventData<"snapshot.visit-item">): Bucket =>
  d.state === "due" ? "pending" : d.state === "overdue" ? "missed" : d.state === "done" ? (d.onTime ? "on_time" : "late") : d.state;

/** What every pairing event says of the pairing. */
const pairingOf = (d: EventData<"pairing.started" | "pairing.ended" | "snapshot.pairing">) => ({
  id: d.pairingId,
  childId: d.child.id,
  villageCode: d.child.villageCode,
  kind: d.kind,
});

/** What every visit-item event says of the item (its bucket differs). */
const itemOf = (d: EventData<"visit.due" | "visit.overdue" | "snapshot.visit-item">) => ({
  id: d.itemId,
  childId: d.child.id,
  villageCode: d.child.villageCode,
  kind: d.kind,
  period: d.period,
  dueDate: d.dueDate,
});

/** What every concern event says of the concern (the rest differs per event). */
const concernOf = (d: EventData<"concern.raised" | "concern.escalated" | "concern.resolved" | "snapshot.concern">) => ({
  id: d.concernId,
  childId: d.child.id,
  childName: d.child.name,
  villageCode: d.child.villageCode,
  category: d.category,
});

const CHILD_EVENTS = ["child.registered", "child.updated", "child.status-changed", "snapshot.child"] as const;

/**
 * A consumer batch's child snapshots, applied together: one pass per round (a child's
 * second snapshot in the batch goes in the next round, after its first).
 */
const childBatch = deferred<SqlTx, ChildSnapshot>(async (tx, children) => {
  for (const round of rounds(children, (c) => c.id.toLowerCase())) await applyChildren(tx, round);
});

/** Runs a consumer batch's handlers with its child events applied together (inside `inBatch`, so before the counters are written). */
export const inChildBatch = <T>(tx: SqlTx, fn: (tx: SqlTx) => Promise<T>): Promise<T> => childBatch.inBatch(tx, fn);

/**
 * Every event reporting is routed, applied to the row projections and their
 * counters in the consumer's transaction (with the inbox row: a redelivered
 * event has no effect). Live events and a rebuild's snapshot events go through
 * the same merge functions, which is why a rebuild ends with the live numbers.
 * A batch's child snapshots are applied together; every other handler applies
 * the ones before it first.
 */
/** A session at a children's home, live or re-published for a rebuild: counted once per session id. */
const activity = (d: EventData<"activity.recorded">, tx: SqlTx) =>
  applyActivity(tx, {
    id: d.sessionId,
    siteId: d.site.id,
    orgUnit: d.site.orgUnit,
    townshipCode: d.site.townshipCode,
    kind: d.kind,
    date: d.date,
    attendance: d.attendance.length,
  });

export function reportingHandlers(): Handlers {
  return flushingFirst<SqlTx, Handlers>(handlers(), childBatch.flush, CHILD_EVENTS);
}

function handlers(): Handlers {
  return {
    "child.registered": async (e, tx) => childBatch.defer(tx, e.data.child),
    "child.updated": async (e, tx) => childBatch.defer(tx, e.data.child),
    "child.status-changed": async (e, tx) => childBatch.defer(tx, e.data.child),
    "snapshot.child": async (e, tx) => childBatch.defer(tx, e.data.child),

    "pairing.started": async (e, tx) => {
      await applyPairing(tx, { ...pairingOf(e.data), helperId: e.data.helper.id, state: "active", startedOn: e.data.startDate });
    },
    "pairing.ended": async (e, tx) => {
      await applyPairing(tx, { ...pairingOf(e.data), helperId: e.data.helper.id, state: "ended", endedOn: e.data.endDate });
    },
    "snapshot.pairing": async (e, tx) => {
      await applyPairing(tx, { ...pairingOf(e.data), helperId: e.data.helperId, state: e.data.status, startedOn: e.data.startDate, endedOn: e.data.endDate });
    },

    "visit.due": async (e, tx) => {
      await applyItem(tx, { ...itemOf(e.data), bucket: "pending" });
    },
    "visit.overdue": async (e, tx) => {
      await applyItem(tx, { ...itemOf(e.data), bucket: e.data.level === 1 ? "missed" : "escalated" });
    },
    "visit.recorded": async (e, tx) => {
      const d = e.data;
      await applyRecord(tx, { id: d.recordId, childId: d.child.id, villageCode: d.child.villageCode, kind: d.kind, date: d.date, call: d.call });
      if (d.satisfied) {
        await applyItem(tx, {
          id: d.satisfied.itemId,
          childId: d.child.id,
          villageCode: d.child.villageCode,
          kind: d.kind,
          period: d.satisfied.period,
          dueDate: null,
          bucket: d.satisfied.onTime ? "on_time" : "late",
        });
      }
    },
    "snapshot.visit-item": async (e, tx) => {
      await applyItem(tx, { ...itemOf(e.data), bucket: snapshotBucket(e.data) });
    },
    "snapshot.visit-record": async (e, tx) => {
      const d = e.data;
      await applyRecord(tx, { id: d.recordId, childId: d.child.id, villageCode: d.child.villageCode, kind: d.kind, date: d.date, call: d.call });
    },

    "concern.raised": async (e, tx) => {
      await applyConcern(tx, { ...concernOf(e.data), raisedAt: e.occurredAt });
    },
    "concern.escalated": async (e, tx) => {
      await applyConcern(tx, { ...concernOf(e.data), escalated: true });
    },
    "concern.resolved": async (e, tx) => {
      await applyConcern(tx, { ...concernOf(e.data), resolvedAt: e.data.resolvedAt });
    },
    "snapshot.concern": async (e, tx) => {
      await applyConcern(tx, { ...concernOf(e.data), raisedAt: e.data.raisedAt, escalated: e.data.escalated, resolvedAt: e.data.resolvedAt });
    },

    "checkup.recorded": async (e, tx) => {
      const d = e.data;
      await applyCheckup(tx, { id: d.examId, childId: d.child.id, villageCode: d.child.villageCode, date: d.date, flags: d.flags.map((f) => f.kind) });
    },

    "activity.recorded": async (e, tx) => activity(e.data, tx),
    "snapshot.activity": async (e, tx) => activity(e.data, tx),
    "enrolment.changed": async (e, tx) => {
      const d = e.data;
      await applyEnrolment(tx, {
        childId: d.child.id,
        semester: d.semester,
        status: d.status,
        schoolId: d.school?.id ?? null,
        schoolName: d.school?.name ?? null,
        villageCode: d.child.villageCode,
        at: e.occurredAt,
        revision: d.revision ?? 0,
      });
    },

    "notification.delivered": async (e, tx) => countNotification(tx, e.occurredAt.slice(0, 10), e.data.channel, "delivered"),
    "notification.failed": async (e, tx) => {
      await countNotification(tx, e.occurredAt.slice(0, 10), e.data.channel, "failed");
      // A delivery receipt failed a message counted delivered on the day it was sent: that delivery is taken back.
      if (e.data.sentAt) await countNotification(tx, e.data.sentAt.slice(0, 10), e.data.channel, "delivered", -1);
    },

    "snapshot.org-units": async (e, tx) => applyOrgUnits(tx, e.data),
    "snapshot.completed": async (e, tx) => completeSnapshot(tx, e.data, e.orgUnit),
  };
}

/**
 * The ids a batch of events will touch, so `preload` reads their rows and takes their
 * children's locks in a few set queries before the handlers run (see `inBatch`).
 */
export const prepareReportingBatch: BatchPrepare<SqlTx> = async (events, tx) => {
  const keys = { children: new Set<string>(), items: new Set<string>(), pairings: new Set<string>(), concerns: new Set<string>() };
  for (const e of events as AnyEnvelope[]) {
    switch (e.type) {
      case "child.registered":
      case "child.updated":
      case "child.status-changed":
      case "snapshot.child":
      case "visit.recorded":
      case "snapshot.visit-record":
      case "checkup.recorded":
        keys.children.add(e.data.child.id);
        if (e.type === "visit.recorded" && e.data.satisfied) keys.items.add(e.data.satisfied.itemId);
        break;
      case "pairing.started":
      case "pairing.ended":
      case "snapshot.pairing":
        keys.children.add(e.data.child.id);
        keys.pairings.add(e.data.pairingId);
        break;
      case "visit.due":
      case "visit.overdue":
      case "snapshot.visit-item":
        keys.children.add(e.data.child.id);
        keys.items.add(e.data.itemId);
        break;
      case "concern.raised":
      case "concern.escalated":
      case "concern.resolved":
      case "snapshot.concern":
        keys.children.add(e.data.child.id);
        keys.concerns.add(e.data.concernId);
        break;
      default:
        break;
    }
  }
  await preload(tx, keys);
};
