import { z } from "zod";
import { v7 as uuidv7 } from "uuid";
import { OrgUnitCode } from "./enums.js";

/** Who caused an event: a user (from the token) or the system (a scheduled job). */
export const Actor = z.object({
  kind: z.enum(["user", "system"]),
  id: z.string(),
  name: z.string().optional(),
  role: z.string().optional(),
});
export type Actor = z.infer<typeof Actor>;

export const systemActor = (job: string): Actor => ({ kind: "system", id: job });

/** The envelope every event travels in (DESIGN.md "Events"). */
export const EnvelopeBase = z.object({
  id: z.uuid(),
  type: z.string(),
  version: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  producer: z.string(),
  /** The record the event is about, e.g. the child id. */
  subject: z.string(),
  /** Org-unit code of the subject, for jurisdiction-scoped consumers. */
  orgUnit: OrgUnitCode,
  actor: Actor,
  /** W3C traceparent of the request that caused the event, when there was one. */
  traceparent: z.string().optional(),
  data: z.unknown(),
});
export type EnvelopeBase = z.infer<typeof EnvelopeBase>;

export function newEventId(): string {
  return uuidv7();
}
