import Dexie, { type EntityTable } from "dexie";
import type { RecordBody, VisitItem } from "../services/models";
import { OFFLINE_DB, OFFLINE_TTL_DAYS, notifyOfflineChanged, onWipe } from "./store";

/**
 * What this device keeps for working without network (issue 18.2), in IndexedDB:
 * - `queue`: visit records made offline, each with the UUID the client gave it — the
 *   API's idempotency key — until the server has it (or the user has read why it refused).
 * - `children`, `items`: the signed-in user's caseload as the API gave it (so only the
 *   children they may see, only the fields need-to-know gives their role), reduced to
 *   what a visit needs; and their open due/overdue items. Used for 7 days at most.
 * Loaded only by the pages that need it and by the header's indicator on demand.
 */
export interface QueuedRecord {
  id: string;
  /** The username that wrote it: only they sync it (a shared phone never sends it as someone else). */
  owner: string;
  body: RecordBody & { id: string };
  childName: string;
  queuedAt: number;
  /** pending: to send; conflict: the server refused (child left the programme …) — kept until the user has read it. */
  status: "pending" | "conflict";
  message?: string;
  attempts: number;
}

/** A child as cached for offline visits: the API's (need-to-know-reduced) answer, only what a visit needs. */
export interface CachedChild {
  id: string;
  name: string;
  sex: string;
  birthDate: string;
  villageCode: string;
  schoolName: string | null;
  grade: string | null;
  className: string | null;
  leftBehindType: string;
  riskLevel: string;
  helperName: string | null;
  guardians: { name: string; relation: string; phone: string | null }[];
  parents: { role: string; name: string | null; phone: string | null }[];
}

interface Meta {
  key: string;
  value: unknown;
}

class OfflineDb extends Dexie {
  queue!: EntityTable<QueuedRecord, "id">;
  children!: EntityTable<CachedChild, "id">;
  items!: EntityTable<VisitItem, "id">;
  meta!: EntityTable<Meta, "key">;
  constructor() {
    super(OFFLINE_DB);
    this.version(1).stores({ queue: "id, owner, status, body.childId", children: "id, name", items: "id, childId, dueDate", meta: "key" });
  }
}

export const db = new OfflineDb();
onWipe(() => db.close());

const TTL_MS = OFFLINE_TTL_DAYS * 86_400_000;

/** The cache belongs to one user: another user's sign-in on this device starts from an empty cache (their queue stays theirs). */
async function ownCache(owner: string): Promise<void> {
  const current = (await db.meta.get("owner"))?.value;
  if (current === owner) return;
  await db.transaction("rw", db.children, db.items, db.meta, async () => {
    await db.children.clear();
    await db.items.clear();
    await db.meta.bulkPut([
      { key: "owner", value: owner },
      { key: "cachedAt", value: 0 },
    ]);
  });
}

export async function saveCaseload(owner: string, children: CachedChild[], items: VisitItem[], at = Date.now()): Promise<void> {
  await ownCache(owner);
  await db.transaction("rw", db.children, db.items, db.meta, async () => {
    await db.children.clear();
    await db.items.clear();
    await db.children.bulkPut(children);
    await db.items.bulkPut(items);
    await db.meta.put({ key: "cachedAt", value: at });
  });
  notifyOfflineChanged();
}

export interface Caseload {
  children: CachedChild[];
  items: VisitItem[];
  /** When it was fetched (ms); null when there is none. */
  cachedAt: number | null;
  /** It was older than the limit and has just been deleted. */
  expired: boolean;
}

/** The cached caseload, or nothing once it is older than OFFLINE_TTL_DAYS (then it is deleted). */
export async function readCaseload(owner: string, now = Date.now()): Promise<Caseload> {
  await ownCache(owner);
  const cachedAt = Number((await db.meta.get("cachedAt"))?.value ?? 0);
  if (!cachedAt) return { children: [], items: [], cachedAt: null, expired: false };
  if (now - cachedAt > TTL_MS) {
    await db.transaction("rw", db.children, db.items, db.meta, async () => {
      await db.children.clear();
      await db.items.clear();
      await db.meta.put({ key: "cachedAt", value: 0 });
    });
    notifyOfflineChanged();
    return { children: [], items: [], cachedAt: null, expired: true };
  }
  const [children, items] = await Promise.all([db.children.orderBy("name").toArray(), db.items.orderBy("dueDate").toArray()]);
  return { children, items, cachedAt, expired: false };
}
