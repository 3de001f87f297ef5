import { labels, roleOf, type AnyEnvelope, type EventData, type NotificationChannel, type Role } from "@shouhu/contracts";
import type { TemplateId, TemplateVars } from "./templates.js";
import { linkReminder, type TaskLinkMinter } from "./task-links.js";

/** Who a message is for, before the directory turns roles into people. */
type Audience =
  | { kind: "person"; username: string | null; name: string | null; phone: string | null; email: string | null }
  | { kind: "role"; role: Role; orgUnit: string }
  | { kind: "office"; orgUnit: string };

/** One rule's outcome for one event: whom to tell, how, with which template, how urgently. */
export interface Plan {
  rule: string;
  audience: Audience;
  /** Channels to use where the recipient has an address for them (no phone, no SMS). */
  channels: NotificationChannel[];
  template: TemplateId;
  vars: TemplateVars;
  /** Urgent messages ignore quiet hours and rate limits (concerns: 强制报告). */
  urgent: boolean;
}

export interface Parent {
  role: "father" | "mother";
  name: string | null;
  phone: string | null;
}

/** The child's guardian and parents as the registry last said (from child events). */
export interface Family {
  guardian: { name: string | null; phone: string | null } | null;
  parents: Parent[];
}

export type PlanContext = Family & {
  /** Mints one-time task links for helpers without an account (issue 22.2); absent: no links. */
  taskLink?: TaskLinkMinter;
};

/** Parents reachable by SMS; one who is also the guardian (same phone) hears it once, as the guardian. */
function parentsToText(family: Family, guardianPhone: string | null | undefined): Audience[] {
  return family.parents
    .filter((p): p is Parent & { phone: string } => !!p.phone && p.phone !== guardianPhone)
    .map((p) => ({ kind: "person", username: null, name: p.name, phone: p.phone, email: null }));
}

type VisitItem = Omit<EventData<"visit.due">, "daysLeft">;

function responsible(item: VisitItem): Audience {
  const r = item.responsible;
  return r.kind === "helper"
    ? { kind: "person", username: r.username, name: r.name, phone: r.phone, email: null }
    : { kind: "role", role: "village-director", orgUnit: r.villageCode };
}

const visitVars = (item: VisitItem) => ({ child: item.child.name, kind: labels.visitKind[item.kind], dueDate: item.dueDate, village: item.child.villageCode });

/**
 * The notification rules (DESIGN.md: the right person told in time). Concerns
 * are urgent and go to the township supervisor at once over every channel they
 * have, and to the township office's group robots; reminders are quiet in-app
 * messages; overdue visits reach the responsible person by SMS and, a week
 * later, the township supervisor.
 */
export function plansFor(event: AnyEnvelope, ctx: PlanContext): Plan[] {
  switch (event.type) {
    case "visit.due": {
      const d = event.data;
      const viaLink = linkReminder(d, ctx.taskLink, null);
      if (viaLink) return [viaLink];
      return [
        {
          rule: "visit-due",
          audience: responsible(d),
          channels: ["inapp"],
          template: "visit_due",
          vars: { ...visitVars(d), daysLeft: d.daysLeft },
          urgent: false,
        },
      ];
    }
    case "visit.overdue": {
      const d = event.data;
      if (d.level === 1) {
        const viaLink = linkReminder(d, ctx.taskLink, d.daysOverdue);
        if (viaLink) return [viaLink];
        return [
          {
            rule: "visit-overdue",
            audience: responsible(d),
            channels: ["inapp", "sms"],
            template: "visit_overdue",
            vars: { ...visitVars(d), days: d.daysOverdue },
            urgent: false,
          },
        ];
      }
      return [
        {
          rule: "visit-escalated",
          audience: { kind: "role", role: "township-supervisor", orgUnit: d.child.townshipCode },
          channels: ["inapp", "email"],
          template: "visit_escalated",
          vars: { ...visitVars(d), days: d.daysOverdue, responsible: d.responsible.name ?? "村儿童主任" },
          urgent: false,
        },
      ];
    }
    case "task-link.requested": {
      // Staff sent a link by hand (issue 22.2): the same SMS as the reminder's, for this request.
      const viaLink = linkReminder(event.data, ctx.taskLink, null, "task-link-requested");
      return viaLink ? [viaLink] : [];
    }
    case "concern.raised": {
      const d = event.data;
      const vars = {
        child: d.child.name,
        village: d.child.villageCode,
        category: labels.concernCategory[d.category],
        description: d.description,
        raisedBy: d.raisedBy.name,
      };
      return [
        {
          rule: "concern-supervisor",
          audience: { kind: "role", role: "township-supervisor", orgUnit: d.ownerOrgUnit },
          channels: ["inapp", "sms", "email"],
          template: "concern_raised",
          vars,
          urgent: true,
        },
        {
          rule: "concern-office",
          audience: { kind: "office", orgUnit: d.ownerOrgUnit },
          channels: ["wecom", "dingtalk"],
          template: "concern_raised",
          vars,
          urgent: true,
        },
        {
          rule: "concern-director",
          audience: { kind: "role", role: "village-director", orgUnit: d.child.villageCode },
          channels: ["inapp"],
          template: "concern_raised",
          vars,
          urgent: true,
        },
      ];
    }
    case "concern.escalated": {
      const d = event.data;
      const vars = { child: d.child.name, village: d.child.villageCode, category: labels.concernCategory[d.category], days: d.openDays };
      return [
        {
          rule: "concern-escalated-county",
          audience: { kind: "role", role: "county-admin", orgUnit: d.escalatedTo },
          channels: ["inapp", "sms", "email"],
          template: "concern_escalated",
          vars,
          urgent: true,
        },
        {
          rule: "concern-escalated-federation",
          audience: { kind: "role", role: "federation-officer", orgUnit: d.escalatedTo },
          channels: ["inapp"],
          template: "concern_escalated",
          vars,
          urgent: true,
        },
      ];
    }
    case "pairing.started": {
      const d = event.data;
      if (d.kind !== "mentor") return [];
      const helper: Audience = { kind: "person", username: d.helper.username, name: d.helper.name, phone: d.helper.phone, email: null };
      const plans: Plan[] = [
        {
          rule: "pairing-helper",
          audience: helper,
          channels: ["inapp", "sms"],
          template: "pairing_started_helper",
          vars: { child: d.child.name, village: d.child.villageCode, startDate: d.startDate },
          urgent: false,
        },
      ];
      // The guardian is told who the child's mentor is: the primary (主要帮扶人), not a secondary who assists.
      if (roleOf(d) === "primary" && ctx.guardian?.phone && d.helper.phone) {
        plans.push({
          rule: "pairing-guardian",
          audience: { kind: "person", username: null, name: ctx.guardian.name, phone: ctx.guardian.phone, email: null },
          channels: ["sms"],
          template: "pairing_started_guardian",
          vars: { child: d.child.name, helper: d.helper.name, helperPhone: d.helper.phone },
          urgent: false,
        });
      }
      return plans;
    }
    case "child.transferred": {
      const d = event.data;
      const vars = { child: d.child.name, from: d.fromTownshipName, to: d.toTownshipName, village: d.child.villageCode, reason: d.reason };
      return [
        {
          rule: "transfer-in",
          audience: { kind: "role", role: "township-supervisor", orgUnit: d.toTownship },
          channels: ["inapp"],
          template: "child_transferred_in",
          vars,
          urgent: false,
        },
        {
          rule: "transfer-out",
          audience: { kind: "role", role: "township-supervisor", orgUnit: d.fromTownship },
          channels: ["inapp"],
          template: "child_transferred_out",
          vars,
          urgent: false,
        },
      ];
    }
    case "pairing.ended": {
      const d = event.data;
      if (d.kind !== "mentor") return [];
      return [
        {
          rule: "pairing-ended-helper",
          audience: { kind: "person", username: d.helper.username, name: d.helper.name, phone: d.helper.phone, email: null },
          channels: ["inapp"],
          template: "pairing_ended_helper",
          vars: { child: d.child.name, endDate: d.endDate, reason: labels.pairingEndReason[d.reason] },
          urgent: false,
        },
      ];
    }
    case "checkup.flagged": {
      const d = event.data;
      // One exam, one message per recipient, naming every finding (health sends them together).
      const vars = { child: d.child.name, date: d.date, findings: d.findings.map((f) => f.label) };
      const plans: Plan[] = [];
      // Health's payload names the guardian; the registry's (our projection) fills in when it has none.
      const guardian = d.guardian?.phone ? d.guardian : ctx.guardian;
      if (guardian?.phone) {
        plans.push({
          rule: "checkup-guardian",
          audience: { kind: "person", username: null, name: guardian.name, phone: guardian.phone, email: null },
          channels: ["sms"],
          template: "checkup_flagged_guardian",
          vars,
          urgent: false,
        });
      }
      for (const parent of parentsToText(ctx, guardian?.phone)) {
        plans.push({ rule: "checkup-parent", audience: parent, channels: ["sms"], template: "checkup_flagged_parent", vars, urgent: false });
      }
      plans.push(
        d.helper
          ? {
              rule: "checkup-helper",
              audience: { kind: "person", username: d.helper.username, name: d.helper.name, phone: d.helper.phone, email: null },
              channels: ["inapp"],
              template: "checkup_flagged_helper",
              vars,
              urgent: false,
            }
          : {
              rule: "checkup-helper",
              audience: { kind: "role", role: "village-director", orgUnit: d.child.villageCode },
              channels: ["inapp"],
              template: "checkup_flagged_helper",
              vars,
              urgent: false,
            },
      );
      return plans;
    }
    default:
      return [];
  }
}

const weekdays = ["星期日", "星期一", "星期二", "星期三", "星期四", "星期五", "星期六"];

/**
 * A birthday this week (the daily job): the mentor is reminded in-app, and the
 * parents working away get an SMS so they call home that day (亲情电话).
 */
export function birthdayPlans(
  child: { name: string; age: number; date: string },
  mentor: { name: string; username: string | null; phone: string | null } | null,
  family: Family,
): Plan[] {
  const vars = { child: child.name, date: child.date, weekday: weekdays[new Date(`${child.date}T00:00:00Z`).getUTCDay()]!, age: child.age };
  const plans: Plan[] = [];
  if (mentor) {
    plans.push({
      rule: "birthday-helper",
      audience: { kind: "person", username: mentor.username, name: mentor.name, phone: mentor.phone, email: null },
      channels: ["inapp"],
      template: "birthday_helper",
      vars,
      urgent: false,
    });
  }
  for (const parent of parentsToText(family, null)) {
    plans.push({ rule: "birthday-parent", audience: parent, channels: ["sms"], template: "birthday_parent", vars, urgent: false });
  }
  return plans;
}
