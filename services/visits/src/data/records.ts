import { v7 as uuidv7 } from "uuid";
import type { Actor } from "@shouhu/contracts";
import { appendToOutbox, buildEvent } from "@shouhu/messaging";
import type { RecordInput } from "../domain/record.js";
import type { PrismaClient } from "./db.js";
import { ensureItems, onDay, satisfyItem, type Satisfied } from "./items.js";
import { raiseConcern } from "./concerns.js";
import { PRODUCER } from "./scan.js";
import type { VisibleChild } from "./visibility.js";

export interface Visitor {
  userId: string;
  name: string;
  actor: Actor;
}

/**
 * Stores a visit record; it satisfies the open item of its kind whose period
 * holds its date (late if after the due date), publishes visit.recorded, and —
 * when it flags a safety or abuse suspicion — opens a concern case and
 * publishes concern.raised in the same transaction (强制报告: at once).
 */
export async function createRecord(
  prisma: PrismaClient,
  child: VisibleChild,
  input: RecordInput,
  visitor: Visitor,
  at: Date,
): Promise<{ recordId: string; satisfied: Satisfied | null; concernId: string | null }> {
  return prisma.$transaction(async (tx) => {
    const recordId = uuidv7();
    // The item for the record's period may not exist yet (the scan runs once a day).
    await ensureItems(tx, onDay(input.date), at, { countyCode: child.countyCode, childId: child.id });
    const satisfied = await satisfyItem(tx, child.id, input.kind, input.date, recordId);
    await tx.$executeRawUnsafe(
      `INSERT INTO visit_records (id, child_id, kind, date, visitor_user_id, visitor_name, location, duration_minutes, findings,
                                  follow_up_needed, follow_up_note, item_id, created_at)
       VALUES ($1::uuid, $2::uuid, $3, $4::date, $5, $6, $7, $8, $9::jsonb, $10, $11, $12::uuid, $13::timestamptz)`,
      recordId,
      child.id,
      input.kind,
      input.date,
      visitor.userId,
      visitor.name,
      input.location ?? null,
      input.durationMinutes ?? null,
      JSON.stringify(input.findings),
      input.followUpNeeded,
      input.followUpNote ?? null,
      satisfied?.itemId ?? null,
      at,
    );
    const eventChild = { id: child.id, name: child.name, villageCode: child.villageCode, townshipCode: child.townshipCode };
    const concernId = input.concern
      ? await raiseConcern(tx, { child: eventChild, recordId, category: input.concern.category, description: input.concern.description, raisedBy: visitor, at })
      : null;
    await appendToOutbox(tx, [
      buildEvent(
        "visit.recorded",
        {
          subject: child.id,
          orgUnit: child.villageCode,
          actor: visitor.actor,
          data: {
            recordId,
            kind: input.kind,
            date: input.date,
            child: eventChild,
            visitor: { userId: visitor.userId, name: visitor.name },
            satisfied,
            followUpNeeded: input.followUpNeeded,
            concernRaised: concernId !== null,
          },
        },
        { producer: PRODUCER, now: at },
      ),
    ]);
    return { recordId, satisfied, concernId };
  });
}
