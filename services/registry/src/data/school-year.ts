import type { Actor } from "@shouhu/contracts";
import { contains, countyOf } from "@shouhu/contracts";
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from "@shouhu/kit";
import type { Principal } from "@shouhu/auth";
import { AWAITING_MIDDLE_SCHOOL, promotionStep, type PromotionStep, type SchoolType } from "../domain/school-year.js";
import type { ChildRecord } from "../domain/child-record.js";
import { childInclude, toChildRecord } from "./child-mapper.js";
import { placeChildInTx } from "./children.js";
import type { PrismaClient, Tx } from "./db.js";

/** Promotion of a whole school: many children in one transaction. */
const PROMOTION_TX = { timeout: 120_000, maxWait: 10_000 };

interface SchoolRow {
  id: string;
  name: string;
  townshipCode: string;
  type: string | null;
  retiredAt: Date | null;
}

/** The school, if the caller's jurisdiction holds its township (404 otherwise: no probing of schools elsewhere). */
export async function schoolInScope(db: PrismaClient | Tx, principal: Principal, schoolId: string): Promise<SchoolRow> {
  const school = await db.school.findUnique({ where: { id: schoolId }, select: { id: true, name: true, townshipCode: true, type: true, retiredAt: true } });
  if (!school || !contains(principal.orgUnit, school.townshipCode)) throw new NotFoundError("学校", schoolId);
  return school;
}

function schoolType(school: SchoolRow): SchoolType {
  if (school.type === "小学" || school.type === "初中" || school.type === "九年一贯制") return school.type;
  throw ValidationError.field("schoolId", `${school.name}未设置学校类型（小学/初中/九年一贯制），请先在“区划与学校”中设置`);
}

export interface PromotionPlan {
  schoolId: string;
  schoolName: string;
  schoolType: SchoolType;
  schoolYear: string;
  /** Already promoted into this school year: when, by whom, how many. */
  done: { at: string; actorName: string | null; promoted: number; awaiting: number } | null;
  steps: { from: string | null; to: string | null; kind: PromotionStep["kind"]; count: number }[];
  promoted: number;
  awaiting: number;
  graduating: number;
  unrecognised: number;
}

async function activeChildren(db: PrismaClient | Tx, schoolId: string) {
  return db.child.findMany({ where: { schoolId, status: "active" }, select: { id: true, grade: true }, orderBy: { id: "asc" } });
}

function plan(school: SchoolRow, schoolYear: string, children: { id: string; grade: string | null }[], done: PromotionPlan["done"]) {
  const type = schoolType(school);
  const steps = new Map<string, PromotionPlan["steps"][number]>();
  const byChild = children.map((c) => ({ id: c.id, step: promotionStep(type, c.grade) }));
  for (const { step } of byChild) {
    const to = step.kind === "promote" ? step.to : step.kind === "awaiting" ? AWAITING_MIDDLE_SCHOOL : null;
    const key = `${step.kind}|${step.from}`;
    const s = steps.get(key) ?? { from: step.from, to, kind: step.kind, count: 0 };
    s.count += 1;
    steps.set(key, s);
  }
  const count = (k: PromotionStep["kind"]) => byChild.filter((c) => c.step.kind === k).length;
  const result: PromotionPlan = {
    schoolId: school.id,
    schoolName: school.name,
    schoolType: type,
    schoolYear,
    done,
    steps: [...steps.values()].sort((a, b) => (a.from ?? "").localeCompare(b.from ?? "", "zh-CN")),
    promoted: count("promote"),
    awaiting: count("awaiting"),
    graduating: count("graduating"),
    unrecognised: count("unrecognised"),
  };
  return { result, byChild };
}

async function doneRecord(db: PrismaClient | Tx, schoolId: string, schoolYear: string): Promise<PromotionPlan["done"]> {
  const row = await db.schoolPromotion.findUnique({ where: { schoolId_schoolYear: { schoolId, schoolYear } } });
  return row ? { at: row.at.toISOString(), actorName: row.actorName, promoted: row.promoted, awaiting: row.awaiting } : null;
}

/** What promotion would do, counted by grade; nothing changes. */
export async function previewPromotion(prisma: PrismaClient, principal: Principal, schoolId: string, schoolYear: string): Promise<PromotionPlan> {
  const school = await schoolInScope(prisma, principal, schoolId);
  const done = await doneRecord(prisma, schoolId, schoolYear);
  return plan(school, schoolYear, done ? [] : await activeChildren(prisma, schoolId), done).result;
}

/**
 * Promotes a school's active children into `schoolYear`, once: the school row is locked and the
 * promotion recorded in the same transaction, so a second run (or two at once) finds the record and
 * changes nobody. Each child's change writes history ("promoted") and `child.updated`.
 */
export async function promoteSchool(
  prisma: PrismaClient,
  principal: Principal,
  schoolId: string,
  schoolYear: string,
  actor: Actor,
): Promise<PromotionPlan & { replayed: boolean; childIds: string[] }> {
  return prisma.$transaction(async (tx) => {
    await schoolInScope(tx, principal, schoolId);
    await tx.$queryRawUnsafe("SELECT id FROM schools WHERE id = $1 FOR UPDATE", schoolId);
    const school = await schoolInScope(tx, principal, schoolId);
    if (school.retiredAt) throw new ConflictError("SCHOOL_RETIRED", `${school.name}已撤销，不能升级`, { field: "schoolId" });
    const done = await doneRecord(tx, schoolId, schoolYear);
    if (done) return { ...plan(school, schoolYear, [], done).result, replayed: true, childIds: [] };
    const { result, byChild } = plan(school, schoolYear, await activeChildren(tx, schoolId), null);
    const reason = `${schoolYear}学年升级`;
    const childIds: string[] = [];
    for (const { id, step } of byChild) {
      if (step.kind === "promote") {
        await placeChildInTx(tx, id, { grade: step.to }, "promoted", actor, reason);
        childIds.push(id);
      } else if (step.kind === "awaiting") {
        await placeChildInTx(tx, id, { grade: AWAITING_MIDDLE_SCHOOL, schoolId: null, className: null }, "promoted", actor, `${reason}：小学毕业，待分配初中`);
        childIds.push(id);
      }
    }
    const row = await tx.schoolPromotion.create({
      data: { schoolId, schoolYear, promoted: result.promoted, awaiting: result.awaiting, actorId: actor.id, actorName: actor.name ?? null },
    });
    return {
      ...result,
      done: { at: row.at.toISOString(), actorName: row.actorName, promoted: row.promoted, awaiting: row.awaiting },
      replayed: false,
      childIds,
    };
  }, PROMOTION_TX);
}

/** Children who finished primary school and wait for a middle school, in the caller's jurisdiction. */
export async function awaitingMiddleSchool(prisma: PrismaClient, principal: Principal): Promise<ChildRecord[]> {
  const rows = await prisma.child.findMany({
    where: { status: "active", grade: AWAITING_MIDDLE_SCHOOL, villageCode: { startsWith: principal.orgUnit } },
    include: childInclude,
    orderBy: [{ villageCode: "asc" }, { id: "asc" }],
    take: 2000,
  });
  return rows.map(toChildRecord);
}

/** The decision for one child waiting: a middle school (or nine-year school) of the child's county, grade 七年级. */
export async function assignMiddleSchool(
  prisma: PrismaClient,
  principal: Principal,
  childId: string,
  input: { schoolId: string; className?: string | null },
  actor: Actor,
): Promise<ChildRecord> {
  return prisma.$transaction(async (tx) => {
    const child = await tx.child.findUnique({ where: { id: childId }, select: { villageCode: true, grade: true, status: true } });
    if (!child || !contains(principal.orgUnit, child.villageCode)) throw new NotFoundError("儿童档案", childId);
    if (child.status !== "active" || child.grade !== AWAITING_MIDDLE_SCHOOL) {
      throw new ConflictError("NOT_AWAITING", "该儿童不在“待分配初中”名单中", { field: "childId" });
    }
    const school = await tx.school.findUnique({ where: { id: input.schoolId } });
    if (!school || !contains(countyOf(child.villageCode), school.townshipCode)) throw ValidationError.field("schoolId", `本县没有该学校：${input.schoolId}`);
    if (school.type !== "初中" && school.type !== "九年一贯制") throw ValidationError.field("schoolId", `${school.name}不是初中或九年一贯制学校`);
    const { child: placed } = await placeChildInTx(
      tx,
      childId,
      { schoolId: school.id, grade: "七年级", className: input.className ?? null },
      "school_assigned",
      actor,
      `分配初中：${school.name}`,
    );
    return placed;
  });
}

export interface HandoverRow {
  child: ChildRecord;
  helper: { name: string; phone: string | null; helperKind: string } | null;
}

/** A class's children (交接): who they are, who helps them; for the incoming teacher. */
export async function handoverList(
  prisma: PrismaClient,
  principal: Principal,
  schoolId: string,
  filter: { grade?: string; className?: string },
): Promise<{ school: { id: string; name: string }; rows: HandoverRow[] }> {
  const school = await schoolInScope(prisma, principal, schoolId);
  if (principal.roles.length === 1 && principal.roles[0] === "teacher" && principal.schoolCode !== school.id) {
    throw new ForbiddenError("只能查看本校的交接名单");
  }
  const rows = await prisma.child.findMany({
    where: {
      schoolId,
      status: "active",
      villageCode: { startsWith: principal.orgUnit },
      ...(filter.grade ? { grade: filter.grade } : {}),
      ...(filter.className ? { className: filter.className } : {}),
    },
    include: childInclude,
    orderBy: [{ grade: "asc" }, { className: "asc" }, { name: "asc" }],
    take: 2000,
  });
  // The child's primary mentor (主要帮扶人); a secondary helper does not take its place on the handover list.
  const helpers = await prisma.currentPairing.findMany({ where: { childId: { in: rows.map((r) => r.id) }, kind: "mentor", role: "primary" } });
  const byChild = new Map(helpers.map((h) => [h.childId, h]));
  return {
    school: { id: school.id, name: school.name },
    rows: rows.map((r) => {
      const h = byChild.get(r.id);
      return { child: toChildRecord(r), helper: h ? { name: h.name, phone: h.phone, helperKind: h.helperKind } : null };
    }),
  };
}
