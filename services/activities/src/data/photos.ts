import { photoTable, type AttachmentStore, type PhotoRow as Row } from "@shouhu/attachments";
import type { PrismaClient } from "./db.js";

/** A session as its photos need it: its site, and the children ticked present (for the audit of each read). */
export interface PhotoSession {
  id: string;
  siteId: string;
  attendance: string[];
}

export async function photoSession(prisma: Pick<PrismaClient, "$queryRawUnsafe">, siteId: string, sessionId: string): Promise<PhotoSession | null> {
  const [row] = await prisma.$queryRawUnsafe<PhotoSession[]>(
    `SELECT a.id, a.site_id AS "siteId",
            COALESCE((SELECT array_agg(t.child_id::text ORDER BY t.child_id) FROM activity_attendance t WHERE t.session_id = a.id), '{}') AS attendance
       FROM activity_sessions a WHERE a.id = $1::uuid AND a.site_id = $2::uuid`,
    sessionId,
    siteId,
  );
  return row ?? null;
}

/** `session_photos`: a session's photos (@shouhu/attachments keeps the rows; removal keeps who and when). */
export const sessionPhotos = photoTable({ table: "session_photos", columns: { sessionId: "session_id", siteId: "site_id" }, owner: "sessionId" });

export type PhotoRow = Row<"sessionId" | "siteId">;

/** The photos of some sessions (a site's page lists several at once), oldest first. */
export async function photosOf(prisma: PrismaClient, sessionIds: string[]): Promise<PhotoRow[]> {
  return sessionPhotos.list(prisma, sessionIds, 2000);
}

/** Retention: photos past `expires_at` lose their objects, then their rows. */
export async function purgeExpiredPhotos(prisma: PrismaClient, store: AttachmentStore, now: Date): Promise<number> {
  return sessionPhotos.purgeExpired(prisma, store, now);
}
