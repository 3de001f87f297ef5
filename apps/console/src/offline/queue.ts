import { api } from "../services/client";
import type { RecordBody, RecordCreated } from "../services/models";
import { db, type QueuedRecord } from "./db";
import { notifyOfflineChanged } from "./store";
import { isNetworkError } from "./online";

/**
 * Records made on the phone go to the queue first, with a UUID made here — the API's
 * idempotency key — and are sent from there: online at once, offline when the signal
 * returns. A send whose answer is lost is simply sent again; the server answers the
 * record it already has (200, replayed) and never stores a second one.
 */
export function newRecordId(at = Date.now()): string {
  // UUIDv7, as the server makes them: the API lists records by id, newest first, so a
  // record made offline sorts by when it was written (a v4 id would land anywhere).
  const b = crypto.getRandomValues(new Uint8Array(16));
  for (let i = 0; i < 6; i++) b[i] = Math.floor(at / 2 ** (8 * (5 - i))) % 256;
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export async function enqueue(owner: string, body: RecordBody & { id: string }, childName: string): Promise<QueuedRecord> {
  const entry: QueuedRecord = { id: body.id, owner, body, childName, queuedAt: Date.now(), status: "pending", attempts: 0 };
  await db.queue.put(entry);
  notifyOfflineChanged();
  return entry;
}

export async function queued(owner: string): Promise<QueuedRecord[]> {
  return (await db.queue.where("owner").equals(owner).toArray()).sort((a, b) => a.queuedAt - b.queuedAt);
}

export async function pendingCount(owner: string): Promise<{ pending: number; conflicts: number }> {
  const all = await queued(owner);
  return { pending: all.filter((q) => q.status === "pending").length, conflicts: all.filter((q) => q.status === "conflict").length };
}

/** The user has read why the server refused it: only then does the record leave the device. */
export async function dismiss(id: string): Promise<void> {
  await db.queue.delete(id);
  notifyOfflineChanged();
}

export interface SyncResult {
  id: string;
  childName: string;
  kind: string;
  date: string;
  /** synced: stored now or already (a replay); conflict: refused for good (kept until read); invalid: 400, kept; offline: not reached, kept. */
  outcome: "synced" | "conflict" | "invalid" | "offline";
  message: string;
  record?: RecordCreated;
  status?: number;
  fieldIssues?: { field: string; message: string }[];
}

async function send(entry: QueuedRecord): Promise<SyncResult> {
  const base = { id: entry.id, childName: entry.childName, kind: entry.body.kind, date: entry.body.date };
  let response: Response;
  let data: unknown;
  let error: unknown;
  try {
    ({ response, data, error } = await api.POST("/api/v1/visit-records", { body: entry.body }));
  } catch (err) {
    if (isNetworkError(err)) return { ...base, outcome: "offline", message: "网络不可用，联网后再同步" };
    throw err;
  }
  await db.queue.update(entry.id, { attempts: entry.attempts + 1 });
  if (response.ok) {
    await db.queue.delete(entry.id);
    const record = data as RecordCreated;
    return { ...base, outcome: "synced", message: record.replayed ? "服务器已有这条记录，未重复登记" : "已同步", record, status: response.status };
  }
  const e = (error ?? {}) as { error?: { code?: string; message?: string; details?: unknown } };
  const message = e.error?.message ?? `同步失败（${response.status}）`;
  if (response.status === 409 || response.status === 403 || response.status === 404) {
    // Will not change on a retry: kept, with the reason, until the user has read it.
    await db.queue.update(entry.id, { status: "conflict", message });
    return { ...base, outcome: "conflict", message, status: response.status };
  }
  if (response.status === 400) {
    await db.queue.update(entry.id, { status: "conflict", message });
    const details = Array.isArray(e.error?.details) ? (e.error.details as { field: string; message: string }[]) : [];
    return { ...base, outcome: "invalid", message, status: 400, fieldIssues: details };
  }
  // 5xx, 401 (signing in again), 429: the record stays pending for the next sync.
  return { ...base, outcome: "offline", message: response.status >= 500 ? "服务暂时不可用，稍后自动重试" : message, status: response.status };
}

let running: Promise<SyncResult[]> | null = null;

/**
 * Records in flight at once while syncing. One at a time, 50 records on a slow mobile network
 * (2-s round trips) took 103 s; each record is independent and its id makes a resend
 * harmless, so a few travel together (the browser allows six connections per host).
 */
const SYNC_CONCURRENCY = 4;

/** Sends the owner's pending records, oldest first, a few at a time; one sync at a time in this tab. */
export function syncNow(owner: string, onlyId?: string): Promise<SyncResult[]> {
  const run = async (): Promise<SyncResult[]> => {
    const results: SyncResult[] = [];
    const pending = (await queued(owner)).filter((e) => e.status === "pending" && (!onlyId || e.id === onlyId));
    for (let i = 0; i < pending.length; i += SYNC_CONCURRENCY) {
      const chunk = await Promise.all(pending.slice(i, i + SYNC_CONCURRENCY).map(send));
      results.push(...chunk);
      // The network went (or the API is down): the rest wait for the next sync.
      if (chunk.some((r) => r.outcome === "offline")) break;
    }
    notifyOfflineChanged();
    return results;
  };
  const next = (running ?? Promise.resolve([])).catch(() => []).then(run);
  running = next;
  return next;
}

/** One queued record, if still on the device. */
export async function queuedRecord(id: string): Promise<QueuedRecord | undefined> {
  return db.queue.get(id);
}

/** Records of one child still on this device (for the child's history). */
export async function queuedFor(owner: string, childId: string): Promise<QueuedRecord[]> {
  return (await queued(owner)).filter((q) => q.body.childId === childId);
}
