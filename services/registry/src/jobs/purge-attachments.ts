import type { AttachmentStore } from "@shouhu/attachments";
import type { PrismaClient } from "../data/db.js";
import { deleteAttachmentRows, expiredAttachments } from "../data/attachments.js";

export const PURGE_ATTACHMENTS_JOB = "purge-attachments";

/**
 * Retention: attachments past their expiry lose their objects (file and thumbnail) first,
 * then their rows — a failure in between leaves a row whose object is gone, which the next
 * run deletes again (deleting a missing object is fine); never an object without a row.
 */
export async function purgeExpiredAttachments(prisma: PrismaClient, store: AttachmentStore, now: Date): Promise<number> {
  let total = 0;
  for (;;) {
    const batch = await expiredAttachments(prisma, now, 500);
    if (!batch.length) return total;
    await store.remove(batch.flatMap((a) => (a.thumbnailKey ? [a.objectKey, a.thumbnailKey] : [a.objectKey])));
    total += await deleteAttachmentRows(
      prisma,
      batch.map((a) => a.id),
    );
    if (batch.length < 500) return total;
  }
}
