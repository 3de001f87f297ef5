import { photoTable, type AttachmentStore, type PhotoRow as Row } from "@shouhu/attachments";
import type { PrismaClient } from "./db.js";

/** A visit record as far as its photos need it: whose child, where, who made it, the child's helper now. */
export interface PhotoRecord {
  id: string;
  childId: string;
  villageCode: string;
  visitorUserId: string;
  helperUsername: string | null;
}

export async function photoRecord(prisma: Pick<PrismaClient, "$queryRawUnsafe">, recordId: string): Promise<PhotoRecord | null> {
  const [row] = await prisma.$queryRawUnsafe<PhotoRecord[]>(
    `SELECT r.id, r.child_id AS "childId", c.village_code AS "villageCode", r.visitor_user_id AS "visitorUserId", a.username AS "helperUsername"
       FROM visit_records r JOIN children c ON c.id = r.child_id LEFT JOIN assignments a ON a.child_id = c.id
      WHERE r.id = $1::uuid`,
    recordId,
  );
  return row ?? null;
}

/** `visit_photos`: a visit record's photos (@shouhu/attachments keeps the rows; removal keeps who, when and why). */
export const visitPhotos = photoTable({
  table: "visit_photos",
  columns: { recordId: "record_id", childId: "child_id" },
  owner: "recordId",
  deleteReason: true,
});

export type PhotoRow = Row<"recordId" | "childId">;

/** Retention: photos past `expires_at` lose their objects, then their rows. */
export async function purgeExpiredPhotos(prisma: PrismaClient, store: AttachmentStore, now: Date): Promise<number> {
  return visitPhotos.purgeExpired(prisma, store, now);
}
