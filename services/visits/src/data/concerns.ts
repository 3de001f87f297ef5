import { v7 as uuidv7 } from "uuid";
import type { ConcernCategory } from "@shouhu/contracts";
import { ConflictError } from "@shouhu/kit";
import { appendToOutbox, buildEvent, type SqlTx } from "@shouhu/messaging";
import type { PrismaClient, Tx } from "./db.js";
import { PRODUCER } from "./scan.js";
import type { Visitor } from "./records.js";
import { respondBySql } from "../domain/concern-limits.js";

export interface ConcernChild {
  id: string;
  name: string;
  villageCode: string;
  townshipCode: string;
}

/** Opens a case owned by the child's township (its supervisor) and publishes concern.raised, urgent. */
export async function raiseConcern(
  tx: Pick<SqlTx, "$executeRawUnsafe" | "$queryRawUnsafe">,
  c: { child: ConcernChild; recordId: string | null; category: ConcernCategory; description: string; raisedBy: Visitor; at: Date },
): Promise<string> {
  const id = uuidv7();
  await tx.$executeRawUnsafe(
    `INSERT INTO concerns (id, child_id, record_id, category, description, status, owner_org_unit, raised_by, raised_by_name, raised_at)
     VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, 'open', $6, $7, $8, $9)`,
    id,
    c.child.id,
    c.recordId,
    c.category,
    c.description,
    c.child.townshipCode,
    c.raisedBy.userId,
    c.raisedBy.name,
    c.at,
  );
  await appendToOutbox(tx, [
    buildEvent(
      "concern.raised",
      {
        subject: c.child.id,
        orgUnit: c.child.villageCode,
        actor: c.raisedBy.actor,
        data: {
          concernId: id,
          recordId: c.recordId,
          category: c.category,
          description: c.description,
          child: c.child,
          raisedBy: { userId: c.raisedBy.userId, name: c.raisedBy.name },
          ownerOrgUnit: c.child.townshipCode,
          urgent: true,
        },
      },
      { producer: PRODUCER, now: c.at },
    ),
  ]);
  return id;
}

/**
 * The open cases of children now in another township than the one owning them move with
 * the child (a transfer, issue 19.6): the owner becomes the child's new township, a case
 * worker named in the old township is no longer the owner (the new supervisor assigns),
 * and each case gets a note saying so. Resolved cases stay with the township that raised
 * and closed them: that work was done and is counted there, and nobody has to act on them
 * any more. The due items need nothing: they are keyed by child and read through the
 * child's village, which the projection has just moved. Idempotent: only cases whose
 * owner differs from the child's township move, so a redelivered event moves nothing.
 */
export async function moveOpenConcerns(tx: Pick<SqlTx, "$executeRawUnsafe">, childIds: readonly string[], at: Date): Promise<number> {
  if (childIds.length === 0) return 0;
  return tx.$executeRawUnsafe(
    `WITH moved AS (
       SELECT k.id, k.owner_org_unit AS old, c.township_code AS new
         FROM concerns k JOIN children c ON c.id = k.child_id
        WHERE k.child_id = ANY($1::uuid[]) AND k.status <> 'resolved' AND k.owner_org_unit <> c.township_code
        ORDER BY k.id FOR UPDATE OF k
     ), u AS (
       UPDATE concerns k SET owner_org_unit = m.new, owner_username = NULL FROM moved m WHERE k.id = m.id RETURNING k.id, m.old, m.new
     )
     INSERT INTO concern_notes (id, concern_id, author_id, author_name, status, note, created_at)
     SELECT gen_random_uuid(), u.id, 'system', '系统', NULL,
            '儿童已转至' || COALESCE(n.name, u.new) || '，本关注事项随儿童移交' || COALESCE(n.name, u.new) || '处理（原属' || COALESCE(o.name, u.old) || '）',
            $2::timestamptz
       FROM u LEFT JOIN org_units n ON n.code = u.new LEFT JOIN org_units o ON o.code = u.old`,
    childIds,
    at,
  );
}

/**
 * 控辍保学: a child reported 辍学 (registry's `enrolment.changed`) gets a dropout-risk case owned by the child's
 * township, raised as the person who recorded the status. One open dropout case per child: while one is
 * unresolved, a later report (another semester, another list) is added to it as a note instead. Two reports
 * handled at once on two workers queue on a per-child advisory lock, so the second finds the first's case.
 */
export async function raiseDropoutConcern(
  tx: Pick<SqlTx, "$executeRawUnsafe" | "$queryRawUnsafe">,
  c: { child: ConcernChild; description: string; raisedBy: Visitor; at: Date; recordId?: string | null },
): Promise<{ concernId: string; raised: boolean; status: string }> {
  await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))`, `dropout-concern:${c.child.id}`);
  const [open] = await tx.$queryRawUnsafe<{ id: string; status: string }[]>(
    `SELECT id::text, status FROM concerns WHERE child_id = $1::uuid AND category = 'dropout_risk' AND status <> 'resolved' ORDER BY raised_at LIMIT 1`,
    c.child.id,
  );
  if (open) {
    await tx.$executeRawUnsafe(
      `INSERT INTO concern_notes (id, concern_id, author_id, author_name, status, note, created_at) VALUES ($1::uuid, $2::uuid, $3, $4, NULL, $5, $6::timestamptz)`,
      uuidv7(),
      open.id,
      c.raisedBy.userId,
      c.raisedBy.name,
      `再次报告：${c.description}`,
      c.at,
    );
    return { concernId: open.id, raised: false, status: open.status };
  }
  const concernId = await raiseConcern(tx, {
    child: c.child,
    recordId: c.recordId ?? null,
    category: "dropout_risk",
    description: c.description,
    raisedBy: c.raisedBy,
    at: c.at,
  });
  return { concernId, raised: true, status: "open" };
}

/**
 * A concern raised by hand or with a visit record. A dropout-risk one joins the child's open dropout case as a note
 * (one open case per child, as for the registry's reports); any other category opens its own case.
 */
export async function raiseOrJoin(
  tx: Pick<SqlTx, "$executeRawUnsafe" | "$queryRawUnsafe">,
  c: Parameters<typeof raiseConcern>[1],
): Promise<{ concernId: string; raised: boolean; status: string }> {
  if (c.category === "dropout_risk") return raiseDropoutConcern(tx, c);
  return { concernId: await raiseConcern(tx, c), raised: true, status: "open" };
}

export const ConcernStatuses = ["open", "acknowledged", "in_progress", "referred", "resolved"] as const;
export type ConcernStatus = (typeof ConcernStatuses)[number];

/** A case moves forward, never back to open; resolving needs the resolution written down and tells reporting (concern.resolved). */
const allowed: Record<ConcernStatus, ConcernStatus[]> = {
  open: ["acknowledged", "in_progress", "referred", "resolved"],
  acknowledged: ["in_progress", "referred", "resolved"],
  in_progress: ["referred", "resolved"],
  referred: ["in_progress", "resolved"],
  resolved: [],
};

export async function updateConcern(
  tx: Tx,
  id: string,
  change: { status?: ConcernStatus; note: string; author: Visitor; ownerUsername: string; at: Date },
): Promise<void> {
  const [row] = await tx.$queryRawUnsafe<{ status: ConcernStatus }[]>(`SELECT status FROM concerns WHERE id = $1::uuid FOR UPDATE`, id);
  if (!row) throw new ConflictError("CONCERN_GONE", "该关注事项不存在");
  if (change.status && change.status !== row.status && !allowed[row.status].includes(change.status)) {
    throw new ConflictError("CONCERN_STATUS", `关注事项不能从“${concernStatusLabel[row.status]}”改为“${concernStatusLabel[change.status]}”`, {
      field: "status",
    });
  }
  const status = change.status ?? row.status;
  await tx.$executeRawUnsafe(
    `UPDATE concerns SET status = $2::varchar, owner_username = COALESCE(owner_username, $3),
            resolved_at = CASE WHEN $2::varchar = 'resolved' THEN $5::timestamptz ELSE resolved_at END,
            resolution = CASE WHEN $2::varchar = 'resolved' THEN $4 ELSE resolution END
      WHERE id = $1::uuid`,
    id,
    status,
    change.ownerUsername,
    change.note,
    change.at,
  );
  if (status === "resolved" && row.status !== "resolved") {
    const [c] = await tx.$queryRawUnsafe<
      { category: ConcernCategory; resolvedAt: Date; childId: string; name: string; villageCode: string; townshipCode: string }[]
    >(
      `SELECT k.category, k.resolved_at AS "resolvedAt", c.id AS "childId", c.name, c.village_code AS "villageCode", c.township_code AS "townshipCode"
         FROM concerns k JOIN children c ON c.id = k.child_id WHERE k.id = $1::uuid`,
      id,
    );
    await appendToOutbox(tx, [
      buildEvent(
        "concern.resolved",
        {
          subject: c!.childId,
          orgUnit: c!.villageCode,
          actor: change.author.actor,
          data: {
            concernId: id,
            category: c!.category,
            child: { id: c!.childId, name: c!.name, villageCode: c!.villageCode, townshipCode: c!.townshipCode },
            resolution: change.note,
            resolvedAt: c!.resolvedAt.toISOString(),
          },
        },
        { producer: PRODUCER, now: change.at },
      ),
    ]);
  }
  await tx.$executeRawUnsafe(
    `INSERT INTO concern_notes (id, concern_id, author_id, author_name, status, note, created_at) VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7)`,
    uuidv7(),
    id,
    change.author.userId,
    change.author.name,
    change.status ?? null,
    change.note,
    change.at,
  );
}

export const concernStatusLabel: Record<ConcernStatus, string> = {
  open: "待处理",
  acknowledged: "已受理",
  in_progress: "处理中",
  referred: "已转介",
  resolved: "已解决",
};

export interface ConcernRow {
  id: string;
  childId: string;
  childName: string;
  villageCode: string;
  category: ConcernCategory;
  description: string;
  status: ConcernStatus;
  raisedAt: Date;
  raisedBy: string;
  resolvedAt: Date | null;
  escalatedAt: Date | null;
  resolution: string | null;
  respondedAt: Date | null;
  ownerUsername: string | null;
}

const concernSelect = `SELECT k.id, k.child_id AS "childId", c.name AS "childName", c.village_code AS "villageCode", k.record_id AS "recordId",
       k.category, k.description, k.status, k.owner_org_unit AS "ownerOrgUnit", k.owner_username AS "ownerUsername",
       k.raised_by AS "raisedBy", k.raised_by_name AS "raisedByName", k.raised_at AS "raisedAt", k.resolved_at AS "resolvedAt", k.resolution,
       k.escalated_at AS "escalatedAt",
       (SELECT min(n.created_at) FROM concern_notes n WHERE n.concern_id = k.id AND n.status IS NOT NULL AND n.status <> 'open') AS "respondedAt"
  FROM concerns k JOIN children c ON c.id = k.child_id LEFT JOIN assignments a ON a.child_id = k.child_id`;

type Reader = Pick<PrismaClient, "$queryRawUnsafe">;

export async function findConcern(db: Reader, id: string): Promise<ConcernRow | undefined> {
  const [row] = await db.$queryRawUnsafe<ConcernRow[]>(`${concernSelect} WHERE k.id = $1::uuid`, id);
  return row;
}

/**
 * Cases in an org unit, newest first; `raisedBy`: only those that user raised; `open`: not yet resolved;
 * `overdue`: still 待处理 past the category's response limit (domain/concern-limits.ts).
 */
export async function listConcerns(
  db: Reader,
  f: {
    orgUnit: string;
    childId: string | null;
    status: ConcernStatus | null;
    category: ConcernCategory | null;
    open: boolean | null;
    overdue: boolean | null;
    raisedBy: string | null;
    limit: number;
    now: Date;
  },
): Promise<ConcernRow[]> {
  return db.$queryRawUnsafe<ConcernRow[]>(
    `${concernSelect} WHERE c.village_code LIKE $1 || '%' AND ($2::text IS NULL OR k.status = $2) AND ($3::boolean IS NOT TRUE OR k.status <> 'resolved')
       AND ($4::text IS NULL OR k.raised_by = $4) AND ($6::uuid IS NULL OR k.child_id = $6::uuid) AND ($7::text IS NULL OR k.category = $7)
       AND ($8::boolean IS NULL OR ($8 = (k.status = 'open' AND ${respondBySql("k")} < $9::timestamptz)))
     ORDER BY k.raised_at DESC LIMIT $5`,
    f.orgUnit,
    f.status,
    f.open,
    f.raisedBy,
    f.limit,
    f.childId,
    f.category,
    f.overdue,
    f.now,
  );
}

/**
 * The unresolved cases of some children (the 交接 handover list of a class), newest first:
 * only children inside `orgUnit`, and with `raisedBy` only the cases that user raised.
 */
export async function openConcernsOf(db: Reader, f: { childIds: readonly string[]; orgUnit: string; raisedBy: string | null }): Promise<ConcernRow[]> {
  if (f.childIds.length === 0) return [];
  return db.$queryRawUnsafe<ConcernRow[]>(
    `${concernSelect} WHERE k.child_id = ANY($1::uuid[]) AND k.status <> 'resolved' AND c.village_code LIKE $2 || '%'
       AND ($3::text IS NULL OR k.raised_by = $3)
     ORDER BY k.raised_at DESC`,
    f.childIds,
    f.orgUnit,
    f.raisedBy,
  );
}

/**
 * Hands a case to a named case worker (指派): the owner changes, the hand-over is a
 * note in the case's timeline. A resolved case is not reassigned.
 */
export async function assignConcern(
  prisma: PrismaClient,
  id: string,
  a: { username: string; name: string; note: string | null; author: Visitor; at: Date },
): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const [row] = await tx.$queryRawUnsafe<{ status: ConcernStatus }[]>(`SELECT status FROM concerns WHERE id = $1::uuid FOR UPDATE`, id);
    if (!row) throw new ConflictError("CONCERN_GONE", "该关注事项不存在");
    if (row.status === "resolved") throw new ConflictError("CONCERN_RESOLVED", "该关注事项已解决，不能再指派", { field: "username" });
    await tx.$executeRawUnsafe(`UPDATE concerns SET owner_username = $2 WHERE id = $1::uuid`, id, a.username);
    await tx.$executeRawUnsafe(
      `INSERT INTO concern_notes (id, concern_id, author_id, author_name, status, note, created_at) VALUES ($1::uuid, $2::uuid, $3, $4, NULL, $5, $6)`,
      uuidv7(),
      id,
      a.author.userId,
      a.author.name,
      `指派给 ${a.name}（${a.username}）${a.note ? `：${a.note}` : ""}`,
      a.at,
    );
  });
}

export async function concernNotes(prisma: PrismaClient, concernId: string) {
  return prisma.concernNote.findMany({ where: { concernId }, orderBy: { createdAt: "asc" } });
}

/** A concern raised on its own (not with a visit record): the case and its event in one transaction. */
export async function raiseConcernAlone(prisma: PrismaClient, c: Parameters<typeof raiseConcern>[1]) {
  return prisma.$transaction((tx) => raiseOrJoin(tx, c));
}

/** An update of a concern and its note (and event) in one transaction. */
export async function updateConcernAlone(prisma: PrismaClient, id: string, change: Parameters<typeof updateConcern>[2]): Promise<void> {
  await prisma.$transaction((tx) => updateConcern(tx, id, change));
}
