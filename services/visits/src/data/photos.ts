import { v7 as uuidv7 } from "uuid";
import { purgeExpired, type AttachmentStore, type StoredFile } from "@shouhu/attachments";
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

export async function addPhoto(
  prisma: PrismaClient,
  input: { record: PhotoRecord; stored: StoredFile; by: { id: string; name: string | null }; expiresAt: Date },
) {
  const { stored } = input;
  return prisma.visitPhoto.create({
    data: {
      id: uuidv7(),
      recordId: input.record.id,
      childId: input.record.childId,
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

export async function listPhotos(prisma: PrismaClient, recordId: string): Promise<PhotoRow[]> {
  return prisma.visitPhoto.findMany({ where: { recordId, deletedAt: null }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], take: 200 });
}

export async function findPhoto(prisma: PrismaClient, recordId: string, id: string): Promise<PhotoRow | null> {
  return prisma.visitPhoto.findFirst({ where: { id, recordId, deletedAt: null } });
}

export async function removePhoto(prisma: PrismaClient, id: string, by: string, reason: string | null, at: Date): Promise<boolean> {
  const { count } = await prisma.visitPhoto.updateMany({ where: { id, deletedAt: null }, data: { deletedAt: at, deletedBy: by, deleteReason: reason } });
  return count === 1;
}

/** Retention: photos past `expires_at` lose their objects, then their rows (@shouhu/attachments `purgeExpired`). */
export async function purgeExpiredPhotos(prisma: PrismaClient, store: AttachmentStore, now: Date): Promise<number> {
  return purgeExpired(
    store,
    (take) =>
      prisma.visitPhoto.findMany({
        where: { expiresAt: { lte: now } },
        take,
        orderBy: { expiresAt: "asc" },
        select: { id: true, objectKey: true, thumbnailKey: true },
      }),
    async (ids) => (await prisma.visitPhoto.deleteMany({ where: { id: { in: ids } } })).count,
  );
}
