import { z } from "zod";
import { randomFillSync } from "node:crypto";
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

// uuid's own v7 asks the OS for 16 random bytes per id (~3 µs); bulk producers
// (a 100,000-row import, the daily visit scan) make hundreds of thousands, so
// random bytes come from a pool and the v7 clock/sequence state is kept here:
// ids stay time-ordered and strictly increasing within this process, as before.
const randomPool = new Uint8Array(4096);
let poolAt = randomPool.length;
const clock = { msecs: -Infinity, seq: 0 };

export function newEventId(): string {
  if (poolAt + 16 > randomPool.length) {
    randomFillSync(randomPool);
    poolAt = 0;
  }
  const random = randomPool.subarray(poolAt, (poolAt += 16));
  const now = Date.now();
  if (now > clock.msecs) {
    clock.msecs = now;
    clock.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    clock.seq = (clock.seq + 1) | 0;
    if (clock.seq === 0) clock.msecs += 1;
  }
  return uuidv7({ random, msecs: clock.msecs, seq: clock.seq });
}
