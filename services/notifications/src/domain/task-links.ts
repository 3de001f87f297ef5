import { labels, type EventData } from "@shouhu/contracts";
import { mintTaskLink } from "@shouhu/auth";
import type { Plan } from "./rules.js";

type VisitItem = Omit<EventData<"visit.due">, "daysLeft">;

/** Mints the one-time link of an item for its helper; null when links are off (no TASK_LINK_SECRET). */
export type TaskLinkMinter = (item: VisitItem) => string | null;

export interface TaskLinkOptions {
  /** TASK_LINK_SECRET, shared with visits (which verifies); empty: reminders go without a link. */
  secret: string;
  ttlHours: number;
  /** PUBLIC_LINK_BASE_URL: the console's public origin. */
  baseUrl: string;
}

/**
 * Links valid for `ttlHours` from the reminder. Visits refuses a link from its item's escalation day on (the
 * township supervisor has it then), so notifications need not know that day.
 */
export function taskLinkMinter(options: TaskLinkOptions, now: () => Date): TaskLinkMinter {
  return (item) => {
    const helperId = item.responsible.helperId;
    if (!options.secret || !helperId) return null;
    const { token } = mintTaskLink(options.secret, {
      itemId: item.itemId,
      childId: item.child.id,
      helperId,
      expiresAt: new Date(now().getTime() + options.ttlHours * 3600_000),
    });
    return `${options.baseUrl.replace(/\/+$/, "")}/t/${token}`;
  };
}

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
