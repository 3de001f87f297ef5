import { z } from "zod";
import { CallParty, VisitKind } from "@shouhu/contracts";

/**
 * What the visits API answers, documented so the console's types are generated from the
 * OpenAPI document. Fastify encodes each answer through these: a field left out here is
 * left out of the answer.
 */
const day = z.string().describe("YYYY-MM-DD");

const Satisfied = z.object({ itemId: z.uuid(), period: z.string(), onTime: z.boolean() });

/** POST /api/v1/visit-records: 201 when stored, 200 with the same body when the id was already stored (a replay). */
export const RecordCreated = z.object({
  id: z.uuid(),
  childId: z.uuid(),
  kind: VisitKind,
  kindLabel: z.string(),
  date: day,
  /** The due item the record satisfied (on time or late), if any. */
  satisfied: Satisfied.nullable(),
  /** The concern case the visit raised (发现问题), if any. */
  concernId: z.uuid().nullable(),
  /** True when this id had been stored before: nothing new was stored. */
  replayed: z.boolean(),
});

const finding = z.string().nullish();
/** One visit record; inspectors get date, kind and on-time only (the optional fields are left out). */
const RecordListItem = z.object({
  id: z.uuid(),
  childId: z.uuid(),
  childName: z.string(),
  villageCode: z.string(),
  kind: VisitKind,
  kindLabel: z.string(),
  date: day,
  itemId: z.uuid().nullable(),
  onTime: z.boolean().nullable(),
  visitorName: z.string().optional(),
  location: z.string().nullable().optional(),
  durationMinutes: z.number().int().nullable().optional(),
  findings: z.object({ metWith: finding, livingConditions: finding, study: finding, health: finding, mood: finding, safety: finding }).optional(),
  followUpNeeded: z.boolean().optional(),
  followUpNote: z.string().nullable().optional(),
  /** A 亲情电话: with whom, and whether it got through (an attempt satisfies nothing). */
  call: z
    .object({ with: z.array(CallParty), connected: z.boolean() })
    .nullable()
    .optional(),
  createdAt: z.string().optional(),
  /** "task_link": written by a proxy parent (代理家长) through a one-time SMS link, not by a signed-in user. */
  via: z.string().nullable().optional(),
});

export const RecordPage = z.object({ items: z.array(RecordListItem), nextCursor: z.uuid().nullable() });

const Plan = z.object({ at: z.string().describe("ISO 8601, China time"), note: z.string().nullable(), by: z.string() });
/** PUT /api/v1/visit-items/:id/plan */
export const ItemPlanned = z.object({ id: z.uuid(), plan: Plan.nullable() });

const VisitItem = z.object({
  id: z.uuid(),
  childId: z.uuid(),
  childName: z.string(),
  villageCode: z.string(),
  kind: VisitKind,
  kindLabel: z.string(),
  period: z.string(),
  dueDate: day,
  status: z.enum(["open", "done", "closed"]),
  doneOn: day.nullable(),
  /** Days past the due date while still open; 0 otherwise. */
  daysOverdue: z.number().int(),
  responsible: z.object({
    kind: z.enum(["helper", "village_director"]),
    name: z.string().nullable(),
    username: z.string().nullable(),
    helperId: z.string().nullable().optional(),
  }),
  /** When it is planned for (预约: e.g. a 亲情电话 at the children's home on Saturday at 10:00), by whom, with a note. */
  plan: Plan.nullable(),
});

export const VisitItemPage = z.object({ today: day, items: z.array(VisitItem), nextCursor: z.uuid().nullable() });
