import { v7 as uuidv7 } from "uuid";
import { purgeExpired, type AttachmentStore, type StoredFile } from "@shouhu/attachments";
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

export async function addPhoto(
  prisma: PrismaClient,
  input: { session: PhotoSession; stored: StoredFile; by: { id: string; name: string | null }; expiresAt: Date },
) {
  const { stored } = input;
  return prisma.sessionPhoto.create({
    data: {
      id: uuidv7(),
      sessionId: input.session.id,
      siteId: input.session.siteId,
      fileName: stored.fileName,
      contentType: stored.contentType,
      size: stored.size,
      sha256: stored.sha256,
      objectKey: stored.key,
      thumbnailKey: stored.thumbnailKey,
      uploadedBy: input.by.id,
      uploadedByName: input.by.name,
      expiresAt: input.expiresAt,
    },
  });
}

export type PhotoRow = Awaited<ReturnType<typeof addPhoto>>;

/** The photos of some sessions (a site's page lists several at once), oldest first. */
export async function photosOf(prisma: PrismaClient, sessionIds: string[]): Promise<PhotoRow[]> {
  if (sessionIds.length === 0) return [];
  return prisma.sessionPhoto.findMany({
    where: { sessionId: { in: sessionIds }, deletedAt: null },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    take: 2000,
  });
}

export async function findPhoto(prisma: PrismaClient, sessionId: string, id: string): Promise<PhotoRow | null> {
  return prisma.sessionPhoto.findFirst({ where: { id, sessionId, deletedAt: null } });
}

export async function removePhoto(prisma: PrismaClient, id: string, by: string, at: Date): Promise<boolean> {
  const { count } = await prisma.sessionPhoto.updateMany({ where: { id, deletedAt: null }, data: { deletedAt: at, deletedBy: by } });
  return count === 1;
}

/** Retention: photos past `expires_at` lose their objects, then their rows (@shouhu/attachments `purgeExpired`). */
export async function purgeExpiredPhotos(prisma: PrismaClient, store: AttachmentStore, now: Date): Promise<number> {
  return purgeExpired(
    store,
    (take) =>
      prisma.sessionPhoto.findMany({
        where: { expiresAt: { lte: now } },
        take,
        orderBy: { expiresAt: "asc" },
        select: { id: true, objectKey: true, thumbnailKey: true },
      }),
    async (ids) => (await prisma.sessionPhoto.deleteMany({ where: { id: { in: ids } } })).count,
  );
}
