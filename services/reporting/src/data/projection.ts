import type { ChildSnapshot } from "@shouhu/contracts";
import type { Tx } from "./db.js";

type Db = Pick<Tx, "$queryRawUnsafe" | "$executeRawUnsafe">;

/** Moves a counter by delta; counters always equal the aggregate over the rows they summarise. */
async function bump(db: Db, villageCode: string, metric: string, dims: string, delta: number): Promise<void> {
  if (delta === 0) return;
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
 * Serialises work on one entity across concurrent consumers: two first events
 * for the same item (visit.due and visit.overdue at once) must not both see "no
 * row yet" and both count it. Held to the end of the transaction.
 */
async function lock(db: Db, key: string): Promise<void> {
  await db.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(hashtext($1))`, key);
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
  return [["children", `${c.status}|${c.leftBehindType}|${c.riskLevel}|${c.schoolId}`], ...c.categories.map((cat): [string, string] => ["category", `${c.status}|${cat}`])];
}

/**
 * A child snapshot (registration, update, status change, or a rebuild's
 * snapshot): applied only if newer than what is held, so redelivered and
 * reordered events converge. A child leaving the programme closes its items
 * not yet due.
 */
export async function applyChild(db: Db, child: ChildSnapshot): Promise<void> {
  await lock(db, child.id);
  const [old] = await db.$queryRawUnsafe<ChildRow[]>(
    `SELECT village_code AS "villageCode", school_id AS "schoolId", left_behind_type AS "leftBehindType", categories, risk_level AS "riskLevel", status, revision
       FROM children WHERE id = $1::uuid FOR UPDATE`,
    child.id,
  );
  if (old && old.revision >= child.revision) return;
  const next: ChildRow = {
    villageCode: child.villageCode,
    schoolId: child.schoolId ?? "",
    leftBehindType: child.leftBehindType,
    categories: child.difficultyCategories,
    riskLevel: child.riskLevel,
    status: child.status,
    revision: child.revision,
  };
  await db.$executeRawUnsafe(
    `INSERT INTO children (id, name, village_code, school_id, left_behind_type, categories, risk_level, status, revision)
     VALUES ($1::uuid, $2, $3, $4, $5, $6::text[], $7, $8, $9)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, village_code = EXCLUDED.village_code, school_id = EXCLUDED.school_id,
       left_behind_type = EXCLUDED.left_behind_type, categories = EXCLUDED.categories, risk_level = EXCLUDED.risk_level,
       status = EXCLUDED.status, revision = EXCLUDED.revision`,
    child.id,
    child.name,
    next.villageCode,
    next.schoolId,
    next.leftBehindType,
    next.categories,
    next.riskLevel,
    next.status,
    next.revision,
  );
  if (old) for (const [metric, dims] of childKeys(old)) await bump(db, old.villageCode, metric, dims, -1);
  for (const [metric, dims] of childKeys(next)) await bump(db, next.villageCode, metric, dims, +1);
  if (next.status === "exited") {
    const closed = await db.$queryRawUnsafe<{ villageCode: string; period: string }[]>(
      `UPDATE visit_items SET bucket = 'closed' WHERE child_id = $1::uuid AND bucket = 'pending' RETURNING village_code AS "villageCode", period`,
      child.id,
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
  p: { id: string; childId: string; villageCode: string; kind: string; state: "active" | "ended"; startedOn?: string | null; endedOn?: string | null },
): Promise<void> {
  await lock(db, p.id);
  const [old] = await db.$queryRawUnsafe<{ state: string; villageCode: string; kind: string }[]>(
    `SELECT state, village_code AS "villageCode", kind FROM pairings WHERE id = $1::uuid FOR UPDATE`,
    p.id,
  );
  const state = old?.state === "ended" || p.state === "ended" ? "ended" : "active";
  await db.$executeRawUnsafe(
    `INSERT INTO pairings (id, child_id, village_code, kind, state, started_on, ended_on) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::date, $7::date)
     ON CONFLICT (id) DO UPDATE SET state = $5, started_on = COALESCE(pairings.started_on, EXCLUDED.started_on), ended_on = COALESCE(pairings.ended_on, EXCLUDED.ended_on)`,
    p.id,
    p.childId,
    p.villageCode,
    p.kind,
    state,
    p.startedOn ?? null,
    p.endedOn ?? null,
  );
  if (old?.state === "active" && state === "ended") await bump(db, old.villageCode, "pairing", old.kind, -1);
  if (!old && state === "active") await bump(db, p.villageCode, "pairing", p.kind, +1);
}

export type Bucket = "pending" | "closed" | "missed" | "escalated" | "late" | "on_time";
/** Items only move forward: pending → (closed | missed → escalated) → done (on time or late). */
const rank: Record<Bucket, number> = { pending: 0, closed: 1, missed: 2, escalated: 3, late: 4, on_time: 4 };

export async function applyItem(
  db: Db,
  item: { id: string; childId: string; villageCode: string; kind: string; period: string; dueDate: string | null; bucket: Bucket },
): Promise<void> {
  await lock(db, item.id);
  const [old] = await db.$queryRawUnsafe<{ bucket: Bucket; villageCode: string; period: string }[]>(
    `SELECT bucket, village_code AS "villageCode", period FROM visit_items WHERE id = $1::uuid FOR UPDATE`,
    item.id,
  );
  // An item first heard of after its child left the programme is closed, as it would have been.
  let incoming = item.bucket;
  if (incoming === "pending") {
    const [child] = await db.$queryRawUnsafe<{ status: string }[]>(`SELECT status FROM children WHERE id = $1::uuid`, item.childId);
    if (child?.status === "exited") incoming = "closed";
  }
  const bucket = old && rank[old.bucket] >= rank[incoming] ? old.bucket : incoming;
  await db.$executeRawUnsafe(
    `INSERT INTO visit_items (id, child_id, village_code, kind, period, due_date, bucket) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6::date, $7)
     ON CONFLICT (id) DO UPDATE SET bucket = $7, due_date = COALESCE(visit_items.due_date, EXCLUDED.due_date)`,
    item.id,
    item.childId,
    item.villageCode,
    item.kind,
    item.period,
    item.dueDate,
    bucket,
  );
  if (old && old.bucket !== bucket) {
    await bump(db, old.villageCode, "item", `${old.period}|${old.bucket}`, -1);
    await bump(db, old.villageCode, "item", `${old.period}|${bucket}`, +1);
  }
  if (!old) await bump(db, item.villageCode, "item", `${item.period}|${bucket}`, +1);
}

export async function applyRecord(db: Db, r: { id: string; childId: string; villageCode: string; kind: string; date: string }): Promise<void> {
  const inserted = await db.$executeRawUnsafe(
    `INSERT INTO visit_records (id, child_id, village_code, kind, date) VALUES ($1::uuid, $2::uuid, $3, $4, $5::date) ON CONFLICT (id) DO NOTHING`,
    r.id,
    r.childId,
    r.villageCode,
    r.kind,
    r.date,
  );
  if (inserted) await bump(db, r.villageCode, "record", r.date.slice(0, 7), +1);
}

interface ConcernState {
  escalated: boolean;
  resolved: boolean;
}
const concernKeys = (c: ConcernState): string[] => (c.resolved ? [] : c.escalated ? ["open", "escalated_open"] : ["open"]);

/** Raised, escalated and resolved merge whatever their order; a resolved case stays resolved. */
export async function applyConcern(
  db: Db,
  c: { id: string; childId: string; childName: string; villageCode: string; category: string; raisedAt?: string | null; escalated?: boolean; resolvedAt?: string | null },
): Promise<void> {
  await lock(db, c.id);
  const [old] = await db.$queryRawUnsafe<{ escalated: boolean; resolved: boolean; villageCode: string }[]>(
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
    c.villageCode,
    c.category,
    c.raisedAt ?? null,
    c.escalated ?? false,
    c.resolvedAt ?? null,
  );
  const next = { escalated: (old?.escalated ?? false) || (c.escalated ?? false), resolved: (old?.resolved ?? false) || Boolean(c.resolvedAt) };
  if (old) for (const k of concernKeys(old)) await bump(db, old.villageCode, "concern", k, -1);
  for (const k of concernKeys(next)) await bump(db, old?.villageCode ?? c.villageCode, "concern", k, +1);
}

/** A check-up: the child counts as examined once per year; each finding counts per kind. */
export async function applyCheckup(db: Db, e: { id: string; childId: string; villageCode: string; date: string; flags: string[] }): Promise<void> {
  await lock(db, e.childId);
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
    e.villageCode,
    e.date,
    e.flags,
  );
  if (!inserted) return;
  if (!seen) await bump(db, e.villageCode, "examined", year, +1);
  for (const flag of new Set(e.flags)) await bump(db, e.villageCode, "flag", `${year}|${flag}`, +1);
}

export async function countNotification(db: Db, day: string, channel: string, outcome: "delivered" | "failed"): Promise<void> {
  await db.$executeRawUnsafe(
    `INSERT INTO notification_stats (day, channel, ${outcome}) VALUES ($1::date, $2, 1)
     ON CONFLICT (day, channel) DO UPDATE SET ${outcome} = notification_stats.${outcome} + 1`,
    day,
    channel,
  );
}
