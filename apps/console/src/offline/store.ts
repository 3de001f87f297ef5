/**
 * The offline store's name and the few things the first screen needs about it — without
 * Dexie: the header's 待同步 indicator and sign-out import this file, and load Dexie
 * (./db) only when they must, so the first screen's JavaScript does not grow by it.
 */
export const OFFLINE_DB = "shouhu-offline";
/** How long the cached caseload may be used offline (days) before it must be refreshed online. */
export const OFFLINE_TTL_DAYS = 7;
/** Fired on window whenever the queue or the cache changes (enqueued, synced, dismissed, wiped). */
export const OFFLINE_CHANGED = "shouhu:offline-changed";

export const notifyOfflineChanged = () => window.dispatchEvent(new Event(OFFLINE_CHANGED));

let closeOpen: (() => void) | null = null;
/** ./db tells how to close its connection, so a wipe is not blocked by it. */
export function onWipe(close: () => void): void {
  closeOpen = close;
}

/**
 * Sign-out: the caseload, the open items and the queue are deleted from this device
 * (IndexedDB), whether or not Dexie was loaded in this tab.
 */
export async function wipeOfflineData(): Promise<void> {
  closeOpen?.();
  await new Promise<void>((resolve) => {
    const req = indexedDB.deleteDatabase(OFFLINE_DB);
    req.onsuccess = () => resolve();
    req.onerror = () => resolve();
    // Another tab still holds it open: Dexie there closes on "versionchange" and the delete completes.
    req.onblocked = () => setTimeout(resolve, 500);
  });
  notifyOfflineChanged();
}

/** Whether the offline store exists at all (no Dexie needed): false after a wipe. */
export async function offlineStoreExists(): Promise<boolean> {
  const dbs = await indexedDB.databases?.();
  return Boolean(dbs?.some((d) => d.name === OFFLINE_DB));
}
