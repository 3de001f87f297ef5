import type { EventData } from "@shouhu/contracts";
import type { PrismaClient, Tx } from "./db.js";

/**
 * The 成长档案's strands owned by other services (visits, activities, health), kept from their events for the
 * handover pack. Each row is keyed by the owner's id: a redelivered or re-published event writes nothing new.
 */
interface VisitRow {
  recordId: string;
  childId: string;
  date: string;
  kind: string;
  visitor: { userId: string; name: string };
  /** null: the record satisfied no due item. */
  onTime: boolean | null;
}

async function insertVisit(tx: Tx, v: VisitRow): Promise<void> {
  await tx.$executeRawUnsafe(
    `INSERT INTO growth_visits (record_id, child_id, date, kind, visitor_user_id, visitor_name, on_time)
     VALUES ($1::uuid, $2::uuid, $3::date, $4, $5, $6, $7) ON CONFLICT (record_id) DO NOTHING`,
    v.recordId,
    v.childId,
    v.date,
    v.kind,
    v.visitor.userId,
    v.visitor.name,
    v.onTime,
  );
}

export async function recordVisit(tx: Tx, d: EventData<"visit.recorded">): Promise<void> {
  await insertVisit(tx, { recordId: d.recordId, childId: d.child.id, date: d.date, kind: d.kind, visitor: d.visitor, onTime: d.satisfied?.onTime ?? null });
}

/** A visit re-published by visits' snapshot (a rebuild): kept when it names the visitor (producers from before 2026-12-06 do not). */
export async function recordSnapshotVisit(tx: Tx, d: EventData<"snapshot.visit-record">): Promise<void> {
  if (!d.visitor) return;
  await insertVisit(tx, { recordId: d.recordId, childId: d.child.id, date: d.date, kind: d.kind, visitor: d.visitor, onTime: d.onTime ?? null });
}

export async function recordActivity(tx: Tx, d: EventData<"activity.recorded">): Promise<void> {
  if (d.attendance.length === 0) return;
  await tx.$executeRawUnsafe(
    `INSERT INTO growth_activities (session_id, child_id, date, kind, site_name, leader)
     SELECT $1::uuid, c, $2::date, $3, $4, $5 FROM unnest($6::uuid[]) AS c ON CONFLICT DO NOTHING`,
    d.sessionId,
    d.date,
    d.kind,
    d.site.name,
    d.leader,
    d.attendance,
  );
}

/** A re-published exam (health's snapshot) may now carry the figures an older event lacked: those are filled in. */
export async function recordCheckup(tx: Tx, d: EventData<"checkup.recorded">): Promise<void> {
  const m = d.measures;
  await tx.$executeRawUnsafe(
    `INSERT INTO growth_checkups (exam_id, child_id, date, height_cm, weight_kg, bmi, flags)
     VALUES ($1::uuid, $2::uuid, $3::date, $4, $5, $6, $7::jsonb)
     ON CONFLICT (exam_id) DO UPDATE SET height_cm = COALESCE(growth_checkups.height_cm, EXCLUDED.height_cm),
       weight_kg = COALESCE(growth_checkups.weight_kg, EXCLUDED.weight_kg), bmi = COALESCE(growth_checkups.bmi, EXCLUDED.bmi)`,
    d.examId,
    d.child.id,
    d.date,
    m?.heightCm ?? null,
    m?.weightKg ?? null,
    m?.bmi ?? null,
    JSON.stringify(d.flags),
  );
}

export interface StrandVisit {
  childId: string;
  date: string;
  kind: string;
  visitorUserId: string;
  visitorName: string;
  onTime: boolean | null;
}
export interface StrandActivity {
  childId: string;
  date: string;
  kind: string;
  siteName: string;
  leader: string;
}
export interface StrandCheckup {
  childId: string;
  date: string;
  heightCm: number | null;
  weightKg: number | null;
  bmi: number | null;
  flags: { kind: string; label: string }[];
}
export interface StrandEntry {
  childId: string;
  kind: "award" | "note";
  date: string;
  title: string;
  detail: string | null;
  authorUsername: string;
  authorName: string;
}

/** Everything the pack shows of these children's strands, oldest first (one statement per strand, not per child). */
export async function strandsOf(prisma: PrismaClient, childIds: string[]) {
  const [visits, activities, checkups, entries] = await Promise.all([
    prisma.$queryRawUnsafe<StrandVisit[]>(
      `SELECT child_id AS "childId", to_char(date, 'YYYY-MM-DD') AS date, kind, visitor_user_id AS "visitorUserId", visitor_name AS "visitorName",
              on_time AS "onTime" FROM growth_visits WHERE child_id = ANY($1::uuid[]) ORDER BY date, record_id`,
      childIds,
    ),
    prisma.$queryRawUnsafe<StrandActivity[]>(
      `SELECT child_id AS "childId", to_char(date, 'YYYY-MM-DD') AS date, kind, site_name AS "siteName", leader
         FROM growth_activities WHERE child_id = ANY($1::uuid[]) ORDER BY date, session_id`,
      childIds,
    ),
    prisma.$queryRawUnsafe<StrandCheckup[]>(
      `SELECT child_id AS "childId", to_char(date, 'YYYY-MM-DD') AS date, height_cm AS "heightCm", weight_kg AS "weightKg", bmi, flags
         FROM growth_checkups WHERE child_id = ANY($1::uuid[]) ORDER BY date, exam_id`,
      childIds,
    ),
    prisma.$queryRawUnsafe<StrandEntry[]>(
      `SELECT child_id AS "childId", kind, to_char(date, 'YYYY-MM-DD') AS date, title, detail, author_username AS "authorUsername",
              author_name AS "authorName" FROM growth_entries WHERE child_id = ANY($1::uuid[]) AND removed_at IS NULL ORDER BY date, created_at`,
      childIds,
    ),
  ]);
  return { visits, activities, checkups, entries };
}
