import { v7 as uuidv7 } from "uuid";
import type { Actor, ChildStatus, EventType, EventData, ExitReason } from "@shouhu/contracts";
import { ConflictError, NotFoundError, ValidationError, currentTraceparent } from "@shouhu/kit";
import { appendToOutbox, buildEvent } from "@shouhu/messaging";
import type { ChildInput, ChildPatch } from "../domain/child.js";
import { type ChildRecord, type GuardianRecord, type ParentRecord, toSnapshot } from "../domain/child-record.js";
import { diffFields } from "../domain/diff.js";
import { assertStatusChange, type StatusChangeRequest } from "../domain/status-rules.js";
import { childInclude, toChildRecord } from "./child-mapper.js";
import type { PrismaClient, Tx } from "./db.js";
import { contains, countyOf, townshipOf } from "@shouhu/contracts";

export const PRODUCER = "registry";

function eventFor<T extends EventType>(type: T, child: ChildRecord, actor: Actor, data: EventData<T>) {
  return buildEvent(type, { subject: child.id, orgUnit: child.villageCode, actor, data, traceparent: currentTraceparent() }, { producer: PRODUCER });
}

export async function loadChild(db: PrismaClient | Tx, id: string): Promise<ChildRecord | null> {
  const row = await db.child.findUnique({ where: { id }, include: childInclude });
  return row ? toChildRecord(row) : null;
}

async function getChild(db: PrismaClient | Tx, id: string): Promise<ChildRecord> {
  const child = await loadChild(db, id);
  if (!child) throw new NotFoundError("儿童档案", id);
  return child;
}

/**
 * The duplicate rule: one ID number, one record. The error knows the existing record,
 * but what the caller is told depends on their jurisdiction (`duplicateFor`), so the
 * data layer never decides what leaks.
 */
export class DuplicateChildError extends ConflictError {
  constructor(readonly existing: { id: string; name: string; villageCode: string }) {
    super("DUPLICATE_CHILD", "该身份证号已建档，不能重复建档", { field: "idNumber" });
  }
}

function duplicateError(existing: { id: string; name: string; villageCode: string }): DuplicateChildError {
  return new DuplicateChildError(existing);
}

/** What a duplicate ID number found outside the caller's jurisdiction answers: that, and nothing about the record. */
export const REGISTERED_ELSEWHERE_MESSAGE = "该儿童已在其他辖区登记,请联系县民政局办理转移";

/**
 * The duplicate as this caller may see it (DESIGN.md need-to-know): inside their
 * jurisdiction it names the existing record so they can open it; outside, only
 * "registered elsewhere" — no id, name or village, or the 409 would tell anyone
 * who is registered where.
 */
export function duplicateFor(orgUnit: string, err: DuplicateChildError): ConflictError {
  const { existing } = err;
  if (contains(orgUnit, existing.villageCode)) {
    return new ConflictError("DUPLICATE_CHILD", `该身份证号已建档：${existing.name}（档案 ${existing.id}），不能重复建档`, {
      field: "idNumber",
      existingChildId: existing.id,
      existingChildName: existing.name,
      existingVillageCode: existing.villageCode,
    });
  }
  return new ConflictError("REGISTERED_ELSEWHERE", REGISTERED_ELSEWHERE_MESSAGE, { field: "idNumber" });
}

/**
 * Village and school must exist; a retired one takes no child newly placed there (a child
 * already there keeps it: an exited child's record still names the village it left).
 */
async function assertPlacement(
  db: PrismaClient | Tx,
  villageCode: string,
  schoolId: string | null | undefined,
  changed: { village: boolean; school: boolean } = { village: true, school: true },
): Promise<void> {
  // Shared locks: a merge or retire (FOR UPDATE on the unit or school) waits for this placement to
  // commit, and so counts or moves the child; or this waits for it, and sees the unit retired.
  await db.$queryRawUnsafe("SELECT code FROM org_units WHERE code = $1 FOR SHARE", villageCode);
  if (schoolId) await db.$queryRawUnsafe("SELECT id FROM schools WHERE id = $1 FOR SHARE", schoolId);
  const village = await db.orgUnit.findUnique({ where: { code: villageCode } });
  if (!village || village.level !== "village") throw ValidationError.field("villageCode", `村（社区）代码不存在：${villageCode}`);
  if (changed.village && village.retiredAt) {
    throw ValidationError.field("villageCode", `${village.name}（${villageCode}）已撤销${village.mergedInto ? `，已并入 ${village.mergedInto}` : ""}`);
  }
  if (schoolId) {
    const school = await db.school.findUnique({ where: { id: schoolId } });
    if (!school) throw ValidationError.field("schoolId", `学校不存在：${schoolId}`);
    if (changed.school && school.retiredAt) throw ValidationError.field("schoolId", `${school.name}已撤销`);
  }
}

function childColumns(input: ChildInput | ChildPatch) {
  const { guardians: _g, parents: _p, birthDate, villageCode, ...rest } = input;
  // Prisma wants `undefined` (leave alone) or a value; the API uses null for "clear".
  return {
    ...(rest as Omit<ChildInput, "guardians" | "parents" | "birthDate" | "villageCode">),
    ...(birthDate === undefined ? {} : { birthDate: new Date(`${birthDate}T00:00:00Z`) }),
    ...(villageCode === undefined ? {} : { villageCode, townshipCode: townshipOf(villageCode), countyCode: countyOf(villageCode) }),
  };
}

type GuardianIn = Pick<GuardianRecord, "name" | "relation"> & Partial<Omit<GuardianRecord, "name" | "relation">>;
type ParentIn = Pick<ParentRecord, "role"> & Partial<Omit<ParentRecord, "role">>;

const guardianRows = (childId: string, guardians: GuardianIn[]) =>
  guardians.map((g, position) => ({
    id: uuidv7(),
    childId,
    position,
    name: g.name,
    relation: g.relation,
    phone: g.phone ?? null,
    age: g.age ?? null,
    health: g.health ?? null,
  }));

const parentRows = (childId: string, parents: ParentIn[]) =>
  parents.map((p) => ({
    id: uuidv7(),
    childId,
    role: p.role,
    name: p.name ?? null,
    phone: p.phone ?? null,
    workProvince: p.workProvince ?? null,
    workCity: p.workCity ?? null,
    employer: p.employer ?? null,
    awaySince: p.awaySince ?? null,
  }));

function isUniqueViolation(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: string }).code === "P2002";
}

function historyActor(actor: Actor) {
  return { actorId: actor.id, actorName: actor.name ?? null, actorRole: actor.role ?? null };
}

/** Registers a child: record, history and `child.registered` in one transaction. */
export async function createChild(prisma: PrismaClient, input: ChildInput, actor: Actor): Promise<ChildRecord> {
  try {
    return await prisma.$transaction((tx) => createChildInTx(tx, input, actor));
  } catch (err) {
    // Two registrations of the same ID racing: the unique index decides, the loser gets the pointer.
    if (isUniqueViolation(err)) {
      const existing = await prisma.child.findUnique({ where: { idNumber: input.idNumber }, select: { id: true, name: true, villageCode: true } });
      if (existing) throw duplicateError(existing);
    }
    throw err;
  }
}

/** Registration within a caller's transaction (a confirmed re-import row); `action` names it in the history. */
export async function createChildInTx(tx: Tx, input: ChildInput, actor: Actor, action = "created", reason: string | null = null): Promise<ChildRecord> {
  const existing = await tx.child.findUnique({ where: { idNumber: input.idNumber }, select: { id: true, name: true, villageCode: true } });
  if (existing) throw duplicateError(existing);
  await assertPlacement(tx, input.villageCode, input.schoolId);
  const id = uuidv7();
  await tx.child.create({
    data: {
      id,
      ...(childColumns(input) as ReturnType<typeof childColumns> & { birthDate: Date; villageCode: string; townshipCode: string; countyCode: string }),
      revision: 1,
      createdBy: actor.id,
    },
  });
  await tx.guardian.createMany({ data: guardianRows(id, input.guardians ?? []) });
  await tx.parent.createMany({ data: parentRows(id, input.parents ?? []) });
  const child = await getChild(tx, id);
  await tx.childHistory.create({
    data: { childId: id, revision: 1, action, reason, ...historyActor(actor), changes: diffFields({}, pickEditable(child)) as object },
  });
  await appendToOutbox(tx, [eventFor("child.registered", child, actor, { child: toSnapshot(child) })]);
  return child;
}

export function pickEditable(child: ChildRecord): Record<string, unknown> {
  const {
    id: _i,
    townshipCode: _t,
    countyCode: _c,
    schoolName: _s,
    status: _st,
    exitReason: _e,
    exitNote: _n,
    exitedAt: _x,
    revision: _r,
    createdAt: _ca,
    updatedAt: _u,
    ...editable
  } = child;
  return editable;
}

/** Locks the child row so concurrent edits serialise and revisions stay gap-free. */
async function lockChild(tx: Tx, id: string): Promise<void> {
  const rows = await tx.$queryRawUnsafe<{ id: string }[]>("SELECT id FROM children WHERE id = $1::uuid FOR UPDATE", id);
  if (rows.length === 0) throw new NotFoundError("儿童档案", id);
}

/**
 * Applies a partial update; records only the fields that really changed and
 * publishes `child.updated`. An update that changes nothing writes nothing.
 */
export async function updateChild(
  prisma: PrismaClient,
  id: string,
  patch: ChildPatch,
  actor: Actor,
  expectedRevision?: number,
): Promise<{ child: ChildRecord; changed: boolean }> {
  try {
    return await prisma.$transaction((tx) => updateChildInTx(tx, id, patch, actor, expectedRevision));
  } catch (err) {
    if (isUniqueViolation(err) && patch.idNumber) {
      const existing = await prisma.child.findUnique({ where: { idNumber: patch.idNumber }, select: { id: true, name: true, villageCode: true } });
      if (existing) throw duplicateError(existing);
    }
    throw err;
  }
}

/** An update within a caller's transaction (a confirmed re-import row); `action`/`reason` name it in the history. */
export async function updateChildInTx(
  tx: Tx,
  id: string,
  patch: ChildPatch,
  actor: Actor,
  expectedRevision?: number,
  action = "updated",
  reason: string | null = null,
): Promise<{ child: ChildRecord; changed: boolean }> {
  await lockChild(tx, id);
  const before = await getChild(tx, id);
  if (expectedRevision !== undefined && expectedRevision !== before.revision) {
    throw new ConflictError("STALE_REVISION", `档案已被他人修改（当前版本 ${before.revision}），请刷新后重试`, {
      field: "revision",
      currentRevision: before.revision,
    });
  }
  const changes = diffFields(pickEditable(before), patch as Record<string, unknown>);
  if (changes.length === 0) return { child: before, changed: false };
  if (patch.idNumber !== undefined && patch.idNumber !== before.idNumber) {
    const other = await tx.child.findUnique({ where: { idNumber: patch.idNumber }, select: { id: true, name: true, villageCode: true } });
    if (other) throw duplicateError(other);
  }
  if (patch.villageCode !== undefined || patch.schoolId !== undefined) {
    await assertPlacement(tx, patch.villageCode ?? before.villageCode, patch.schoolId === undefined ? before.schoolId : patch.schoolId, {
      village: patch.villageCode !== undefined && patch.villageCode !== before.villageCode,
      school: patch.schoolId !== undefined && patch.schoolId !== before.schoolId,
    });
  }
  const revision = before.revision + 1;
  await tx.child.update({ where: { id }, data: { ...childColumns(patch), revision } });
  if (patch.guardians !== undefined) {
    await tx.guardian.deleteMany({ where: { childId: id } });
    await tx.guardian.createMany({ data: guardianRows(id, patch.guardians) });
  }
  if (patch.parents !== undefined) {
    await tx.parent.deleteMany({ where: { childId: id } });
    await tx.parent.createMany({ data: parentRows(id, patch.parents) });
  }
  const child = await getChild(tx, id);
  await tx.childHistory.create({ data: { childId: id, revision, action, reason, ...historyActor(actor), changes: changes as object } });
  await appendToOutbox(tx, [eventFor("child.updated", child, actor, { child: toSnapshot(child), changes })]);
  return { child, changed: true };
}

export interface StatusChange extends StatusChangeRequest {
  note?: string | null;
}

/** Within a caller's transaction, so the age-out job can batch many children. */
export async function changeStatusInTx(tx: Tx, id: string, change: StatusChange, actor: Actor, today: string): Promise<ChildRecord> {
  await lockChild(tx, id);
  const before = await getChild(tx, id);
  assertStatusChange(before, change, today);
  const revision = before.revision + 1;
  const exiting = change.status === "exited";
  await tx.child.update({
    where: { id },
    data: {
      status: change.status,
      exitReason: exiting ? (change.reason ?? null) : null,
      exitNote: change.note ?? null,
      exitedAt: exiting ? new Date(`${today}T00:00:00Z`) : null,
      revision,
    },
  });
  const child = await getChild(tx, id);
  const changes = diffFields(
    { status: before.status, exitReason: before.exitReason, exitNote: before.exitNote },
    { status: child.status, exitReason: child.exitReason, exitNote: child.exitNote },
  );
  await tx.childHistory.create({
    data: { childId: id, revision, action: "status_changed", ...historyActor(actor), reason: change.note ?? change.reason ?? null, changes: changes as object },
  });
  await appendToOutbox(tx, [
    eventFor("child.status-changed", child, actor, {
      child: toSnapshot(child),
      from: before.status as ChildStatus,
      to: child.status,
      reason: (change.reason ?? null) as ExitReason | null,
      note: change.note ?? null,
    }),
  ]);
  return child;
}

export async function changeStatus(prisma: PrismaClient, id: string, change: StatusChange, actor: Actor, today: string): Promise<ChildRecord> {
  return prisma.$transaction((tx) => changeStatusInTx(tx, id, change, actor, today));
}

/** A placement change the register makes itself (promotion, middle-school assignment, transfer): not a free-form edit. */
export interface Placement {
  villageCode?: string;
  schoolId?: string | null;
  grade?: string | null;
  className?: string | null;
}

/**
 * Changes where a child is (village, school, grade, class) within the caller's transaction:
 * the row locked, history under `action` with `reason`, and `child.updated` (whose consumers
 * follow a village in another township: pairing ends pairings and proposes there, visits move
 * schedules, reporting moves counters). A change that changes nothing writes nothing.
 */
export async function placeChildInTx(
  tx: Tx,
  id: string,
  placement: Placement,
  action: "promoted" | "transferred" | "school_assigned",
  actor: Actor,
  reason: string | null,
): Promise<{ child: ChildRecord; changed: boolean }> {
  await lockChild(tx, id);
  const before = await getChild(tx, id);
  const changes = diffFields(pickEditable(before), placement as Record<string, unknown>);
  if (changes.length === 0) return { child: before, changed: false };
  if (placement.villageCode !== undefined || placement.schoolId !== undefined) {
    await assertPlacement(tx, placement.villageCode ?? before.villageCode, placement.schoolId === undefined ? before.schoolId : placement.schoolId, {
      village: placement.villageCode !== undefined && placement.villageCode !== before.villageCode,
      school: placement.schoolId !== undefined && placement.schoolId !== before.schoolId,
    });
  }
  const revision = before.revision + 1;
  await tx.child.update({ where: { id }, data: { ...childColumns(placement as ChildPatch), revision } });
  const child = await getChild(tx, id);
  await tx.childHistory.create({ data: { childId: id, revision, action, ...historyActor(actor), reason, changes: changes as object } });
  await appendToOutbox(tx, [eventFor("child.updated", child, actor, { child: toSnapshot(child), changes })]);
  return { child, changed: true };
}
