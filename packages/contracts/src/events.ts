import { orgUnitCode } from "./org-unit.js";
import { z } from "zod";
import { EnvelopeBase } from "./envelope.js";
import {
  ActivityKind,
  ChildStatus,
  ConcernCategory,
  DifficultyCategory,
  EnrolmentStatus,
  ExitReason,
  HelperKind,
  LeftBehindType,
  PairingEndReason,
  PairingKind,
  PairingRole,
  OrgUnitCode,
  RiskLevel,
  Sex,
  VisitKind,
  CallParty,
} from "./enums.js";

/**
 * What consumers need about a child, carried in every child event so that no
 * consumer calls the registry back on the hot path (names, org unit, contacts).
 */
export const ChildSnapshot = z.object({
  id: z.uuid(),
  name: z.string(),
  sex: Sex,
  birthDate: z.iso.date(),
  villageCode: OrgUnitCode,
  townshipCode: OrgUnitCode,
  countyCode: OrgUnitCode,
  schoolId: z.string().nullable(),
  schoolName: z.string().nullable(),
  grade: z.string().nullable(),
  className: z.string().nullable(),
  leftBehindType: LeftBehindType,
  difficultyCategories: z.array(DifficultyCategory),
  riskLevel: RiskLevel,
  status: ChildStatus,
  exitReason: ExitReason.nullable(),
  guardian: z.object({ name: z.string(), relation: z.string(), phone: z.string().nullable() }).nullable(),
  parents: z.array(z.object({ role: z.enum(["father", "mother"]), name: z.string().nullable(), phone: z.string().nullable() })),
  /**
   * The register's 帮扶责任人 as written (issue 19.3: pairing matches it to a helper). Optional:
   * events written before it was carried have none, and consumers treat absent as "not said".
   */
  helperName: z.string().nullable().optional(),
  /** Monotonic per child; lets consumers drop stale or reordered updates. */
  revision: z.number().int().nonnegative(),
});
export type ChildSnapshot = z.infer<typeof ChildSnapshot>;

export const FieldChange = z.object({ field: z.string(), before: z.unknown(), after: z.unknown() });
export type FieldChange = z.infer<typeof FieldChange>;

export const ChildRegisteredData = z.object({ child: ChildSnapshot });
export const ChildUpdatedData = z.object({ child: ChildSnapshot, changes: z.array(FieldChange) });
/**
 * A child moved to another township (or county) of this deployment on the sending side's approval
 * (issue 19.6). Read models follow the `child.updated` written beside it; this one tells both sides.
 */
export const ChildTransferredData = z.object({
  child: ChildSnapshot,
  transferId: z.uuid(),
  fromVillage: OrgUnitCode,
  fromTownship: OrgUnitCode,
  fromTownshipName: z.string(),
  toTownship: OrgUnitCode,
  toTownshipName: z.string(),
  reason: z.string(),
});
export const ChildStatusChangedData = z.object({
  child: ChildSnapshot,
  from: ChildStatus,
  to: ChildStatus,
  reason: ExitReason.nullable(),
  note: z.string().nullable(),
});

/** The child side of a pairing: enough for visits and notifications to act without calling back. */
export const PairingChild = z.object({
  id: z.uuid(),
  name: z.string(),
  villageCode: OrgUnitCode,
  townshipCode: OrgUnitCode,
  schoolId: z.string().nullable(),
});

/** The helper side: who is responsible, and how to reach them. */
export const PairingHelper = z.object({
  id: z.uuid(),
  kind: HelperKind,
  name: z.string(),
  phone: z.string().nullable(),
  /** Keycloak username when the helper is a system user (teachers, village directors). */
  username: z.string().nullable(),
  orgUnitCode: OrgUnitCode,
  schoolId: z.string().nullable(),
});

/**
 * The pairing's role. Optional: events written before roles existed carry none, and every
 * consumer reads a missing role as "primary" (`roleOf`); the pairing service always sets it.
 */
const pairingRole = PairingRole.optional();

/** A pairing event's role, "primary" when the event predates roles. */
export const roleOf = (d: { role?: PairingRole | undefined }): PairingRole => d.role ?? "primary";

export const PairingStartedData = z.object({
  pairingId: z.uuid(),
  kind: PairingKind,
  role: pairingRole,
  child: PairingChild,
  helper: PairingHelper,
  startDate: z.iso.date(),
  approvedBy: z.string(),
});

export const PairingEndedData = z.object({
  pairingId: z.uuid(),
  kind: PairingKind,
  role: pairingRole,
  child: PairingChild,
  helper: PairingHelper,
  endDate: z.iso.date(),
  reason: PairingEndReason,
  note: z.string().nullable(),
});

/**
 * Who must act on a visit item: a paired helper, or — with nobody paired — the
 * village child director of the child's village (a role, not a person).
 */
export const VisitResponsible = z.object({
  kind: z.enum(["helper", "village_director"]),
  helperId: z.uuid().nullable(),
  name: z.string().nullable(),
  phone: z.string().nullable(),
  username: z.string().nullable(),
  /** The village whose child director covers the child. */
  villageCode: OrgUnitCode,
});

export const VisitChild = z.object({
  id: z.uuid(),
  name: z.string(),
  villageCode: OrgUnitCode,
  townshipCode: OrgUnitCode,
});

const VisitItem = {
  itemId: z.uuid(),
  kind: VisitKind,
  /** e.g. 2026-11 (month), 2026-autumn (semester), 2026 (year). */
  period: z.string(),
  dueDate: z.iso.date(),
  child: VisitChild,
  responsible: VisitResponsible,
};

export const VisitDueData = z.object({ ...VisitItem, daysLeft: z.number().int() });
export const VisitOverdueData = z.object({
  ...VisitItem,
  daysOverdue: z.number().int().positive(),
  /** 1: the responsible person is told; 2: escalated to the township supervisor. */
  level: z.union([z.literal(1), z.literal(2)]),
});
/** What reports count of a 亲情电话: who spoke, whether the call got through, minutes (null when not said). */
export const ParentCallFacts = z.object({ with: z.array(CallParty), connected: z.boolean(), minutes: z.number().int().nullable() });
/**
 * Staff asked for a one-time task link (issue 22.2) to be sent by SMS to the item's helper without an account: the
 * notifications service mints it (it holds the SMS channel and the link secret) — the link itself never travels in
 * an event.
 */
export const TaskLinkRequestedData = z.object({ ...VisitItem, requestedBy: z.object({ userId: z.string(), name: z.string() }) });
export const VisitRecordedData = z.object({
  recordId: z.uuid(),
  kind: VisitKind,
  date: z.iso.date(),
  child: VisitChild,
  visitor: z.object({ userId: z.string(), name: z.string() }),
  /** The due item the record satisfied, if any, and whether in time. */
  satisfied: z.object({ itemId: z.uuid(), period: z.string(), onTime: z.boolean() }).nullable(),
  followUpNeeded: z.boolean(),
  concernRaised: z.boolean(),
  /** A 亲情电话's who, whether it got through and how long (absent on other kinds and on events before it was added). */
  call: ParentCallFacts.nullish(),
});
export const ConcernRaisedData = z.object({
  concernId: z.uuid(),
  recordId: z.uuid().nullable(),
  category: ConcernCategory,
  description: z.string(),
  child: VisitChild,
  raisedBy: z.object({ userId: z.string(), name: z.string() }),
  /** Township supervisor's org unit: who owns the case until it is assigned. */
  ownerOrgUnit: OrgUnitCode,
  /** Concerns are always urgent (强制报告): notify at once, quiet hours or not. */
  urgent: z.literal(true),
});
export const ConcernEscalatedData = z.object({
  concernId: z.uuid(),
  category: ConcernCategory,
  child: VisitChild,
  openDays: z.number().int().nonnegative(),
  /** Escalated to the county: nobody acted on the case in time. */
  escalatedTo: OrgUnitCode,
});

export const ConcernResolvedData = z.object({
  concernId: z.uuid(),
  category: ConcernCategory,
  child: VisitChild,
  resolution: z.string(),
  resolvedAt: z.iso.datetime({ offset: true }),
});

/** An activity held at a children's home (activities service), with who attended: reporting counts them per township, kind and month. */
export const ActivityRecordedData = z.object({
  sessionId: z.uuid(),
  site: z.object({ id: z.uuid(), name: z.string(), kind: z.enum(["village", "school"]), orgUnit: OrgUnitCode, townshipCode: OrgUnitCode }),
  kind: ActivityKind,
  date: z.iso.date(),
  leader: z.string(),
  /** The children ticked present (ids only: reporting counts, it does not list). */
  attendance: z.array(z.uuid()),
});

/** An activity session re-published for a rebuild (activities' snapshot). */
export const SnapshotActivityData = ActivityRecordedData.extend({ runId: z.uuid() });
/**
 * A child's enrolment status in a semester changed (控辍保学, registry): by a school's list or by hand.
 * Visits opens a dropout-risk concern on `dropped_out`; reporting counts the enrolment rate.
 */
export const EnrolmentChangedData = z.object({
  child: z.object({ id: z.uuid(), name: z.string(), villageCode: OrgUnitCode, townshipCode: OrgUnitCode }),
  /** `2026-2027-1` (autumn) or `2026-2027-2` (spring), as reports name semesters. */
  semester: z.string().regex(/^\d{4}-\d{4}-[12]$/),
  status: EnrolmentStatus,
  previousStatus: EnrolmentStatus.nullable(),
  school: z.object({ id: z.string(), name: z.string(), townshipCode: OrgUnitCode }).nullable(),
  source: z.enum(["import", "manual"]),
  note: z.string().nullable(),
  /**
   * The enrolment record's revision (child and semester), one higher at each write: consumers keep the highest
   * applied and ignore an older or repeated one (a redelivered or late event). Absent from events published before
   * it was added: those order by `occurredAt`, below any with a revision.
   */
  revision: z.number().int().positive().optional(),
});

/** A check-up finding by the national screening standards (health service). */
export const CheckupFlag = z.object({
  /** overweight | obese | wasting_mild | wasting_moderate_severe | stunting | low_vision | anaemia | dental_caries | blood_pressure … */
  kind: z.string().min(1),
  severity: z.enum(["mild", "moderate", "severe"]).nullable(),
  /** zh-CN, as staff and guardians read it (超重, 视力低下（轻度）…). */
  label: z.string(),
});

export const CheckupRecordedData = z.object({
  examId: z.uuid(),
  campaignId: z.uuid().nullable(),
  date: z.iso.date(),
  child: VisitChild,
  flags: z.array(CheckupFlag),
  /**
   * The figures measured (optional: events from before 2026-12-06 have none). The registry keeps them for the
   * 成长档案 in the handover pack; the need-to-know table (checkups "full") decides who reads them there.
   */
  measures: z.object({ heightCm: z.number().nullable(), weightKg: z.number().nullable(), bmi: z.number().nullable() }).optional(),
});

/** One finding of an exam and the follow-up (待随访) health keeps for it: one follow-up per finding. */
export const CheckupFinding = CheckupFlag.extend({
  followUpId: z.uuid(),
  /** false: the finding was already being followed up from an earlier exam (复查仍异常); this exam opened no second one. */
  followUpOpened: z.boolean(),
});

/**
 * An exam with findings: one event per exam listing all of them, so the
 * guardian, parents and helper get one message per exam, not one per finding.
 */
export const CheckupFlaggedData = z.object({
  examId: z.uuid(),
  campaignId: z.uuid().nullable(),
  date: z.iso.date(),
  child: VisitChild,
  /** In the order the exam was evaluated (BMI, height, vision, haemoglobin, teeth). */
  findings: z.array(CheckupFinding).min(1),
  guardian: z.object({ name: z.string().nullable(), phone: z.string().nullable() }).nullable(),
  helper: z.object({ name: z.string(), phone: z.string().nullable(), username: z.string().nullable() }).nullable(),
});

/**
 * Snapshot events: a producer's current state, re-published on request so a
 * read model (reporting) can be rebuilt from scratch. Routed to reporting only.
 */
export const SnapshotChildData = z.object({ runId: z.uuid(), child: ChildSnapshot });
export const SnapshotPairingData = z.object({
  runId: z.uuid(),
  pairingId: z.uuid(),
  kind: PairingKind,
  role: pairingRole,
  status: z.enum(["active", "ended"]),
  child: PairingChild,
  /** Optional: snapshots published before it was added have none. */
  helperId: z.uuid().optional(),
  startDate: z.iso.date(),
  endDate: z.iso.date().nullable(),
});
export const SnapshotVisitItemData = z.object({
  runId: z.uuid(),
  itemId: z.uuid(),
  kind: VisitKind,
  period: z.string(),
  dueDate: z.iso.date(),
  child: VisitChild,
  state: z.enum(["due", "overdue", "escalated", "done", "closed"]),
  doneOn: z.iso.date().nullable(),
  onTime: z.boolean().nullable(),
});
export const SnapshotVisitRecordData = z.object({
  runId: z.uuid(),
  recordId: z.uuid(),
  kind: VisitKind,
  date: z.iso.date(),
  child: VisitChild,
  call: ParentCallFacts.nullish(),
  /** Who visited and whether the item it satisfied was on time (optional: older producers send neither) — the registry's growth file. */
  visitor: z.object({ userId: z.string(), name: z.string() }).optional(),
  onTime: z.boolean().nullable().optional(),
});
export const SnapshotConcernData = z.object({
  runId: z.uuid(),
  concernId: z.uuid(),
  category: ConcernCategory,
  child: VisitChild,
  raisedAt: z.iso.datetime({ offset: true }),
  escalated: z.boolean(),
  resolvedAt: z.iso.datetime({ offset: true }).nullable(),
});
/** Org-unit and school names, for reports staff hand upward (codes alone are not a report). */
export const SnapshotOrgUnitsData = z.object({
  runId: z.uuid(),
  units: z.array(z.object({ code: OrgUnitCode, name: z.string(), level: z.string(), parentCode: z.string().nullable() })),
  schools: z.array(z.object({ id: z.string(), name: z.string(), townshipCode: OrgUnitCode })),
});
export const SnapshotCompletedData = z.object({ runId: z.uuid(), producer: z.string(), events: z.number().int().nonnegative() });
/** The services that re-publish their state as snapshots for a rebuild. */
export const SnapshotProducer = z.enum(["registry", "pairing", "visits", "health", "activities"]);
export type SnapshotProducer = z.infer<typeof SnapshotProducer>;
/**
 * A rebuild asks the producers for their state (reporting's outbox → each producer's
 * queue): one county's, under the rebuild's id as runId, so each snapshot.completed
 * names the rebuild it answers.
 */
export const SnapshotRequestedData = z.object({
  runId: z.uuid(),
  county: orgUnitCode(["county"], "应为6位县级行政区划代码"),
  producers: z.array(SnapshotProducer).min(1),
});

export const NotificationChannel = z.enum(["inapp", "email", "sms", "wecom", "dingtalk"]);
export type NotificationChannel = z.infer<typeof NotificationChannel>;

const NotificationOutcome = {
  messageId: z.uuid(),
  /** The event the message was about. */
  sourceEventId: z.string(),
  sourceEventType: z.string(),
  channel: NotificationChannel,
  template: z.string(),
  urgent: z.boolean(),
  /** Recipient as far as reporting needs it: a username, or a masked phone/address. */
  recipient: z.string(),
};
export const NotificationDeliveredData = z.object({ ...NotificationOutcome, attempts: z.number().int().nonnegative() });
export const NotificationFailedData = z.object({
  ...NotificationOutcome,
  attempts: z.number().int().nonnegative(),
  reason: z.string(),
  /**
   * Set when the provider's delivery receipt failed a message already published as `notification.delivered`: that
   * event's `occurredAt` (the message's sent time). A consumer counting deliveries takes this one back from that day.
   * Absent when the message failed before it was sent.
   */
  sentAt: z.iso.datetime().optional(),
});

/** Every event type with its payload schema and current version. Renaming a type breaks live consumers. */
export const eventSchemas = {
  "child.registered": { version: 1, data: ChildRegisteredData },
  "child.updated": { version: 1, data: ChildUpdatedData },
  "child.status-changed": { version: 1, data: ChildStatusChangedData },
  "child.transferred": { version: 1, data: ChildTransferredData },
  "pairing.started": { version: 1, data: PairingStartedData },
  "pairing.ended": { version: 1, data: PairingEndedData },
  "visit.due": { version: 1, data: VisitDueData },
  "visit.overdue": { version: 1, data: VisitOverdueData },
  "task-link.requested": { version: 1, data: TaskLinkRequestedData },
  "visit.recorded": { version: 1, data: VisitRecordedData },
  "concern.raised": { version: 1, data: ConcernRaisedData },
  "concern.escalated": { version: 1, data: ConcernEscalatedData },
  "notification.delivered": { version: 1, data: NotificationDeliveredData },
  "notification.failed": { version: 1, data: NotificationFailedData },
  "concern.resolved": { version: 1, data: ConcernResolvedData },
  "checkup.recorded": { version: 1, data: CheckupRecordedData },
  "activity.recorded": { version: 1, data: ActivityRecordedData },
  "enrolment.changed": { version: 1, data: EnrolmentChangedData },
  "checkup.flagged": { version: 1, data: CheckupFlaggedData },
  "snapshot.child": { version: 1, data: SnapshotChildData },
  "snapshot.pairing": { version: 1, data: SnapshotPairingData },
  "snapshot.visit-item": { version: 1, data: SnapshotVisitItemData },
  "snapshot.visit-record": { version: 1, data: SnapshotVisitRecordData },
  "snapshot.concern": { version: 1, data: SnapshotConcernData },
  "snapshot.org-units": { version: 1, data: SnapshotOrgUnitsData },
  "snapshot.activity": { version: 1, data: SnapshotActivityData },
  "snapshot.completed": { version: 1, data: SnapshotCompletedData },
  "snapshot.requested": { version: 1, data: SnapshotRequestedData },
} as const;

export type EventType = keyof typeof eventSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventSchemas)[T]["data"]>;
export type Envelope<T extends EventType = EventType> = Omit<EnvelopeBase, "type" | "data"> & {
  type: T;
  data: EventData<T>;
};

/** One envelope of any type, as a union that `switch (event.type)` narrows (Envelope<EventType> does not). */
export type AnyEnvelope = { [T in EventType]: Envelope<T> }[EventType];

export const eventTypes = Object.keys(eventSchemas) as EventType[];

export function isEventType(type: string): type is EventType {
  return Object.hasOwn(eventSchemas, type);
}

/** Validates an envelope and its payload against the schema for its type. */
export function parseEnvelope(raw: unknown): Envelope {
  const base = EnvelopeBase.parse(raw);
  if (!isEventType(base.type)) throw new Error(`unknown event type: ${base.type}`);
  const data = eventSchemas[base.type].data.parse(base.data);
  return { ...base, type: base.type, data } as Envelope;
}
