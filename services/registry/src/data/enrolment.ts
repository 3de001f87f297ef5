import { v7 as uuidv7 } from "uuid";
import type { Actor, EnrolmentStatus } from "@shouhu/contracts";
import { contains, countyOf } from "@shouhu/contracts";
import type { Semester } from "@shouhu/cn";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError, currentTraceparent } from "@shouhu/kit";
import { hasAnyRole, type Principal } from "@shouhu/auth";
import { appendToOutbox, buildEvent } from "@shouhu/messaging";
import { schoolAgeBirthDates, statusLabel, type ListRow } from "../domain/enrolment.js";
import { PRODUCER } from "./children.js";
import type { PrismaClient, Tx } from "./db.js";

/** Confirming a whole school's list (≤ 5,000 rows) in one transaction. */
const CONFIRM_TX = { timeout: 60_000, maxWait: 10_000 };

/** A teacher who is not also a case worker or inspector acts only for their own school (as at 儿童之家). */
function teacherSchool(principal: Principal): string | null {
  const broader = hasAnyRole(principal, ["county-admin", "federation-officer", "township-supervisor", "village-director", "inspector"]);
  return !broader && hasAnyRole(principal, ["teacher"]) ? (principal.schoolCode ?? "-") : null;
}

export interface EnrolmentSchool {
  id: string;
  name: string;
  townshipCode: string;
}

/** The school, if the caller's area holds it (404 otherwise); a teacher only their own (403). */
export async function enrolmentSchool(db: PrismaClient | Tx, principal: Principal, schoolId: string): Promise<EnrolmentSchool> {
  const school = await db.school.findUnique({ where: { id: schoolId }, select: { id: true, name: true, townshipCode: true, retiredAt: true } });
  if (!school || !contains(principal.orgUnit, school.townshipCode)) throw new NotFoundError("学校", schoolId);
  const own = teacherSchool(principal);
  if (own !== null && own !== school.id) throw new ForbiddenError("只能管理本校的学籍名单");
  if (school.retiredAt) throw new ConflictError("SCHOOL_RETIRED", `${school.name}已撤销`, { field: "schoolId" });
  return { id: school.id, name: school.name, townshipCode: school.townshipCode };
}

/**
 * Matches a parsed list against the register by ID number: active children of the caller's area, or
 * registered at this school. Anyone else is "not in the register" — a pupil who is not a left-behind
 * child, or one registered elsewhere (never said which: the answer must not reveal another area's records).
 */
export async function matchRows(prisma: PrismaClient, principal: Principal, school: EnrolmentSchool, rows: ListRow[]): Promise<ListRow[]> {
  const ids = rows.filter((r) => r.kind !== "invalid" && r.idNumber).map((r) => r.idNumber!);
  const found = await prisma.$queryRawUnsafe<{ id: string; idNumber: string; name: string; villageCode: string; schoolId: string | null }[]>(
    `SELECT id::text, id_number AS "idNumber", name, village_code AS "villageCode", school_id AS "schoolId"
       FROM children WHERE id_number = ANY($1::text[]) AND status = 'active'`,
    ids,
  );
  const byId = new Map(found.filter((c) => contains(principal.orgUnit, c.villageCode) || c.schoolId === school.id).map((c) => [c.idNumber, c]));
  return rows.map((r) => {
    if (r.kind === "invalid") return r;
    const c = byId.get(r.idNumber!);
    if (!c) return { ...r, kind: "not_in_register", reasons: ["本辖区留守儿童档案中无此身份证号（非登记儿童无需处理）"] };
    if (c.name !== r.name) return { ...r, kind: "name_mismatch", childId: c.id, registerName: c.name, reasons: [`档案姓名为“${c.name}”，名单为“${r.name}”`] };
    return { ...r, kind: "matched", childId: c.id };
  });
}

export interface ImportRecord {
  id: string;
  schoolId: string;
  schoolName: string;
  semester: string;
  fileName: string;
  state: "preview" | "confirmed";
  rows: ListRow[];
  actorName: string | null;
  createdAt: Date;
  confirmedAt: Date | null;
}

export async function storeImport(
  prisma: PrismaClient,
  i: { school: EnrolmentSchool; semester: string; fileName: string; rows: ListRow[]; actor: Actor },
): Promise<ImportRecord> {
  const id = uuidv7();
  const row = await prisma.enrolmentImport.create({
    data: {
      id,
      schoolId: i.school.id,
      semester: i.semester,
      fileName: i.fileName.slice(0, 200),
      state: "preview",
      rows: i.rows as never,
      actorId: i.actor.id,
      actorName: i.actor.name ?? null,
    },
  });
  return { ...row, schoolName: i.school.name, state: "preview", rows: i.rows };
}

/** An import the caller may see (its school in their area; a teacher's own school), else 404/403. */
export async function loadImport(db: PrismaClient | Tx, principal: Principal, id: string, forUpdate = false): Promise<ImportRecord> {
  if (forUpdate) await db.$queryRawUnsafe(`SELECT id FROM enrolment_imports WHERE id = $1::uuid FOR UPDATE`, id);
  const row = await db.enrolmentImport.findUnique({ where: { id } });
  if (!row) throw new NotFoundError("学籍名单", id);
  const school = await enrolmentSchool(db, principal, row.schoolId).catch((err: unknown) => {
    // Another area's import is simply not there for this caller.
    if (err instanceof NotFoundError) throw new NotFoundError("学籍名单", id);
    throw err;
  });
  return { ...row, schoolName: school.name, state: row.state as ImportRecord["state"], rows: row.rows as unknown as ListRow[] };
}

interface Entry {
  child: { id: string; name: string; villageCode: string; townshipCode: string };
  school: EnrolmentSchool | null;
  status: EnrolmentStatus;
  grade: string | null;
  className: string | null;
  note: string | null;
}

export interface ApplyOutcome {
  changed: number;
  unchanged: number;
  /** 转学 from this school for a child another school's list already holds as 在读: the newer school wins. */
  skipped: number;
  changedChildIds: string[];
}

/**
 * Writes the semester's state of each child (one row per child and semester), and for each whose status
 * or school changed a history row and `enrolment.changed` — all in the caller's transaction. Children are
 * locked in id order (two confirms touching the same children queue rather than deadlock).
 */
async function applyEnrolments(
  tx: Tx,
  semester: string,
  entries: Entry[],
  source: "import" | "manual",
  importId: string | null,
  actor: Actor,
): Promise<ApplyOutcome> {
  const ids = [...new Set(entries.map((e) => e.child.id))].sort();
  await tx.$queryRawUnsafe(`SELECT id FROM children WHERE id = ANY($1::uuid[]) ORDER BY id FOR NO KEY UPDATE`, ids);
  const existing = new Map(
    (
      await tx.$queryRawUnsafe<{ childId: string; status: EnrolmentStatus; schoolId: string | null }[]>(
        `SELECT child_id::text AS "childId", status, school_id AS "schoolId" FROM enrolments WHERE semester = $1 AND child_id = ANY($2::uuid[])`,
        semester,
        ids,
      )
    ).map((r) => [r.childId, r]),
  );
  const out: ApplyOutcome = { changed: 0, unchanged: 0, skipped: 0, changedChildIds: [] };
  const write: (Entry & { previous: EnrolmentStatus | null; changed: boolean })[] = [];
  for (const e of entries) {
    const old = existing.get(e.child.id);
    const schoolId = e.school?.id ?? null;
    if (old && old.status === "enrolled" && old.schoolId !== schoolId && e.status === "transferred_out" && source === "import") {
      out.skipped += 1;
      continue;
    }
    const changed = !old || old.status !== e.status || old.schoolId !== schoolId;
    if (changed) {
      out.changed += 1;
      out.changedChildIds.push(e.child.id);
    } else out.unchanged += 1;
    write.push({ ...e, previous: old?.status ?? null, changed });
  }
  if (write.length === 0) return out;
  const at = new Date();
  const doc = JSON.stringify(
    write.map((w) => ({
      child_id: w.child.id,
      school_id: w.school?.id ?? null,
      status: w.status,
      previous_status: w.previous,
      grade: w.grade,
      class_name: w.className,
      note: w.note,
      changed: w.changed,
    })),
  );
  // Each write raises the row's revision (the children are locked above): the event carries it for ordering.
  const written = await tx.$queryRawUnsafe<{ childId: string; revision: number }[]>(
    `INSERT INTO enrolments (child_id, semester, school_id, status, grade, class_name, source, import_id, note, actor_id, actor_name, at)
     SELECT r.child_id, $2, r.school_id, r.status, r.grade, r.class_name, $3, $4::uuid, r.note, $5, $6, $7::timestamptz
       FROM jsonb_to_recordset($1::jsonb) AS r(child_id uuid, school_id text, status text, grade text, class_name text, note text)
     ON CONFLICT (child_id, semester) DO UPDATE SET school_id = EXCLUDED.school_id, status = EXCLUDED.status, grade = EXCLUDED.grade,
       class_name = EXCLUDED.class_name, source = EXCLUDED.source, import_id = EXCLUDED.import_id, note = EXCLUDED.note,
       actor_id = EXCLUDED.actor_id, actor_name = EXCLUDED.actor_name, at = EXCLUDED.at, revision = enrolments.revision + 1
     RETURNING child_id::text AS "childId", revision`,
    doc,
    semester,
    source,
    importId,
    actor.id,
    actor.name ?? null,
    at,
  );
  await tx.$executeRawUnsafe(
    `INSERT INTO enrolment_changes (id, child_id, semester, school_id, status, previous_status, source, import_id, note, actor_id, actor_name, at)
     SELECT gen_random_uuid(), r.child_id, $2, r.school_id, r.status, r.previous_status, $3, $4::uuid, r.note, $5, $6, $7::timestamptz
       FROM jsonb_to_recordset($1::jsonb) AS r(child_id uuid, school_id text, status text, previous_status text, note text, changed boolean)
      WHERE r.changed`,
    doc,
    semester,
    source,
    importId,
    actor.id,
    actor.name ?? null,
    at,
  );
  const revisions = new Map(written.map((r) => [r.childId, r.revision]));
  const traceparent = currentTraceparent();
  await appendToOutbox(
    tx,
    write
      .filter((w) => w.changed)
      .map((w) =>
        buildEvent(
          "enrolment.changed",
          {
            subject: w.child.id,
            orgUnit: w.child.villageCode,
            actor,
            traceparent,
            data: {
              child: w.child,
              semester,
              status: w.status,
              previousStatus: w.previous,
              school: w.school,
              source,
              note: w.note,
              revision: revisions.get(w.child.id),
            },
          },
          { producer: PRODUCER, now: at },
        ),
      ),
  );
  return out;
}

async function childrenOf(tx: Tx, ids: string[]) {
  return tx.$queryRawUnsafe<{ id: string; name: string; villageCode: string; townshipCode: string }[]>(
    `SELECT id::text, name, village_code AS "villageCode", township_code AS "townshipCode" FROM children WHERE id = ANY($1::uuid[]) AND status = 'active'`,
    ids,
  );
}

/** Applies a previewed list once: matched rows (and name mismatches when asked). A second confirm is 409. */
export async function confirmImport(
  prisma: PrismaClient,
  principal: Principal,
  id: string,
  includeNameMismatches: boolean,
  actor: Actor,
): Promise<ApplyOutcome & { import: ImportRecord }> {
  return prisma.$transaction(async (tx) => {
    const imp = await loadImport(tx, principal, id, true);
    if (imp.state === "confirmed") throw new ConflictError("ALREADY_CONFIRMED", "该名单已确认导入，请勿重复确认");
    const school = await enrolmentSchool(tx, principal, imp.schoolId);
    const rows = imp.rows.filter((r) => r.kind === "matched" || (includeNameMismatches && r.kind === "name_mismatch"));
    const children = new Map(
      (
        await childrenOf(
          tx,
          rows.map((r) => r.childId!),
        )
      ).map((c) => [c.id, c]),
    );
    const entries: Entry[] = [];
    for (const r of rows) {
      const child = children.get(r.childId!);
      // A child who left the programme since the preview is left out (nothing to keep in school any more).
      if (child) entries.push({ child, school, status: r.status!, grade: r.grade, className: r.className, note: null });
    }
    const outcome = await applyEnrolments(tx, imp.semester, entries, "import", imp.id, actor);
    const confirmedAt = new Date();
    await tx.enrolmentImport.update({ where: { id }, data: { state: "confirmed", confirmedAt, confirmedBy: actor.name ?? actor.id } });
    return { ...outcome, import: { ...imp, state: "confirmed", confirmedAt } };
  }, CONFIRM_TX);
}

/**
 * A child's status in a semester, by hand. Case workers for children of their area; a teacher for children
 * registered at (or listed by) their own school, and only at that school.
 */
export async function setEnrolment(
  prisma: PrismaClient,
  principal: Principal,
  childId: string,
  input: { semester: Semester; status: EnrolmentStatus; schoolId: string | null; note: string | null },
  actor: Actor,
): Promise<ApplyOutcome> {
  return prisma.$transaction(async (tx) => {
    const [child] = await tx.$queryRawUnsafe<
      { id: string; name: string; villageCode: string; townshipCode: string; schoolId: string | null; status: string }[]
    >(
      `SELECT id::text, name, village_code AS "villageCode", township_code AS "townshipCode", school_id AS "schoolId", status FROM children WHERE id = $1::uuid`,
      childId,
    );
    const own = teacherSchool(principal);
    const listed = child
      ? await tx.enrolment.findUnique({ where: { childId_semester: { childId, semester: input.semester.code } }, select: { schoolId: true } })
      : null;
    const visible = child && (own === null ? contains(principal.orgUnit, child.villageCode) : child.schoolId === own || listed?.schoolId === own);
    if (!child || !visible) throw new NotFoundError("儿童档案", childId);
    if (child.status !== "active") throw new ConflictError("CHILD_EXITED", `${child.name}已退出登记，不再记录学籍`, { field: "childId" });
    const schoolId = input.schoolId ?? own ?? listed?.schoolId ?? child.schoolId;
    let school: EnrolmentSchool | null = null;
    if (schoolId) {
      const s = await tx.school.findUnique({ where: { id: schoolId }, select: { id: true, name: true, townshipCode: true, retiredAt: true } });
      if (!s || s.retiredAt || !contains(countyOf(child.villageCode), s.townshipCode))
        throw ValidationError.field("schoolId", `本县没有该学校：${schoolId.slice(0, 32)}`);
      if (own !== null && s.id !== own) throw ValidationError.field("schoolId", "教师只能登记本校的学籍");
      school = { id: s.id, name: s.name, townshipCode: s.townshipCode };
    } else if (input.status !== "transferred_out") {
      throw ValidationError.field("schoolId", `请选择学校：${statusLabel(input.status)}需写明就读学校`);
    }
    const entry: Entry = {
      child: { id: child.id, name: child.name, villageCode: child.villageCode, townshipCode: child.townshipCode },
      school,
      status: input.status,
      grade: null,
      className: null,
      note: input.note,
    };
    return applyEnrolments(tx, input.semester.code, [entry], "manual", null, actor);
  });
}

export interface SchoolRow {
  schoolId: string;
  schoolName: string;
  townshipCode: string;
  townshipName: string | null;
  enrolled: number;
  suspended: number;
  droppedOut: number;
  transferredOut: number;
  /** School-age children of the register whose school is this one, and those of them in no list. */
  registered: number;
  missing: number;
  lastImportAt: string | null;
}

/** Per school of the area (a teacher: their school): the semester's statuses and the register's children missing. */
export async function schoolTable(prisma: PrismaClient, principal: Principal, semester: Semester, orgUnit: string): Promise<SchoolRow[]> {
  const ages = schoolAgeBirthDates(semester);
  const own = teacherSchool(principal);
  const rows = await prisma.$queryRawUnsafe<(Omit<SchoolRow, "lastImportAt"> & { lastImportAt: Date | null })[]>(
    `SELECT s.id AS "schoolId", s.name AS "schoolName", s.township_code AS "townshipCode", t.name AS "townshipName",
            COALESCE(e.enrolled, 0)::int AS enrolled, COALESCE(e.suspended, 0)::int AS suspended,
            COALESCE(e.dropped, 0)::int AS "droppedOut", COALESCE(e.transferred, 0)::int AS "transferredOut",
            COALESCE(r.registered, 0)::int AS registered, COALESCE(r.missing, 0)::int AS missing, i.at AS "lastImportAt"
       FROM schools s
       LEFT JOIN org_units t ON t.code = s.township_code
       LEFT JOIN LATERAL (
         SELECT count(*) FILTER (WHERE status = 'enrolled') AS enrolled, count(*) FILTER (WHERE status = 'suspended') AS suspended,
                count(*) FILTER (WHERE status = 'dropped_out') AS dropped, count(*) FILTER (WHERE status = 'transferred_out') AS transferred
           FROM enrolments WHERE semester = $2 AND school_id = s.id) e ON true
       LEFT JOIN LATERAL (
         SELECT count(*) AS registered,
                count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM enrolments x WHERE x.child_id = c.id AND x.semester = $2)) AS missing
           FROM children c WHERE c.school_id = s.id AND c.status = 'active' AND c.birth_date <= $3::date AND c.birth_date > $4::date) r ON true
       LEFT JOIN LATERAL (SELECT max(confirmed_at) AS at FROM enrolment_imports WHERE school_id = s.id AND semester = $2) i ON true
      -- A village's users see their township's schools (schools belong to townships).
      WHERE (s.township_code LIKE $1 || '%' OR $1 LIKE s.township_code || '%') AND s.retired_at IS NULL AND ($5::text IS NULL OR s.id = $5)
      ORDER BY s.township_code, s.name`,
    orgUnit,
    semester.code,
    ages.onOrBefore,
    ages.after,
    own,
  );
  return rows.map((r) => ({ ...r, lastImportAt: r.lastImportAt?.toISOString() ?? null }));
}

export interface MissingChild {
  id: string;
  name: string;
  sex: string;
  birthDate: string;
  villageCode: string;
  villageName: string | null;
  schoolName: string | null;
  grade: string | null;
  className: string | null;
}

/**
 * 未在任何学校名单中: active children of school age (6–15 at the semester's start) in the area whose
 * enrolment in the semester nobody has recorded — by any school's list or by hand. A teacher: those
 * registered at their school.
 */
export async function missingChildren(
  prisma: PrismaClient,
  principal: Principal,
  semester: Semester,
  orgUnit: string,
  limit: number,
): Promise<{ total: number; items: MissingChild[]; schoolsWithLists: number }> {
  const ages = schoolAgeBirthDates(semester);
  const own = teacherSchool(principal);
  const where = `c.village_code LIKE $1 || '%' AND c.status = 'active' AND c.birth_date <= $3::date AND c.birth_date > $4::date
      AND ($5::text IS NULL OR c.school_id = $5)
      AND NOT EXISTS (SELECT 1 FROM enrolments e WHERE e.child_id = c.id AND e.semester = $2)`;
  const args = [orgUnit, semester.code, ages.onOrBefore, ages.after, own] as const;
  const [count] = await prisma.$queryRawUnsafe<{ n: number }[]>(`SELECT count(*)::int AS n FROM children c WHERE ${where}`, ...args);
  const items = await prisma.$queryRawUnsafe<MissingChild[]>(
    `SELECT c.id::text, c.name, c.sex, to_char(c.birth_date, 'YYYY-MM-DD') AS "birthDate", c.village_code AS "villageCode", v.name AS "villageName",
            s.name AS "schoolName", c.grade, c.class_name AS "className"
       FROM children c LEFT JOIN org_units v ON v.code = c.village_code LEFT JOIN schools s ON s.id = c.school_id
      WHERE ${where} ORDER BY c.village_code, c.name, c.id LIMIT ${Math.max(1, Math.min(limit, 2000))}`,
    ...args,
  );
  const [lists] = await prisma.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(DISTINCT i.school_id)::int AS n FROM enrolment_imports i JOIN schools s ON s.id = i.school_id
      WHERE i.semester = $2 AND i.state = 'confirmed' AND s.township_code LIKE $1 || '%'`,
    orgUnit,
    semester.code,
  );
  return { total: count!.n, items, schoolsWithLists: lists!.n };
}

export interface ChildEnrolment {
  semester: string;
  status: EnrolmentStatus;
  schoolId: string | null;
  schoolName: string | null;
  source: string;
  note: string | null;
  actorName: string | null;
  at: string;
}

/** A child's enrolment history, newest first (every change kept). */
export async function childEnrolments(prisma: PrismaClient, childId: string): Promise<ChildEnrolment[]> {
  const rows = await prisma.$queryRawUnsafe<(Omit<ChildEnrolment, "at"> & { at: Date })[]>(
    `SELECT h.semester, h.status, h.school_id AS "schoolId", s.name AS "schoolName", h.source, h.note, h.actor_name AS "actorName", h.at
       FROM enrolment_changes h LEFT JOIN schools s ON s.id = h.school_id
      WHERE h.child_id = $1::uuid ORDER BY h.at DESC, h.id DESC LIMIT 200`,
    childId,
  );
  return rows.map((r) => ({ ...r, at: r.at.toISOString() }));
}
