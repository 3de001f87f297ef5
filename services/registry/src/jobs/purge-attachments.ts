import { purgeExpired, type AttachmentStore } from "@shouhu/attachments";
import type { PrismaClient } from "../data/db.js";
import { deleteAttachmentRows, expiredAttachments } from "../data/attachments.js";

export const PURGE_ATTACHMENTS_JOB = "purge-attachments";

/** Retention: attachments past `expires_at` lose their objects, then their rows (@shouhu/attachments `purgeExpired`). */
export async function purgeExpiredAttachments(prisma: PrismaClient, store: AttachmentStore, now: Date): Promise<number> {
  return purgeExpired(
    store,
    (limit) => expiredAttachments(prisma, now, limit),
    (ids) => deleteAttachmentRows(prisma, ids),
  );
}
