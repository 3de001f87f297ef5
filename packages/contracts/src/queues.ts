import type { EventType } from "./events.js";

/**
 * Services that consume events. Each has exactly one queue, `<service>.events`.
 * Renaming one abandons the jobs waiting in the live queue.
 */
export const consumerServices = ["pairing", "visits", "health", "notifications", "reporting", "registry", "activities"] as const;
export type ConsumerService = (typeof consumerServices)[number];

export function eventsQueue(service: ConsumerService | string): string {
  return `${service}.events`;
}

/** Queue that keeps events whose consumer gave up, with the reason, for replay. */
export function deadLetterQueue(queue: string): string {
  return `${queue}.dead`;
}

/** Which services receive which events (DESIGN.md "Services"). The relay routes by this. */
export const subscriptions: Record<EventType, readonly ConsumerService[]> = {
  "child.registered": ["pairing", "visits", "health", "notifications", "reporting", "activities"],
  "child.updated": ["pairing", "visits", "health", "notifications", "reporting", "activities"],
  "child.status-changed": ["pairing", "visits", "health", "notifications", "reporting", "activities"],
  // Read models follow the child.updated written with it; notifications tell both townships.
  "child.transferred": ["notifications"],
  // registry: who is paired with each child (contact card, teachers' scope).
  "pairing.started": ["visits", "notifications", "reporting", "health", "registry"],
  "pairing.ended": ["visits", "notifications", "reporting", "health", "registry"],
  "visit.due": ["notifications", "reporting"],
  "visit.overdue": ["notifications", "reporting"],
  "task-link.requested": ["notifications"],
  // registry: the 成长档案 strands of the handover pack (交接包), kept as a small projection.
  "visit.recorded": ["reporting", "registry"],
  "concern.raised": ["notifications", "reporting"],
  "concern.escalated": ["notifications", "reporting"],
  "notification.delivered": ["reporting"],
  "notification.failed": ["reporting"],
  "concern.resolved": ["reporting"],
  "checkup.recorded": ["reporting", "registry"],
  "checkup.flagged": ["notifications"],
  "activity.recorded": ["reporting", "registry"],
  // visits raises a dropout-risk concern on 辍学; reporting counts the enrolment rate.
  "enrolment.changed": ["visits", "reporting"],
  "snapshot.child": ["reporting"],
  "snapshot.pairing": ["reporting"],
  "snapshot.visit-item": ["reporting"],
  // registry: a rebuild fills the handover pack's visits with the records made before it kept them.
  "snapshot.visit-record": ["reporting", "registry"],
  "snapshot.concern": ["reporting"],
  "snapshot.org-units": ["reporting", "visits", "activities"],
  "snapshot.activity": ["reporting", "registry"],
  "snapshot.completed": ["reporting"],
  // A rebuild (reporting) asks every producer to re-publish its county's state.
  "snapshot.requested": ["registry", "pairing", "visits", "health", "activities"],
};

/** Queues for a service's own background work (not events). */
export const jobQueues = {
  registryImport: "registry.import",
  registryExport: "registry.export",
  registrySchedule: "registry.schedule",
  visitsSchedule: "visits.schedule",
  notificationsDeliver: "notifications.deliver",
  notificationsSchedule: "notifications.schedule",
  /** 致家长的一封信: a letter sent, turned into its recipients and SMS in the background. */
  notificationsLetters: "notifications.letters",
  reportingExport: "reporting.export",
  /** Snapshot runs a rebuild asked for (pairing and health have no other job queue). */
  pairingSnapshot: "pairing.snapshot",
  healthSnapshot: "health.snapshot",
  /** Activities' periodic work (the purge of expired session photos). */
  activitiesSchedule: "activities.schedule",
} as const;
