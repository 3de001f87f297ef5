import { labels, type EventData } from "@shouhu/contracts";
import type { Plan } from "./rules.js";

type VisitItem = Omit<EventData<"visit.due">, "daysLeft">;

/**
 * Mints the one-time link of an item for its helper; null when links are off (no TASK_LINK_SECRET). Handed in by
 * the event handlers (`events/task-links.ts`): the secret and the random nonce are not domain logic.
 */
export type TaskLinkMinter = (item: VisitItem) => string | null;

/** The child as an SMS names them: the given name (小花 of 李小花), or the surname and a star for a two-character name. */
export function smsChildName(name: string): string {
  const chars = [...name.trim()];
  return chars.length >= 3 ? chars.slice(1).join("") : `${chars[0] ?? ""}*`;
}

/**
 * A helper without an account (a proxy parent, a volunteer) cannot read the in-app reminder: they get an SMS with a
 * one-time link to record the visit or call instead. Null when the item's helper has an account, no phone, or links
 * are off — the usual rules apply then.
 */
export function linkReminder(item: VisitItem, mint: TaskLinkMinter | undefined, overdueDays: number | null, rule?: string): Plan | null {
  const r = item.responsible;
  if (r.kind !== "helper" || r.username || !r.phone || !mint) return null;
  const link = mint(item);
  if (!link) return null;
  const vars = { child: smsChildName(item.child.name), kind: labels.visitKind[item.kind], dueDate: item.dueDate, link };
  return {
    rule: rule ?? (overdueDays === null ? "visit-due-link" : "visit-overdue-link"),
    audience: { kind: "person", username: null, name: r.name, phone: r.phone, email: null },
    channels: ["sms"],
    template: overdueDays === null ? "visit_due_link" : "visit_overdue_link",
    vars: overdueDays === null ? vars : { ...vars, days: overdueDays },
    urgent: false,
  };
}
