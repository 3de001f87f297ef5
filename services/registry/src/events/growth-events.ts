import type { EventHandlers } from "@shouhu/messaging";
import type { Tx } from "../data/db.js";
import { recordActivity, recordCheckup, recordSnapshotVisit, recordVisit } from "../data/growth-strands.js";

type Consumed = "visit.recorded" | "activity.recorded" | "checkup.recorded" | "snapshot.visit-record" | "snapshot.activity";

/** The 成长档案 strands other services own, kept for the handover pack (交接包); the inbox makes each event count once. */
export function growthEventHandlers(): Required<Pick<EventHandlers<Tx>, Consumed>> {
  return {
    "visit.recorded": async (event, tx) => recordVisit(tx, event.data),
    "activity.recorded": async (event, tx) => recordActivity(tx, event.data),
    "checkup.recorded": async (event, tx) => recordCheckup(tx, event.data),
    // A rebuild's copy of visits' records (health's exams come back as checkup.recorded): records from before the projection.
    "snapshot.visit-record": async (event, tx) => recordSnapshotVisit(tx, event.data),
    // …and of activities' sessions: the same row per session id, so one seen live is not counted twice.
    "snapshot.activity": async (event, tx) => recordActivity(tx, event.data),
  };
}
