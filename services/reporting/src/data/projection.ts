import { upsertChildren, type ChildProjection, type SqlTx } from "@shouhu/messaging";
import type { ChildSnapshot } from "@shouhu/contracts";

type Db = SqlTx;

/**
 * What a consumer batch keeps in memory until it commits: counter deltas summed per
 * (village, metric, dims), written by one multi-row upsert at the end of the batch,
 * and the children already locked. Each event used to move its 2–12 counters by one
 * statement each, most of the consumer's time; a batch of 50 events touches far fewer
 * distinct counters than that. Nothing reads counters inside a consumer transaction,
 * so deferring their update to the commit changes no result.
 */
interface Batch {
  deltas: Map<string, number>;
  locked: Set<string>;
  /**
   * Rows the batch's events touch, read once by `preload` (locked FOR UPDATE) and kept
   * equal to the table as each handler writes: id → row, or null where none exists.
   * An id not in a map was not preloaded and is read from the table as before.
   */
  children: Map<string, ChildRow | null>;
  items: Map<string, ItemRow | null>;
  pairings: Map<string, PairingRow | null>;
  concerns: Map<string, ConcernRow | null>;
}
interface ItemRow {
  childId: string;
  bucket: Bucket;
  villageCode: string;
  period: string;
}
interface PairingRow {
  childId: string;
  state: string;
  villageCode: string;
  kind: string;
}
interface ConcernRow {
  childId: string;
  escalated: boolean;
  resolved: boolean;
  villageCode: string;
}
const batches = new WeakMap<object, Batch>();

/** Runs a consumer batch's handlers with deferred counters (see `Batch`), flushing them before the caller commits. */
export async function inBatch<T>(db: Db, fn: (db: Db) => Promise<T>): Promise<T> {
  const batch: Batch = { deltas: new Map(), locked: new Set(), children: new Map(), items: new Map(), pairings: new Map(), concerns: new Map() };
  batches.set(db, batch);
  try {
    const result = await fn(db);
    await writeDeltas(db, batch.deltas);
    return result;
  } finally {
    batches.delete(db);
  }
}

const SEP = "\u0000";
const lower = (ids: Iterable<string>) => [...new Set([...ids].map((id) => id.toLowerCase()))].sort();

/** What one batch's events touch, by id (collected by the event handlers' `prepare`). */
export interface BatchKeys {
  children: Iterable<string>;
  items: Iterable<string>;
  pairings: Iterable<string>;
  concerns: Iterable<string>;
}

/**
 * Takes every child's lock in one statement, in id order (two consumers' batches can
 * never wait on each other in a cycle), and reads the rows the batch's handlers would
 * each have read: four set queries in place of two or three queries per event.
 */
export async function preload(db: Db, keys: BatchKeys): Promise<void> {
  const batch = batches.get(db);
  if (!batch) return;
  const children = lower(keys.children).filter((id) => !batch.locked.has(id));
  if (children.length) {
    await db.$queryRawUnsafe(`SELECT count(pg_advisory_xact_lock(hashtext(id))) FROM (SELECT unnest($1::text[]) AS id ORDER BY 1) ids`, children);
    for (const id of children) batch.locked.add(id);
    const rows = await db.$queryRawUnsafe<(ChildRow & { id: string })[]>(
      `SELECT id::text, village_code AS "villageCode", school_id AS "schoolId", left_behind_type AS "leftBehindType", categories, risk_level AS "riskLevel", status, revision
         FROM children WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
      children,
    );
    fill(batch.children, children, rows);
  }
  const load = async <R extends { childId: string }>(map: Map<string, R | null>, ids: string[], sql: string) => {
    if (!ids.length) return;
    fill(map, ids, await db.$queryRawUnsafe<(R & { id: string })[]>(sql, ids));
  };
  await load(
    batch.items,
    lower(keys.items),
    `SELECT id::text, child_id::text AS "childId", bucket, village_code AS "villageCode", period FROM visit_items WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
  );
  await load(
    batch.pairings,
    lower(keys.pairings),
    `SELECT id::text, child_id::text AS "childId", state, village_code AS "villageCode", kind FROM pairings WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
  );
  await load(
    batch.concerns,
    lower(keys.concerns),
    `SELECT id::text, child_id::text AS "childId", escalated, resolved_at IS NOT NULL AS resolved, village_code AS "villageCode" FROM concerns WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
  );
}

function fill<R>(map: Map<string, R | null>, ids: string[], rows: (R & { id: string })[]): void {
  for (const id of ids) map.set(id, null);
  for (const { id, ...row } of rows) map.set(id, row as R);
}

/** A preloaded row (or null: none), or undefined when the batch did not preload it. */
function cached<R>(db: Db, pick: (b: Batch) => Map<string, R | null>, id: string): R | null | undefined {
  const batch = batches.get(db);
  return batch ? pick(batch).get(id.toLowerCase()) : undefined;
}
function remember<R>(db: Db, pick: (b: Batch) => Map<string, R | null>, id: string, row: R): void {
  const batch = batches.get(db);
  if (batch) pick(batch).set(id.toLowerCase(), row);
}

async function writeDeltas(db: Db, deltas: Map<string, number>): Promise<void> {
  const rows = [...deltas].filter(([, n]) => n !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (rows.length === 0) return;
  const keys = rows.map(([k]) => k.split(SEP) as [string, string, string]);
  // Sorted keys: concurrent writers lock counter rows in one order and cannot deadlock.
  await db.$executeRawUnsafe(
    `INSERT INTO counters (village_code, metric, dims, n) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[])
     ON CONFLICT (village_code, metric, dims) DO UPDATE SET n = counters.n + EXCLUDED.n`,
    keys.map((k) => k[0]),
    keys.map((k) => k[1]),
    keys.map((k) => k[2]),
    rows.map(([, n]) => n),
  );
}

/** Moves a counter by delta; counters always equal the aggregate over the rows they summarise. */
async function bump(db: Db, villageCode: string, metric: string, dims: string, delta: number): Promise<void> {
  if (delta === 0) return;
  const batch = batches.get(db);
  if (batch) {
    const key = `${villageCode}${SEP}${metric}${SEP}${dims}`;
    batch.deltas.set(key, (batch.deltas.get(key) ?? 0) + delta);
    return;
  }
  await db.$executeRawUnsafe(
    `INSERT INTO counters (village_code, metric, dims, n) VALUES ($1, $2, $3, $4)
     ON CONFLICT (village_code, metric, dims) DO UPDATE SET n = counters.n + EXCLUDED.n`,
    villageCode,
    metric,
    dims,
    delta,
  );
}

/**
 * Serialises work on one child across concurrent consumers: two first events
 * for the same item (visit.due and visit.overdue at once) must not both see "no
 * row yet" and both count it, and a child moving village must not miss a row
 * being written for it. Every row hangs off one child, so the child's id is the
 * key. Held to the end of the transaction.
 */
async function lock(db: Db, childId: string): Promise<void> {
  const id = childId.toLowerCase();
  const batch = batches.get(db);
  if (batch) {
    if (batch.locked.has(id)) return;
    batch.locked.add(id);
  }
  await db.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(hashtext($1))`, id);
}

/**
 * The village a child's rows are counted in: the child's current one when the
 * child is known, else the one the event carries (applyChild moves the rows when
 * the registration arrives). So live events, reordered events and a rebuild's
 * snapshots (which carry the producers' current village) all end up alike.
 */
async function childState(db: Db, childId: string, fallbackVillage: string): Promise<{ villageCode: string; status: string | null }> {
  const known = cached(db, (b) => b.children, childId);
  if (known !== undefined) return known ? { villageCode: known.villageCode, status: known.status } : { villageCode: fallbackVillage, status: null };
  const [row] = await db.$queryRawUnsafe<{ villageCode: string; status: string }[]>(
    `SELECT village_code AS "villageCode", status FROM children WHERE id = $1::uuid`,
    childId,
  );
  return row ?? { villageCode: fallbackVillage, status: null };
}

/** Years in which each child has a check-up (the examined counter counts active children once per year). */
async function examinedYears(db: Db, childIds: readonly string[]): Promise<Map<string, string[]>> {
  const years = new Map<string, string[]>();
  if (childIds.length === 0) return years;
  const rows = await db.$queryRawUnsafe<{ childId: string; y: string }[]>(
    `SELECT DISTINCT child_id::text AS "childId", to_char(date, 'YYYY') AS y FROM checkups WHERE child_id = ANY($1::uuid[])`,
    childIds,
  );
  for (const r of rows) years.set(r.childId, [...(years.get(r.childId) ?? []), r.y]);
  return years;
}

const concernKeys = (c: { escalated: boolean; resolved: boolean }): string[] => (c.resolved ? [] : c.escalated ? ["open", "escalated_open"] : ["open"]);

/**
 * Moves every row of the children to their current village, with their counters:
 * a child that moved village is counted, with its pairings, visits, concerns and
 * check-ups, where it lives now (as the producers' snapshots have it). One statement
 * per table for all the children.
 */
async function moveRows(db: Db, moves: readonly { childId: string; to: string }[]): Promise<void> {
  if (moves.length === 0) return;
  const m = JSON.stringify(moves.map((x) => ({ id: x.childId, to: x.to })));
  const moved = <R>(table: string, alias: string, returning: string) =>
    db.$queryRawUnsafe<(R & { from: string; to: string })[]>(
      `UPDATE ${table} ${alias} SET village_code = m.to FROM ${table} o, jsonb_to_recordset($1::jsonb) AS m(id uuid, "to" text)
        WHERE o.id = ${alias}.id AND ${alias}.child_id = m.id AND ${alias}.village_code <> m.to
       RETURNING o.village_code AS "from", m.to AS "to", ${returning}`,
      m,
    );
  for (const r of await moved<{ kind: string; state: string }>("pairings", "p", "p.kind, p.state"))
    if (r.state === "active") await shift(db, r.from, r.to, "pairing", r.kind);
  for (const r of await moved<{ period: string; bucket: string }>("visit_items", "i", "i.period, i.bucket"))
    await shift(db, r.from, r.to, "item", `${r.period}|${r.bucket}`);
  for (const r of await moved<{ month: string }>("visit_records", "r", "to_char(r.date, 'YYYY-MM') AS month")) await shift(db, r.from, r.to, "record", r.month);
  for (const r of await moved<{ escalated: boolean; resolved: boolean }>("concerns", "k", "k.escalated, k.resolved_at IS NOT NULL AS resolved"))
    for (const key of concernKeys(r)) await shift(db, r.from, r.to, "concern", key);
  for (const r of await moved<{ year: string; flags: string[] }>("checkups", "k", "to_char(k.date, 'YYYY') AS year, k.flags"))
    for (const flag of new Set(r.flags)) await shift(db, r.from, r.to, "flag", `${r.year}|${flag}`);
  const batch = batches.get(db);
  if (batch) {
    const to = new Map(moves.map((x) => [x.childId.toLowerCase(), x.to]));
    for (const map of [batch.items, batch.pairings, batch.concerns] as Map<string, { childId: string; villageCode: string } | null>[]) {
      for (const row of map.values()) {
        const village = row && to.get(row.childId.toLowerCase());
        if (row && village) row.villageCode = village;
      }
    }
  }
}

async function shift(db: Db, from: string, to: string, metric: string, dims: string): Promise<void> {
  await bump(db, from, metric, dims, -1);
  await bump(db, to, metric, dims, +1);
}

interface ChildRow {
  villageCode: string;
  schoolId: string;
  leftBehindType: string;
  categories: string[];
  riskLevel: string;
  status: string;
  revision: number;
}

function childKeys(c: ChildRow): [string, string][] {
  return [
    ["children", `${c.status}|${c.leftBehindType}|${c.riskLevel}|${c.schoolId}`],
    ...c.categories.map((cat): [string, string] => ["category", `${c.status}|${cat}|${c.leftBehindType}|${c.riskLevel}`]),
  ];
}

/** The children the counts are kept for (the shared rules: @shouhu/messaging child-projection). */
const childRows: ChildProjection<{ id: string; name: string; birthDate: string; next: ChildRow }> = {
  table: "children",
  child: (c) => ({ id: c.id, revision: c.next.revision }),
  columns: {
    name: { type: "text", value: (c) => c.name },
    birth_date: { type: "date", value: (c) => c.birthDate },
    village_code: { type: "text", value: (c) => c.next.villageCode },
    school_id: { type: "text", value: (c) => c.next.schoolId },
    left_behind_type: { type: "text", value: (c) => c.next.leftBehindType },
    categories: { type: "text[]", value: (c) => c.next.categories },
    risk_level: { type: "text", value: (c) => c.next.riskLevel },
    status: { type: "text", value: (c) => c.next.status },
  },
};

/**
 * Child snapshots (registration, update, status change, or a rebuild's
 * snapshot): each applied only if newer than what is held, so redelivered and
 * reordered events converge. A child leaving the programme closes its items
 * not yet due. Many children at once (a consumer batch's child events) by one
 * statement per step; at most one snapshot per child (the batch passes them in rounds).
 */
export async function applyChildren(db: Db, children: readonly ChildSnapshot[]): Promise<void> {
  if (children.length === 0) return;
  // In id order, like `preload` (a batch's children are locked already).
  for (const id of lower(children.map((c) => c.id))) await lock(db, id);
  const held = new Map<string, ChildRow | null>();
  const unknown: string[] = [];
  for (const c of children) {
    const known = cached(db, (b) => b.children, c.id);
    if (known === undefined) unknown.push(c.id.toLowerCase());
    else held.set(c.id.toLowerCase(), known);
  }
  if (unknown.length) {
    const rows = await db.$queryRawUnsafe<(ChildRow & { id: string })[]>(
      `SELECT id::text, village_code AS "villageCode", school_id AS "schoolId", left_behind_type AS "leftBehindType", categories, risk_level AS "riskLevel", status, revision
         FROM children WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
      unknown,
    );
    fill(held, unknown, rows);
  }
  const changes = children
    .map((child) => ({ child, old: held.get(child.id.toLowerCase()) ?? null }))
    .filter(({ child, old }) => !(old && old.revision >= child.revision))
    .map(({ child, old }) => ({
      id: child.id,
      name: child.name,
      birthDate: child.birthDate,
      old,
      next: {
        villageCode: child.villageCode,
        schoolId: child.schoolId ?? "",
        leftBehindType: child.leftBehindType,
        categories: child.difficultyCategories,
        riskLevel: child.riskLevel,
        status: child.status,
        revision: child.revision,
      } satisfies ChildRow,
    }));
  if (changes.length === 0) return;
  await upsertChildren(db, childRows, changes);
  for (const { id, old, next } of changes) {
    remember(db, (b) => b.children, id, next);
    if (old) for (const [metric, dims] of childKeys(old)) await bump(db, old.villageCode, metric, dims, -1);
    for (const [metric, dims] of childKeys(next)) await bump(db, next.villageCode, metric, dims, +1);
  }
  // Rows that arrived before the registration, or before a move, follow the child.
  await moveRows(
    db,
    changes.filter(({ old, next }) => !old || old.villageCode !== next.villageCode).map(({ id, next }) => ({ childId: id, to: next.villageCode })),
  );
  // Check-up coverage counts active children: examined moves with the child's village and status.
  const counted = changes.map(({ id, old, next }) => ({
    id,
    was: old?.status === "active" ? old.villageCode : null,
    is: next.status === "active" ? next.villageCode : null,
  }));
  const recount = counted.filter((c) => c.was !== c.is);
  const years = await examinedYears(
    db,
    recount.map((c) => c.id),
  );
  for (const c of recount) {
    for (const year of years.get(c.id.toLowerCase()) ?? []) {
      if (c.was) await bump(db, c.was, "examined", year, -1);
      if (c.is) await bump(db, c.is, "examined", year, +1);
    }
  }
  const exited = changes.filter(({ next }) => next.status === "exited").map(({ id }) => id);
  if (exited.length) {
    const closed = await db.$queryRawUnsafe<{ villageCode: string; period: string }[]>(
      `UPDATE visit_items SET bucket = 'closed' WHERE child_id = ANY($1::uuid[]) AND bucket = 'pending' RETURNING village_code AS "villageCode", period`,
      exited,
    );
    for (const item of closed) {
      await bump(db, item.villageCode, "item", `${item.period}|pending`, -1);
      await bump(db, item.villageCode, "item", `${item.period}|closed`, +1);
    }
  }
}

/** A pairing is active until it ends; an end is final whichever event comes first. */
export async function applyPairing(
  db: Db,
  p: {
    id: string;
    childId: string;
    villageCode: string;
    kind: string;
    helperId?: string | null;
    state: "active" | "ended";
    startedOn?: string | null;
    endedOn?: string | null;
  },
): Promise<void> {
  await lock(db, p.childId);
  const { villageCode } = await childState(db, p.childId, p.villageCode);
  const known = cached(db, (b) => b.pairings, p.id);
  const [old] =
    known !== undefined
      ? known
        ? [known]
        : []
      : await db.$queryRawUnsafe<{ state: string; villageCode: string; kind: string }[]>(
          `SELECT state, village_code AS "villageCode", kind FROM pairings WHERE id = $1::uuid FOR UPDATE`,
          p.id,
        );
  const state = old?.state === "ended" || p.state === "ended" ? "ended" : "active";
  remember(db, (b) => b.pairings, p.id, { childId: p.childId, state, villageCode: old?.villageCode ?? villageCode, kind: old?.kind ?? p.kind });
  await db.$executeRawUnsafe(
    `INSERT INTO pairings (id, child_id, village_code, kind, state, started_on, ended_on, helper_id) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::date, $7::date, $8::uuid)
     ON CONFLICT (id) DO UPDATE SET state = $5, started_on = COALESCE(pairings.started_on, EXCLUDED.started_on), ended_on = COALESCE(pairings.ended_on, EXCLUDED.ended_on),
       helper_id = COALESCE(pairings.helper_id, EXCLUDED.helper_id)`,
    p.id,
    p.childId,
    villageCode,
    p.kind,
    state,
    p.startedOn ?? null,
    p.endedOn ?? null,
    p.helperId ?? null,
  );
  if (old?.state === "active" && state === "ended") await bump(db, old.villageCode, "pairing", old.kind, -1);
  if (!old && state === "active") await bump(db, villageCode, "pairing", p.kind, +1);
}

export type Bucket = "pending" | "closed" | "missed" | "escalated" | "late" | "on_time";
/** Items only move forward: pending → (closed | missed → escalated) → done (on time or late). */
const rank: Record<Bucket, number> = { pending: 0, closed: 1, missed: 2, escalated: 3, late: 4, on_time: 4 };

export async function applyItem(
  db: Db,
  item: { id: string; childId: string; villageCode: string; kind: string; period: string; dueDate: string | null; bucket: Bucket },
): Promise<void> {
  await lock(db, item.childId);
  const child = await childState(db, item.childId, item.villageCode);
  const known = cached(db, (b) => b.items, item.id);
  const [old] =
    known !== undefined
      ? known
        ? [known]
        : []
      : await db.$queryRawUnsafe<{ bucket: Bucket; villageCode: string; period: string }[]>(
          `SELECT bucket, village_code AS "villageCode", period FROM visit_items WHERE id = $1::uuid FOR UPDATE`,
          item.id,
        );
  // An item first heard of after its child left the programme is closed, as it would have been.
  let incoming = item.bucket;
  if (incoming === "pending" && child.status === "exited") incoming = "closed";
  const bucket = old && rank[old.bucket] >= rank[incoming] ? old.bucket : incoming;
  await db.$executeRawUnsafe(
    `INSERT INTO visit_items (id, child_id, village_code, kind, period, due_date, bucket) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::date, $7)
     ON CONFLICT (id) DO UPDATE SET bucket = $7, due_date = COALESCE(visit_items.due_date, EXCLUDED.due_date)`,
    item.id,
    item.childId,
    child.villageCode,
    item.kind,
    item.period,
    item.dueDate,
    bucket,
  );
  remember(db, (b) => b.items, item.id, {
    childId: item.childId,
    bucket,
    villageCode: old?.villageCode ?? child.villageCode,
    period: old?.period ?? item.period,
  });
  if (old && old.bucket !== bucket) {
    await bump(db, old.villageCode, "item", `${old.period}|${old.bucket}`, -1);
    await bump(db, old.villageCode, "item", `${old.period}|${bucket}`, +1);
  }
  if (!old) await bump(db, child.villageCode, "item", `${item.period}|${bucket}`, +1);
}

export async function applyRecord(
  db: Db,
  r: { id: string; childId: string; villageCode: string; kind: string; date: string; call?: { connected: boolean; minutes: number | null } | null },
): Promise<void> {
  await lock(db, r.childId);
  const { villageCode } = await childState(db, r.childId, r.villageCode);
  const inserted = await db.$executeRawUnsafe(
    `INSERT INTO visit_records (id, child_id, village_code, kind, date, call_connected, call_minutes)
     VALUES ($1::uuid, $2::uuid, $3, $4, $5::date, $6, $7) ON CONFLICT (id) DO NOTHING`,
    r.id,
    r.childId,
    villageCode,
    r.kind,
    r.date,
    r.call?.connected ?? null,
    r.call?.minutes ?? null,
  );
  if (inserted) await bump(db, villageCode, "record", r.date.slice(0, 7), +1);
}

/** Raised, escalated and resolved merge whatever their order; a resolved case stays resolved. */
export async function applyConcern(
  db: Db,
  c: {
    id: string;
    childId: string;
    childName: string;
    villageCode: string;
    category: string;
    raisedAt?: string | null;
    escalated?: boolean;
    resolvedAt?: string | null;
  },
): Promise<void> {
  await lock(db, c.childId);
  const { villageCode } = await childState(db, c.childId, c.villageCode);
  const known = cached(db, (b) => b.concerns, c.id);
  const [old] =
    known !== undefined
      ? known
        ? [known]
        : []
      : await db.$queryRawUnsafe<{ escalated: boolean; resolved: boolean; villageCode: string }[]>(
          `SELECT escalated, resolved_at IS NOT NULL AS resolved, village_code AS "villageCode" FROM concerns WHERE id = $1::uuid FOR UPDATE`,
          c.id,
        );
  await db.$executeRawUnsafe(
    `INSERT INTO concerns (id, child_id, child_name, village_code, category, raised_at, escalated, resolved_at)
     VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::timestamptz, $7, $8::timestamptz)
     ON CONFLICT (id) DO UPDATE SET raised_at = COALESCE(concerns.raised_at, EXCLUDED.raised_at),
       escalated = concerns.escalated OR EXCLUDED.escalated, resolved_at = COALESCE(concerns.resolved_at, EXCLUDED.resolved_at)`,
    c.id,
    c.childId,
    c.childName,
    villageCode,
    c.category,
    c.raisedAt ?? null,
    c.escalated ?? false,
    c.resolvedAt ?? null,
  );
  const next = { escalated: (old?.escalated ?? false) || (c.escalated ?? false), resolved: (old?.resolved ?? false) || Boolean(c.resolvedAt) };
  remember(db, (b) => b.concerns, c.id, { childId: c.childId, ...next, villageCode: old?.villageCode ?? villageCode });
  if (old) for (const k of concernKeys(old)) await bump(db, old.villageCode, "concern", k, -1);
  for (const k of concernKeys(next)) await bump(db, old?.villageCode ?? villageCode, "concern", k, +1);
}

/**
 * A check-up: an active child counts as examined once per year (coverage is of
 * the children in the programme; applyChild moves the count when the child
 * leaves or moves); each finding counts per kind.
 */
export async function applyCheckup(db: Db, e: { id: string; childId: string; villageCode: string; date: string; flags: string[] }): Promise<void> {
  await lock(db, e.childId);
  const child = await childState(db, e.childId, e.villageCode);
  const year = e.date.slice(0, 4);
  const [{ seen }] = (await db.$queryRawUnsafe<{ seen: boolean }[]>(
    `SELECT EXISTS (SELECT 1 FROM checkups WHERE child_id = $1::uuid AND date_part('year', date) = $2::int) AS seen`,
    e.childId,
    Number(year),
  )) as [{ seen: boolean }];
  const inserted = await db.$executeRawUnsafe(
    `INSERT INTO checkups (id, child_id, village_code, date, flags) VALUES ($1::uuid, $2::uuid, $3, $4::date, $5::text[]) ON CONFLICT (id) DO NOTHING`,
    e.id,
    e.childId,
    child.villageCode,
    e.date,
    e.flags,
  );
  if (!inserted) return;
  if (!seen && child.status === "active") await bump(db, child.villageCode, "examined", year, +1);
  for (const flag of new Set(e.flags)) await bump(db, child.villageCode, "flag", `${year}|${flag}`, +1);
}

/**
 * Adds `by` (1, or -1 to take a delivery back) to a day's count. A sum, so the order events arrive in does not
 * matter: a failed receipt applied before its delivery leaves -1 that the delivery brings back to 0.
 */
export async function countNotification(db: Db, day: string, channel: string, outcome: "delivered" | "failed", by: 1 | -1 = 1): Promise<void> {
  await db.$executeRawUnsafe(
    `INSERT INTO notification_stats (day, channel, ${outcome}) VALUES ($1::date, $2, $3)
     ON CONFLICT (day, channel) DO UPDATE SET ${outcome} = notification_stats.${outcome} + $3`,
    day,
    channel,
    by,
  );
}

/** An activity at a children's home (activity.recorded): one row per session, a redelivery adds nothing. */
export async function applyActivity(
  db: Db,
  e: { id: string; siteId: string; orgUnit: string; townshipCode: string; kind: string; date: string; attendance: number },
): Promise<void> {
  await db.$executeRawUnsafe(
    `INSERT INTO activities (id, site_id, org_unit, township_code, kind, date, attendance) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::date, $7)
     ON CONFLICT (id) DO NOTHING`,
    e.id,
    e.siteId,
    e.orgUnit,
    e.townshipCode,
    e.kind,
    e.date,
    e.attendance,
  );
}

/**
 * 控辍保学: a child's status in a semester (registry's enrolment.changed). The newest event wins, by the enrolment's
 * revision and then `occurredAt` (as visits orders them; events without a revision count as 0), so a redelivered
 * or late older one changes nothing; the row follows the child's village at the time of the event.
 */
export async function applyEnrolment(
  db: Db,
  e: {
    childId: string;
    semester: string;
    status: string;
    schoolId: string | null;
    schoolName: string | null;
    villageCode: string;
    at: string;
    revision: number;
  },
): Promise<void> {
  await db.$executeRawUnsafe(
    `INSERT INTO enrolments (child_id, semester, status, school_id, school_name, village_code, at, revision)
     VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::timestamptz, $8)
     ON CONFLICT (child_id, semester) DO UPDATE SET status = EXCLUDED.status, school_id = EXCLUDED.school_id,
       school_name = EXCLUDED.school_name, village_code = EXCLUDED.village_code, at = EXCLUDED.at, revision = EXCLUDED.revision
     WHERE (enrolments.revision, enrolments.at) <= (EXCLUDED.revision, EXCLUDED.at)`,
    e.childId,
    e.semester,
    e.status,
    e.schoolId,
    e.schoolName,
    e.villageCode,
    e.at,
    e.revision,
  );
}
