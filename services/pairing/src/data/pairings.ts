import { v7 as uuidv7 } from "uuid";
import { labels, type Actor, type PairingEndReason, type PairingKind, type PairingRole } from "@shouhu/contracts";
import { ConflictError, NotFoundError } from "@shouhu/kit";
import { appendToOutbox, buildEvent, type SqlTx } from "@shouhu/messaging";
import type { PrismaClient, Tx } from "./db.js";
import { lockTownshipsForChange, requestMatching } from "./match-requests.js";
import { contains, countyOf } from "@shouhu/contracts";

export const PRODUCER = "pairing";

/** A pairing with the child and helper it joins, as routes and events need it. */
export interface PairingView {
  id: string;
  kind: PairingKind;
  /** primary (主要帮扶人) or secondary (协助帮扶人); proposals and peer buddies are primary. */
  role: PairingRole;
  status: "proposed" | "active" | "ended" | "rejected" | "withdrawn";
  cost: number | null;
  matchReason: string | null;
  /** Whole years between the child's and the helper's birth dates (birth dates themselves are not shown); null when the helper's is unknown. */
  ageGapYears: number | null;
  proposedAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
  decisionNote: string | null;
  startDate: string | null;
  endDate: string | null;
  endReason: PairingEndReason | null;
  endNote: string | null;
  child: {
    id: string;
    name: string;
    villageCode: string;
    townshipCode: string;
    schoolId: string | null;
    schoolName: string | null;
    riskLevel: string;
    leftBehindType: string;
    status: string;
  };
  helper: {
    id: string;
    kind: string;
    name: string;
    phone: string | null;
    username: string | null;
    orgUnitCode: string;
    schoolId: string | null;
  };
}

const pairingSelect = `
  SELECT p.id, p.kind, p.role, p.status, p.cost, p.match_reason AS "matchReason", p.proposed_at AS "proposedAt",
         p.decided_at AS "decidedAt", p.decided_by AS "decidedBy", p.decision_note AS "decisionNote",
         to_char(p.start_date, 'YYYY-MM-DD') AS "startDate", to_char(p.end_date, 'YYYY-MM-DD') AS "endDate",
         p.end_reason AS "endReason", p.end_note AS "endNote",
         CASE WHEN h.birth_date IS NULL THEN NULL
              ELSE extract(year FROM age(greatest(c.birth_date, h.birth_date), least(c.birth_date, h.birth_date)))::int END AS "ageGapYears",
         json_build_object('id', c.id, 'name', c.name, 'villageCode', c.village_code, 'townshipCode', c.township_code,
           'schoolId', c.school_id, 'schoolName', c.school_name, 'riskLevel', c.risk_level,
           'leftBehindType', c.left_behind_type, 'status', c.status) AS child,
         json_build_object('id', h.id, 'kind', h.kind, 'name', h.name, 'phone', h.phone, 'username', h.username,
           'orgUnitCode', h.org_unit_code, 'schoolId', h.school_id) AS helper
    FROM pairings p
    JOIN children c ON c.id = p.child_id
    JOIN helpers h ON h.id = p.helper_id`;

export async function loadPairings(db: Pick<SqlTx, "$queryRawUnsafe">, ids: string[]): Promise<PairingView[]> {
  if (ids.length === 0) return [];
  return db.$queryRawUnsafe<PairingView[]>(`${pairingSelect} WHERE p.id = ANY($1::uuid[]) ORDER BY p.id`, ids);
}

function eventParties(p: PairingView) {
  return {
    child: { id: p.child.id, name: p.child.name, villageCode: p.child.villageCode, townshipCode: p.child.townshipCode, schoolId: p.child.schoolId },
    helper: {
      id: p.helper.id,
      kind: p.helper.kind as never,
      name: p.helper.name,
      phone: p.helper.phone,
      username: p.helper.username,
      orgUnitCode: p.helper.orgUnitCode,
      schoolId: p.helper.schoolId,
    },
  };
}

function startedEvent(p: PairingView, actor: Actor) {
  return buildEvent(
    "pairing.started",
    {
      subject: p.child.id,
      orgUnit: p.child.villageCode,
      actor,
      data: { pairingId: p.id, kind: p.kind, role: p.role, ...eventParties(p), startDate: p.startDate!, approvedBy: p.decidedBy ?? actor.id },
    },
    { producer: PRODUCER },
  );
}

function endedEvent(p: PairingView, actor: Actor) {
  return buildEvent(
    "pairing.ended",
    {
      subject: p.child.id,
      orgUnit: p.child.villageCode,
      actor,
      data: { pairingId: p.id, kind: p.kind, role: p.role, ...eventParties(p), endDate: p.endDate!, reason: p.endReason!, note: p.endNote },
    },
    { producer: PRODUCER },
  );
}

export interface EndFilter {
  childId?: string;
  helperId?: string;
  pairingId?: string;
  kinds: PairingKind[];
  reason: PairingEndReason;
  actor: Actor;
  today: string;
  note?: string | null;
  /** Only pairings with a teacher of this school (a child who changed school keeps other mentors). */
  onlyTeacherOfSchool?: string;
}

/**
 * Ends active pairings (publishing pairing.ended) and withdraws open proposals
 * that match the filter, in the caller's transaction. Returns the ended ones.
 */
export async function endOpenPairings(tx: SqlTx, filter: EndFilter): Promise<{ ended: PairingView[]; withdrawn: number }> {
  const rows = await tx.$queryRawUnsafe<{ id: string; status: string }[]>(
    `UPDATE pairings p
        SET status = CASE WHEN p.status = 'active' THEN 'ended' ELSE 'withdrawn' END,
            end_date = CASE WHEN p.status = 'active' THEN $1::date END,
            end_reason = $2, end_note = $3
       FROM helpers h
      WHERE h.id = p.helper_id AND p.status IN ('proposed', 'active') AND p.kind = ANY($4::text[])
        AND ($5::uuid IS NULL OR p.child_id = $5::uuid)
        AND ($6::uuid IS NULL OR p.helper_id = $6::uuid)
        AND ($7::uuid IS NULL OR p.id = $7::uuid)
        AND ($8::text IS NULL OR (h.kind = 'teacher' AND h.school_id = $8))
      RETURNING p.id, p.status`,
    filter.today,
    filter.reason,
    filter.note ?? null,
    filter.kinds,
    filter.childId ?? null,
    filter.helperId ?? null,
    filter.pairingId ?? null,
    filter.onlyTeacherOfSchool ?? null,
  );
  const ended = await loadPairings(
    tx,
    rows.filter((r) => r.status === "ended").map((r) => r.id),
  );
  await appendToOutbox(
    tx,
    ended.map((p) => endedEvent(p, filter.actor)),
  );
  return { ended, withdrawn: rows.length - ended.length };
}

async function lockHelper(tx: Tx, helperId: string): Promise<{ active: boolean; capacity: number; kind: string }> {
  const [helper] = await tx.$queryRawUnsafe<{ active: boolean; capacity: number; kind: string }[]>(
    `SELECT active, capacity, kind FROM helpers WHERE id = $1::uuid FOR NO KEY UPDATE`,
    helperId,
  );
  if (!helper) throw new NotFoundError("帮扶人", helperId);
  return helper;
}

export interface Decider {
  actor: Actor;
  /** Display name recorded as who decided. */
  name: string;
  /** The decider sees only pairings whose child's village code starts with this. */
  orgUnit: string;
}

/**
 * Finds a pairing the decider may act on (outside their jurisdiction it does not
 * exist for them) and takes its township's shared lock, before any row lock.
 */
async function visiblePairing(tx: Tx, id: string, orgUnit: string): Promise<PairingView> {
  const [p] = await loadPairings(tx, [id]);
  if (!p || !contains(orgUnit, p.child.villageCode)) throw new NotFoundError("结对记录", id);
  await lockTownshipsForChange(tx, [p.child.townshipCode]);
  return p;
}

/**
 * Approves a proposal. The helper row is locked before the count (the same
 * order as deactivation), so concurrent approvals for one helper are serialised
 * and the capacity check cannot be raced; the partial unique index keeps one
 * open pairing of each kind per child whatever happens.
 */
export async function approvePairing(prisma: PrismaClient, id: string, decider: Decider, today: string): Promise<PairingView> {
  return prisma.$transaction(async (tx) => {
    const seen = await visiblePairing(tx, id, decider.orgUnit);
    const helper = await lockHelper(tx, seen.helper.id);
    const [p] = await tx.$queryRawUnsafe<{ status: string; kind: string; childStatus: string }[]>(
      `SELECT p.status, p.kind, c.status AS "childStatus" FROM pairings p JOIN children c ON c.id = p.child_id WHERE p.id = $1::uuid FOR UPDATE OF p`,
      id,
    );
    if (p!.status !== "proposed") throw new ConflictError("NOT_PROPOSED", `该结对已处理（当前状态：${statusLabel[p!.status] ?? p!.status}），不能再审批`);
    if (p!.childStatus !== "active") throw new ConflictError("CHILD_EXITED", "该儿童已退出关爱对象，不能结对");
    if (!helper.active) throw new ConflictError("HELPER_INACTIVE", `帮扶人${seen.helper.name}已停用，不能结对`);
    const [{ active }] = (await tx.$queryRawUnsafe<{ active: number }[]>(
      `SELECT count(*)::int AS active FROM pairings WHERE helper_id = $1::uuid AND status = 'active'`,
      seen.helper.id,
    )) as [{ active: number }];
    if (active >= helper.capacity) {
      throw new ConflictError("HELPER_FULL", `帮扶人${seen.helper.name}已结对${active}名儿童，达到上限${helper.capacity}名`, {
        field: "helperId",
        active,
        capacity: helper.capacity,
      });
    }
    await tx.$executeRawUnsafe(
      `UPDATE pairings SET status = 'active', decided_at = now(), decided_by = $2, start_date = $3::date WHERE id = $1::uuid`,
      id,
      decider.name,
      today,
    );
    const [approved] = await loadPairings(tx, [id]);
    await appendToOutbox(tx, [startedEvent(approved!, decider.actor)]);
    return approved!;
  });
}

/** Rejects a proposal; the child's township is matched again without that helper. */
export async function rejectPairing(prisma: PrismaClient, id: string, decider: Decider, note: string | null): Promise<PairingView> {
  return prisma.$transaction(async (tx) => {
    const seen = await visiblePairing(tx, id, decider.orgUnit);
    const updated = await tx.$executeRawUnsafe(
      `UPDATE pairings SET status = 'rejected', decided_at = now(), decided_by = $2, decision_note = $3 WHERE id = $1::uuid AND status = 'proposed'`,
      id,
      decider.name,
      note,
    );
    if (updated === 0) throw new ConflictError("NOT_PROPOSED", "该结对已处理，不能再驳回");
    await requestMatching(tx, seen.child.townshipCode, "rejected");
    return (await loadPairings(tx, [id]))[0]!;
  });
}

/** Ends an active pairing by hand (e.g. the family asked); the child is matched again. */
export async function endPairing(prisma: PrismaClient, id: string, decider: Decider, today: string, note: string | null): Promise<PairingView> {
  return prisma.$transaction(async (tx) => {
    const seen = await visiblePairing(tx, id, decider.orgUnit);
    await lockHelper(tx, seen.helper.id);
    if (seen.status !== "active") throw new ConflictError("NOT_ACTIVE", `该结对不在进行中（当前状态：${statusLabel[seen.status] ?? seen.status}）`);
    const { ended } = await endOpenPairings(tx, { pairingId: id, kinds: [seen.kind], reason: "manual", actor: decider.actor, today, note });
    if (ended.length === 0) throw new ConflictError("NOT_ACTIVE", "该结对不在进行中");
    await requestMatching(tx, seen.child.townshipCode, "ended");
    return ended[0]!;
  });
}

/**
 * A child has one active pairing per kind and role: a second primary is a transfer (ALREADY_PAIRED),
 * a second secondary too (SECONDARY_TAKEN); a secondary needs a primary first (NO_PRIMARY); and one
 * helper is never both the child's primary and secondary (SAME_HELPER; an open proposal counts).
 */
function assertRoleFree(
  childName: string,
  input: { helperId: string; kind: PairingKind; role: PairingRole },
  open: readonly { id: string; status: string; role: PairingRole; helperId: string; helperName: string }[],
): void {
  const active = open.find((o) => o.status === "active" && o.role === input.role);
  if (active) {
    throw input.role === "primary"
      ? new ConflictError("ALREADY_PAIRED", `${childName}已与${active.helperName}结对，如需更换请使用“移交”`, { field: "childId", pairingId: active.id })
      : new ConflictError("SECONDARY_TAKEN", `${childName}已有协助帮扶人${active.helperName}，如需更换请使用“移交”`, { field: "role", pairingId: active.id });
  }
  if (input.role === "secondary" && !open.some((o) => o.status === "active" && o.role === "primary")) {
    throw new ConflictError("NO_PRIMARY", `${childName}还没有主要帮扶人，请先指定主要帮扶人`, { field: "role" });
  }
  const same = open.find((o) => o.helperId === input.helperId && o.role !== input.role && (o.status === "active" || input.role === "secondary"));
  if (same) {
    throw new ConflictError(
      "SAME_HELPER",
      `${same.helperName}已是${childName}的${labels.pairingRole[same.role]}，不能同时担任${labels.pairingRole[input.role]}`,
      {
        field: "helperId",
      },
    );
  }
}

/** A helper's kind decides the pairing kinds it can hold: a peer student is a 手拉手 buddy, everyone else a mentor. */
function assertKindFits(kind: PairingKind, helperKind: string, helperName: string): void {
  if ((kind === "peer") !== (helperKind === "peer_student")) {
    throw new ConflictError(
      "KIND_MISMATCH",
      kind === "peer" ? `${helperName}不是学生伙伴，不能结为手拉手伙伴` : `${helperName}是学生伙伴，只能结为手拉手伙伴`,
      { field: "helperId" },
    );
  }
}

async function assertRoom(tx: Tx, helper: { active: boolean; capacity: number }, helperId: string, helperName: string): Promise<void> {
  if (!helper.active) throw new ConflictError("HELPER_INACTIVE", `帮扶人${helperName}已停用，不能结对`, { field: "helperId" });
  const [{ active }] = (await tx.$queryRawUnsafe<{ active: number }[]>(
    `SELECT count(*)::int AS active FROM pairings WHERE helper_id = $1::uuid AND status = 'active'`,
    helperId,
  )) as [{ active: number }];
  if (active >= helper.capacity) {
    throw new ConflictError("HELPER_FULL", `帮扶人${helperName}已结对${active}名儿童，达到上限${helper.capacity}名`, {
      field: "helperId",
      active,
      capacity: helper.capacity,
    });
  }
}

/** An active pairing not proposed by the optimiser, as `startPairings` inserts it. */
export interface PairingStart {
  childId: string;
  helperId: string;
  kind: PairingKind;
  role: PairingRole;
  reason: "manual" | "transfer" | "register";
  note: string | null;
  decider: Pick<Decider, "actor" | "name">;
  today: string;
}

/**
 * Starts active pairings not proposed by the optimiser — chosen by a person (manual, transfer)
 * or named by the register (register) — in the caller's transaction, with their events: one
 * insert, one read and one outbox append however many (a register batch starts hundreds).
 */
export async function startPairings(tx: SqlTx, starts: readonly PairingStart[]): Promise<PairingView[]> {
  if (starts.length === 0) return [];
  const rows = starts.map((p) => ({ ...p, id: uuidv7() }));
  await tx.$executeRawUnsafe(
    `INSERT INTO pairings (id, child_id, helper_id, kind, role, status, match_reason, decided_at, decided_by, decision_note, start_date)
     SELECT x.id, x.child_id, x.helper_id, x.kind, x.role, 'active', x.reason, now(), x.decided_by, x.note, x.today
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, child_id uuid, helper_id uuid, kind text, role text, reason text, decided_by text, note text, today date)`,
    JSON.stringify(
      rows.map((p) => ({
        id: p.id,
        child_id: p.childId,
        helper_id: p.helperId,
        kind: p.kind,
        role: p.role,
        reason: p.reason,
        decided_by: p.decider.name,
        note: p.note,
        today: p.today,
      })),
    ),
  );
  const views = new Map(
    (
      await loadPairings(
        tx,
        rows.map((r) => r.id),
      )
    ).map((v) => [v.id, v]),
  );
  const started = rows.map((r) => views.get(r.id)!);
  await appendToOutbox(
    tx,
    started.map((v, i) => startedEvent(v, rows[i]!.decider.actor)),
  );
  return started;
}

/** One pairing started by hand (`startPairings` for one). */
export async function startByHand(
  tx: SqlTx,
  p: Omit<PairingStart, "decider" | "today">,
  decider: Pick<Decider, "actor" | "name">,
  today: string,
): Promise<PairingView> {
  return (await startPairings(tx, [{ ...p, decider, today }]))[0]!;
}

/** A helper the decider may pair with: inside their county (a township's children may have a helper from the next township). */
async function visibleHelper(tx: Tx, helperId: string, orgUnit: string): Promise<{ name: string; kind: string; orgUnitCode: string }> {
  const [h] = await tx.$queryRawUnsafe<{ name: string; kind: string; orgUnitCode: string }[]>(
    `SELECT name, kind, org_unit_code AS "orgUnitCode" FROM helpers WHERE id = $1::uuid`,
    helperId,
  );
  if (!h || !(contains(orgUnit, h.orgUnitCode) || contains(countyOf(h.orgUnitCode), orgUnit))) throw new NotFoundError("帮扶人", helperId);
  return h;
}

/**
 * Pairs a child with a helper by hand, overriding the optimiser: the child's open proposal of
 * that kind is withdrawn; a child who already has an active pairing of that kind is refused
 * (409: transfer it instead). Capacity and the helper's state are checked under the helper's lock.
 */
export async function pairByHand(
  prisma: PrismaClient,
  input: { childId: string; helperId: string; kind: PairingKind; role: PairingRole; note: string | null },
  decider: Decider,
  today: string,
): Promise<PairingView> {
  return prisma.$transaction(async (tx) => {
    const [child] = await tx.$queryRawUnsafe<{ villageCode: string; townshipCode: string; status: string; name: string }[]>(
      `SELECT village_code AS "villageCode", township_code AS "townshipCode", status, name FROM children WHERE id = $1::uuid`,
      input.childId,
    );
    if (!child || !contains(decider.orgUnit, child.villageCode)) throw new NotFoundError("儿童", input.childId);
    const seenHelper = await visibleHelper(tx, input.helperId, decider.orgUnit);
    await lockTownshipsForChange(tx, [child.townshipCode]);
    // The child's row locked (after the township, as the child-event handlers do): two hand pairings of one
    // child with different helpers lock different helpers, and both found no active pairing (the second then
    // failed on the unique index, a 500). Its status is read again under the lock.
    const [locked] = await tx.$queryRawUnsafe<{ status: string }[]>(`SELECT status FROM children WHERE id = $1::uuid FOR UPDATE`, input.childId);
    child.status = locked!.status;
    const helper = await lockHelper(tx, input.helperId);
    assertKindFits(input.kind, helper.kind, seenHelper.name);
    if (child.status !== "active") throw new ConflictError("CHILD_EXITED", "该儿童已退出关爱对象，不能结对", { field: "childId" });
    const open = await tx.$queryRawUnsafe<{ id: string; status: string; role: PairingRole; helperId: string; helperName: string }[]>(
      `SELECT p.id, p.status, p.role, p.helper_id::text AS "helperId", h.name AS "helperName" FROM pairings p JOIN helpers h ON h.id = p.helper_id
        WHERE p.child_id = $1::uuid AND p.kind = $2 AND p.status IN ('proposed', 'active') FOR UPDATE OF p`,
      input.childId,
      input.kind,
    );
    assertRoleFree(child.name, input, open);
    await assertRoom(tx, helper, input.helperId, seenHelper.name);
    if (input.role === "primary") {
      await tx.$executeRawUnsafe(
        `UPDATE pairings SET status = 'withdrawn', end_reason = 'manual', end_note = '督导员人工结对，建议撤回' WHERE child_id = $1::uuid AND kind = $2 AND role = 'primary' AND status = 'proposed'`,
        input.childId,
        input.kind,
      );
    }
    return startByHand(tx, { ...input, reason: "manual" }, decider, today);
  });
}

/**
 * Transfers an active pairing to another helper with a reason: the old pairing ends
 * (reason "transferred", the note saying why) and the new one starts, in one transaction,
 * with both events. Helpers are locked in id order, so two transfers never deadlock.
 */
export async function transferPairing(
  prisma: PrismaClient,
  id: string,
  input: { helperId: string; reason: string },
  decider: Decider,
  today: string,
): Promise<{ ended: PairingView; started: PairingView }> {
  return prisma.$transaction(async (tx) => {
    const seen = await visiblePairing(tx, id, decider.orgUnit);
    const seenHelper = await visibleHelper(tx, input.helperId, decider.orgUnit);
    if (seen.status !== "active") throw new ConflictError("NOT_ACTIVE", `该结对不在进行中（当前状态：${statusLabel[seen.status] ?? seen.status}），不能移交`);
    if (input.helperId === seen.helper.id) throw new ConflictError("SAME_HELPER", "移交对象与当前帮扶人相同", { field: "helperId" });
    const locked = new Map<string, Awaited<ReturnType<typeof lockHelper>>>();
    for (const hid of [seen.helper.id, input.helperId].sort()) locked.set(hid, await lockHelper(tx, hid));
    const helper = locked.get(input.helperId)!;
    assertKindFits(seen.kind, helper.kind, seenHelper.name);
    const [other] = await tx.$queryRawUnsafe<{ role: PairingRole }[]>(
      `SELECT role FROM pairings WHERE child_id = $1::uuid AND kind = $2 AND helper_id = $3::uuid AND status = 'active' AND id <> $4::uuid`,
      seen.child.id,
      seen.kind,
      input.helperId,
      id,
    );
    if (other) {
      throw new ConflictError(
        "SAME_HELPER",
        `${seenHelper.name}已是${seen.child.name}的${labels.pairingRole[other.role]}，不能同时担任${labels.pairingRole[seen.role]}`,
        {
          field: "helperId",
        },
      );
    }
    await assertRoom(tx, helper, input.helperId, seenHelper.name);
    const { ended } = await endOpenPairings(tx, {
      pairingId: id,
      kinds: [seen.kind],
      reason: "transferred",
      actor: decider.actor,
      today,
      note: `移交给${seenHelper.name}：${input.reason}`,
    });
    if (ended.length === 0) throw new ConflictError("NOT_ACTIVE", "该结对不在进行中，不能移交");
    const started = await startByHand(
      tx,
      { childId: seen.child.id, helperId: input.helperId, kind: seen.kind, role: seen.role, reason: "transfer", note: input.reason },
      decider,
      today,
    );
    return { ended: ended[0]!, started };
  });
}

export const statusLabel: Record<string, string> = {
  proposed: "待审批",
  active: "结对中",
  ended: "已解除",
  rejected: "已驳回",
  withdrawn: "已撤回",
};

/** Pairings and proposals within `scope`, by id (keyset paged); a teacher sees their school's children and their own pairings. */
export async function listPairingViews(
  prisma: PrismaClient,
  q: {
    scope: string;
    status: string | null;
    kind: string | null;
    childId: string | null;
    helperId: string | null;
    mine: string | null;
    teacher: { schoolId: string | null; username: string } | null;
    cursor: string | null;
    limit: number;
  },
): Promise<PairingView[]> {
  return prisma.$queryRawUnsafe<PairingView[]>(
    `${pairingSelect}
    WHERE c.village_code LIKE $1 || '%'
      AND ($2::text IS NULL OR p.status = $2)
      AND ($3::text IS NULL OR p.kind = $3)
      AND ($4::uuid IS NULL OR p.child_id = $4::uuid)
      AND ($5::uuid IS NULL OR p.helper_id = $5::uuid)
      AND ($6::text IS NULL OR h.username = $6)
      AND ($7::boolean IS NOT TRUE OR c.school_id = $8 OR h.username = $9)
      AND ($10::uuid IS NULL OR p.id > $10::uuid)
    ORDER BY p.id
    LIMIT $11`,
    q.scope,
    q.status,
    q.kind,
    q.childId,
    q.helperId,
    q.mine,
    q.teacher !== null,
    q.teacher?.schoolId ?? null,
    q.teacher?.username ?? null,
    q.cursor,
    q.limit + 1,
  );
}
