import { z } from "zod";
import { EnvelopeBase } from "./envelope.js";
import {
  ChildStatus,
  DifficultyCategory,
  ExitReason,
  LeftBehindType,
  OrgUnitCode,
  RiskLevel,
  Sex,
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
  guardian: z
    .object({ name: z.string(), relation: z.string(), phone: z.string().nullable() })
    .nullable(),
  parents: z.array(
    z.object({ role: z.enum(["father", "mother"]), name: z.string().nullable(), phone: z.string().nullable() }),
  ),
  /** Monotonic per child; lets consumers drop stale or reordered updates. */
  revision: z.number().int().nonnegative(),
});
export type ChildSnapshot = z.infer<typeof ChildSnapshot>;

export const FieldChange = z.object({ field: z.string(), before: z.unknown(), after: z.unknown() });
export type FieldChange = z.infer<typeof FieldChange>;

export const ChildRegisteredData = z.object({ child: ChildSnapshot });
export const ChildUpdatedData = z.object({ child: ChildSnapshot, changes: z.array(FieldChange) });
export const ChildStatusChangedData = z.object({
  child: ChildSnapshot,
  from: ChildStatus,
  to: ChildStatus,
  reason: ExitReason.nullable(),
  note: z.string().nullable(),
});

/** Every event type with its payload schema and current version. Renaming a type breaks live consumers. */
export const eventSchemas = {
  "child.registered": { version: 1, data: ChildRegisteredData },
  "child.updated": { version: 1, data: ChildUpdatedData },
  "child.status-changed": { version: 1, data: ChildStatusChangedData },
} as const;

export type EventType = keyof typeof eventSchemas;
export type EventData<T extends EventType> = z.infer<(typeof eventSchemas)[T]["data"]>;
export type Envelope<T extends EventType = EventType> = Omit<EnvelopeBase, "type" | "data"> & {
  type: T;
  data: EventData<T>;
};

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
