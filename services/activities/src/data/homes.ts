import { v7 as uuidv7 } from "uuid";
import { townshipOf, type ActivityKind } from "@shouhu/contracts";
import { ConflictError, NotFoundError, ValidationError } from "@shouhu/kit";
import { appendToOutbox, buildEvent } from "@shouhu/messaging";
import type { PrismaClient, Tx } from "./db.js";
import { PRODUCER } from "./children.js";
import type { Staff } from "../access.js";
import { STALE_DAYS, addDays, isStale, siteChanges, type SessionInput, type SiteInput, type SitePatch } from "../domain/homes.js";

type Db = Pick<Tx, "$queryRawUnsafe" | "$executeRawUnsafe">;

/** Where the caller may look: their org unit, and for a teacher (not also a case worker) their own school's sites only. */
export interface SiteScope {
  orgUnit: string;
  schoolId: string | null;
}

interface SiteRow {
  id: string;
  name: string;
  kind: "village" | "school";
  orgUnit: string;
  orgUnitName: string | null;
  schoolId: string | null;
  room: string | null;
  equipment: string[];
  openingHours: string | null;
  adults: { name: string; duty: string; phone?: string | null }[];
  rules: string[];
  plan: string | null;
  status: "active" | "retired";
  createdOn: string;
  retiredAt: string | null;
  childCount: number;
  sessionCount: number;
  recentSessions: number;
  lastActivity: string | null;
}
export type SiteView = SiteRow & { stale: boolean };

const SITE_COLUMNS = `s.id, s.name, s.kind, s.org_unit AS "orgUnit", o.name AS "orgUnitName", s.school_id AS "schoolId", s.room, s.equipment,
  s.opening_hours AS "openingHours", s.adults, s.rules, s.plan, s.status, to_char(s.created_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS "createdOn",
  s.retired_at AS "retiredAt",
  (SELECT count(*)::int FROM site_children sc JOIN children c ON c.id = sc.child_id WHERE sc.site_id = s.id AND c.status = 'active') AS "childCount",
  (SELECT count(*)::int FROM activity_sessions a WHERE a.site_id = s.id) AS "sessionCount",
  (SELECT count(*)::int FROM activity_sessions a WHERE a.site_id = s.id AND a.date >= $2::date) AS "recentSessions",
  (SELECT to_char(max(a.date), 'YYYY-MM-DD') FROM activity_sessions a WHERE a.site_id = s.id) AS "lastActivity"`;

/** $1 org unit prefix, $3 teacher's school (or null). */
const IN_SCOPE = `s.org_unit LIKE $1 || '%' AND ($3::text IS NULL OR (s.kind = 'school' AND s.school_id = $3))`;

const view = (today: string) => (r: SiteRow & { retiredAt: Date | string | null }) => ({
  ...r,
  retiredAt: r.retiredAt ? new Date(r.retiredAt).toISOString() : null,
  stale: r.status === "active" && isStale(r.lastActivity, r.createdOn, today),
});

export async function listSites(
  db: Db,
  scope: SiteScope,
  q: { today: string; status: "active" | "retired" | "all"; stale: boolean | null; kind: "village" | "school" | null },
): Promise<SiteView[]> {
  const rows = await db.$queryRawUnsafe<SiteRow[]>(
    `SELECT ${SITE_COLUMNS} FROM sites s LEFT JOIN org_units o ON o.code = s.org_unit
      WHERE ${IN_SCOPE} AND ($4::text = 'all' OR s.status = $4) AND ($5::text IS NULL OR s.kind = $5)
      ORDER BY s.org_unit, s.name LIMIT 1000`,
    scope.orgUnit,
    addDays(q.today, -STALE_DAYS),
    scope.schoolId,
    q.status,
    q.kind,
  );
  const all = rows.map(view(q.today));
  return q.stale === null ? all : all.filter((s) => s.stale === q.stale);
}

/** One site in the caller's scope; 404 otherwise (no hint that it exists elsewhere). */
export async function siteInScope(db: Db, scope: SiteScope, id: string, today: string): Promise<SiteView> {
  const [row] = await db.$queryRawUnsafe<SiteRow[]>(
    `SELECT ${SITE_COLUMNS} FROM sites s LEFT JOIN org_units o ON o.code = s.org_unit WHERE ${IN_SCOPE} AND s.id = $4::uuid`,
    scope.orgUnit,
    addDays(today, -STALE_DAYS),
    scope.schoolId,
    id,
  );
  if (!row) throw new NotFoundError("儿童之家", id);
  return view(today)(row);
}

export interface SiteChild {
  id: string;
  name: string;
  villageCode: string;
  schoolId: string | null;
  birthDate: string | null;
}

const CHILD_COLUMNS = `c.id, c.name, c.village_code AS "villageCode", c.school_id AS "schoolId", to_char(c.birth_date, 'YYYY-MM-DD') AS "birthDate"`;

/** The active children a site of this kind and place may serve: the village's, or the school's in its township. */
export async function candidateChildren(db: Db, site: { kind: string; orgUnit: string; schoolId: string | null }): Promise<SiteChild[]> {
  return db.$queryRawUnsafe<SiteChild[]>(
    `SELECT ${CHILD_COLUMNS} FROM children c
      WHERE c.status = 'active' AND (($1 = 'village' AND c.village_code = $2) OR ($1 = 'school' AND c.township_code = $2 AND c.school_id = $3))
      ORDER BY c.village_code, c.name LIMIT 2000`,
    site.kind,
    site.orgUnit,
    site.schoolId,
  );
}

/** The site's active children (with how many sessions each attended). */
export async function siteChildren(db: Db, siteId: string): Promise<(SiteChild & { attended: number })[]> {
  return db.$queryRawUnsafe(
    `SELECT ${CHILD_COLUMNS},
            (SELECT count(*)::int FROM activity_attendance t JOIN activity_sessions a ON a.id = t.session_id WHERE t.child_id = c.id AND a.site_id = $1::uuid) AS attended
       FROM site_children sc JOIN children c ON c.id = sc.child_id
      WHERE sc.site_id = $1::uuid AND c.status = 'active' ORDER BY c.name`,
    siteId,
  );
}

/** 400 on `field` naming how many ids are not among the candidates (which ones outside is not said). */
async function checkChildren(db: Db, site: { kind: string; orgUnit: string; schoolId: string | null }, ids: string[], field: string): Promise<string[]> {
  const unique = [...new Set(ids.map((i) => i.toLowerCase()))];
  if (unique.length === 0) return [];
  const ok = new Set((await candidateChildren(db, site)).map((c) => c.id));
  const bad = unique.filter((i) => !ok.has(i));
  if (bad.length) throw ValidationError.field(field, `有${bad.length}名儿童不在本儿童之家的服务范围内（须为本村或本校在册儿童）`);
  return unique;
}

async function history(db: Db, siteId: string, action: string, changes: unknown, by: Staff): Promise<void> {
  await db.$executeRawUnsafe(
    `INSERT INTO site_events (id, site_id, action, changes, actor_id, actor_name) VALUES ($1::uuid, $2::uuid, $3, $4::jsonb, $5, $6)`,
    uuidv7(),
    siteId,
    action,
    JSON.stringify(changes),
    by.userId,
    by.name,
  );
}

async function setChildren(db: Db, siteId: string, ids: string[]): Promise<{ added: string[]; removed: string[] }> {
  const current = (await db.$queryRawUnsafe<{ id: string }[]>(`SELECT child_id::text AS id FROM site_children WHERE site_id = $1::uuid`, siteId)).map(
    (r) => r.id,
  );
  const added = ids.filter((i) => !current.includes(i));
  const removed = current.filter((i) => !ids.includes(i));
  if (removed.length) await db.$executeRawUnsafe(`DELETE FROM site_children WHERE site_id = $1::uuid AND child_id = ANY($2::uuid[])`, siteId, removed);
  if (added.length)
    await db.$executeRawUnsafe(`INSERT INTO site_children (site_id, child_id) SELECT $1::uuid, unnest($2::uuid[]) ON CONFLICT DO NOTHING`, siteId, added);
  return { added, removed };
}

export async function createSite(prisma: PrismaClient, input: SiteInput, by: Staff): Promise<string> {
  return prisma.$transaction(async (tx) => {
    const place = { kind: input.kind, orgUnit: input.orgUnit, schoolId: input.schoolId ?? null };
    const childIds = await checkChildren(tx, place, input.childIds, "childIds");
    const id = uuidv7();
    await tx.$executeRawUnsafe(
      `INSERT INTO sites (id, name, kind, org_unit, school_id, room, equipment, opening_hours, adults, rules, plan, status, created_by)
       VALUES ($1::uuid, $2, $3, $4, $5, $6, $7::text[], $8, $9::jsonb, $10::text[], $11, 'active', $12)`,
      id,
      input.name,
      input.kind,
      input.orgUnit,
      place.schoolId,
      input.room ?? null,
      input.equipment,
      input.openingHours ?? null,
      JSON.stringify(input.adults),
      input.rules,
      input.plan ?? null,
      by.userId,
    );
    await setChildren(tx, id, childIds);
    await history(tx, id, "created", { name: input.name, children: childIds.length }, by);
    return id;
  });
}

const COLUMN: Record<string, string> = {
  name: "name",
  room: "room",
  equipment: "equipment",
  openingHours: "opening_hours",
  adults: "adults",
  rules: "rules",
  plan: "plan",
};
const CAST: Record<string, string> = { equipment: "::text[]", rules: "::text[]", adults: "::jsonb" };

export async function updateSite(prisma: PrismaClient, site: SiteView, patch: SitePatch, by: Staff): Promise<void> {
  if (site.status !== "active") throw new ConflictError("SITE_RETIRED", "该儿童之家已撤销，不能再修改");
  await prisma.$transaction(async (tx) => {
    const changes = siteChanges(site as unknown as Record<string, unknown>, patch);
    const sets: string[] = [];
    const values: unknown[] = [site.id];
    for (const [field, [, value]] of Object.entries(changes)) {
      values.push(field === "adults" ? JSON.stringify(value) : value);
      sets.push(`${COLUMN[field]} = $${values.length}${CAST[field] ?? ""}`);
    }
    if (sets.length) await tx.$executeRawUnsafe(`UPDATE sites SET ${sets.join(", ")}, updated_at = now() WHERE id = $1::uuid`, ...values);
    let children: { added: string[]; removed: string[] } = { added: [], removed: [] };
    if (patch.childIds) children = await setChildren(tx, site.id, await checkChildren(tx, site, patch.childIds, "childIds"));
    if (sets.length || children.added.length || children.removed.length)
      await history(tx, site.id, "updated", { fields: changes, childrenAdded: children.added.length, childrenRemoved: children.removed.length }, by);
  });
}

export async function retireSite(prisma: PrismaClient, site: SiteView, reason: string, by: Staff): Promise<void> {
  if (site.status !== "active") throw new ConflictError("SITE_RETIRED", "该儿童之家已撤销");
  await prisma.$transaction(async (tx) => {
    await tx.$executeRawUnsafe(`UPDATE sites SET status = 'retired', retired_at = now(), updated_at = now() WHERE id = $1::uuid`, site.id);
    await history(tx, site.id, "retired", { reason }, by);
  });
}

export async function siteHistory(db: Db, siteId: string) {
  return db.$queryRawUnsafe<{ id: string; action: string; changes: unknown; actorName: string; at: Date }[]>(
    `SELECT id, action, changes, actor_name AS "actorName", at FROM site_events WHERE site_id = $1::uuid ORDER BY at DESC, id DESC LIMIT 200`,
    siteId,
  );
}

export interface SessionRow {
  id: string;
  date: string;
  kind: ActivityKind;
  leader: string;
  summary: string;
  recordedName: string;
  attendance: { id: string; name: string }[];
}

export async function listSessions(db: Db, siteId: string, limit: number): Promise<SessionRow[]> {
  return db.$queryRawUnsafe<SessionRow[]>(
    `SELECT a.id, to_char(a.date, 'YYYY-MM-DD') AS date, a.kind, a.leader, a.summary, a.recorded_name AS "recordedName",
            COALESCE((SELECT json_agg(json_build_object('id', c.id, 'name', c.name) ORDER BY c.name)
                        FROM activity_attendance t JOIN children c ON c.id = t.child_id WHERE t.session_id = a.id), '[]') AS attendance
       FROM activity_sessions a WHERE a.site_id = $1::uuid ORDER BY a.date DESC, a.created_at DESC LIMIT $2`,
    siteId,
    limit,
  );
}

/** Sessions per kind at a site. */
export async function sessionsPerKind(db: Db, siteId: string): Promise<{ kind: ActivityKind; sessions: number; attendances: number }[]> {
  return db.$queryRawUnsafe(
    `SELECT a.kind, count(*)::int AS sessions, COALESCE(sum((SELECT count(*) FROM activity_attendance t WHERE t.session_id = a.id)), 0)::int AS attendances
       FROM activity_sessions a WHERE a.site_id = $1::uuid GROUP BY a.kind ORDER BY a.kind`,
    siteId,
  );
}

/** Records a session with its attendance (the site's own active children only) and publishes activity.recorded. */
export async function recordSession(prisma: PrismaClient, site: SiteView, input: SessionInput, by: Staff, at: Date): Promise<string> {
  if (site.status !== "active") throw new ConflictError("SITE_RETIRED", "该儿童之家已撤销，不能再登记活动");
  return prisma.$transaction(async (tx) => {
    const attendance = [...new Set(input.attendance.map((i) => i.toLowerCase()))];
    if (attendance.length) {
      const ok = new Set((await siteChildren(tx, site.id)).map((c) => c.id));
      const bad = attendance.filter((i) => !ok.has(i));
      if (bad.length) throw ValidationError.field("attendance", `有${bad.length}名儿童不是本儿童之家服务的儿童`);
    }
    const id = uuidv7();
    await tx.$executeRawUnsafe(
      `INSERT INTO activity_sessions (id, site_id, date, kind, leader, summary, recorded_by, recorded_name, created_at)
       VALUES ($1::uuid, $2::uuid, $3::date, $4, $5, $6, $7, $8, $9)`,
      id,
      site.id,
      input.date,
      input.kind,
      input.leader,
      input.summary,
      by.userId,
      by.name,
      at,
    );
    if (attendance.length)
      await tx.$executeRawUnsafe(`INSERT INTO activity_attendance (session_id, child_id) SELECT $1::uuid, unnest($2::uuid[])`, id, attendance);
    await appendToOutbox(tx, [
      buildEvent(
        "activity.recorded",
        {
          subject: site.id,
          orgUnit: site.orgUnit,
          actor: by.actor,
          data: {
            sessionId: id,
            site: { id: site.id, name: site.name, kind: site.kind, orgUnit: site.orgUnit, townshipCode: townshipOf(site.orgUnit) },
            kind: input.kind,
            date: input.date,
            leader: input.leader,
            attendance,
          },
        },
        { producer: PRODUCER, now: at },
      ),
    ]);
    return id;
  });
}

export interface AttendedRow {
  id: string;
  date: string;
  kind: ActivityKind;
  leader: string;
  siteName: string;
}

/**
 * The sessions a child attended, newest first, with the home's name (the 成长档案's activities); null when
 * the child is not one the caller may look at (outside their area, or of another school for a teacher).
 */
export async function sessionsAttended(db: Db, scope: SiteScope, childId: string, limit: number): Promise<AttendedRow[] | null> {
  const [child] = await db.$queryRawUnsafe<{ id: string }[]>(
    `SELECT id FROM children WHERE id = $1::uuid AND village_code LIKE $2 || '%' AND ($3::text IS NULL OR school_id = $3)`,
    childId,
    scope.orgUnit,
    scope.schoolId,
  );
  if (!child) return null;
  return db.$queryRawUnsafe<AttendedRow[]>(
    `SELECT a.id, to_char(a.date, 'YYYY-MM-DD') AS date, a.kind, a.leader, s.name AS "siteName"
       FROM activity_attendance t JOIN activity_sessions a ON a.id = t.session_id JOIN sites s ON s.id = a.site_id
      WHERE t.child_id = $1::uuid ORDER BY a.date DESC, a.created_at DESC LIMIT $2`,
    childId,
    limit,
  );
}
