import type { AttachmentStore } from "./store.js";

/** What the retention purge needs of a service's attachment rows. */
export interface ExpiredRow {
  id: string;
  objectKey: string;
  thumbnailKey: string | null;
}

/**
 * Deletes attachments past their retention, a batch at a time: the objects (file and
 * thumbnail) first, then the rows — a failure in between leaves rows whose objects are gone,
 * which the next run deletes again (deleting a missing object is fine); never an object
 * without its row. `expired(limit)` reads the service's own table; returns rows deleted.
 */
export async function purgeExpired(
  store: AttachmentStore,
  expired: (limit: number) => Promise<ExpiredRow[]>,
  deleteRows: (ids: string[]) => Promise<number>,
  batchSize = 500,
): Promise<number> {
  let total = 0;
  for (;;) {
    const batch = await expired(batchSize);
    if (!batch.length) return total;
    await store.remove(batch.flatMap((a) => (a.thumbnailKey ? [a.objectKey, a.thumbnailKey] : [a.objectKey])));
    total += await deleteRows(batch.map((a) => a.id));
    if (batch.length < batchSize) return total;
  }
}
