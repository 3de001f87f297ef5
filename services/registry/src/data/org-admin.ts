import { v7 as uuidv7 } from "uuid";
import type { Actor } from "@shouhu/contracts";
import { countyOf, orgLevel, townshipOf } from "@shouhu/contracts";
import { ConflictError, NotFoundError, ValidationError, currentTraceparent } from "@shouhu/kit";
import { appendToOutbox, buildEvent } from "@shouhu/messaging";
import { toSnapshot } from "../domain/child-record.js";
import { LEVEL_LABEL, parentCodeOf, type SchoolType } from "../domain/org-admin.js";
import { childInclude, toChildRecord } from "./child-mapper.js";
import { PRODUCER } from "./children.js";
import type { PrismaClient, Tx } from "./db.js";

/**
 * Org units and schools as a county admin keeps them. Every change writes, in the same
 * transaction, a `snapshot.org-units` of the county to the outbox: the read models that
 * name townships, villages and schools (reporting, visits) upsert from it, so a rename,
 * a merge or a new school reaches them the way the start-up publication does. Children
 * moved by a merge each get a history row and a `child.updated`.
 */

async function publishCounty(tx: Tx, county: string, actor: Actor): Promise<void> {
  const units = await tx.orgUnit.findMany({ where: { code: { startsWith: county } }, orderBy: { code: "asc" } });
  const schools = await tx.school.findMany({ where: { townshipCode: { startsWith: county } }, orderBy: { id: "asc" } });
  await appendToOutbox(tx, [
    buildEvent(
      "snapshot.org-units",
      {
        subject: county,
        orgUnit: county,
        actor,
        traceparent: currentTraceparent(),
        data: {
          runId: uuidv7(),
          units: units.map((u) => ({ code: u.code, name: u.name, level: u.level, parentCode: u.parentCode })),
          schools: schools.map((s) => ({ id: s.id, name: s.name, townshipCode: s.townshipCode })),
        },
      },
      { producer: PRODUCER },
    ),
  ]);
}

async function lockUnit(tx: Tx, code: string) {
  await tx.$queryRawUnsafe("SELECT code FROM org_units WHERE code = $1 FOR UPDATE", code);
  const unit = await tx.orgUnit.findUnique({ where: { code } });
  if (!unit) throw new NotFoundError("行政区划", code);
  return unit;
}

function assertActive(unit: { code: string; name: string; retiredAt: Date | null }, field: string): void {
  if (unit.retiredAt) throw new ConflictError("ORG_UNIT_RETIRED", `${unit.name}（${unit.code}）已撤销`, { field });
}

/** What still lies in a unit: children on the register (not exited), active schools, active villages. */
async function holdings(db: PrismaClient | Tx, code: string) {
  const level = orgLevel(code);
  const where = level === "village" ? { villageCode: code } : level === "township" ? { townshipCode: code } : { countyCode: code };
  const [children, schools, units] = await Promise.all([
    db.child.count({ where: { ...where, status: { not: "exited" } } }),
    level === "village" ? 0 : db.school.count({ where: { townshipCode: { startsWith: code }, retiredAt: null } }),
    level === "village" ? 0 : db.orgUnit.count({ where: { parentCode: code, retiredAt: null } }),
  ]);
  return { children, schools, units };
}

export async function createOrgUnit(prisma: PrismaClient, input: { code: string; name: string }, actor: Actor) {
  const parentCode = parentCodeOf(input.code);
  return prisma.$transaction(async (tx) => {
    const existing = await tx.orgUnit.findUnique({ where: { code: input.code } });
    if (existing) {
      const why = existing.retiredAt ? "已撤销，代码不能重新使用" : "已存在";
      throw new ConflictError("ORG_UNIT_EXISTS", `行政区划代码 ${input.code}（${existing.name}）${why}`, { field: "code" });
    }
    if (parentCode) {
      const parent = await tx.orgUnit.findUnique({ where: { code: parentCode } });
      if (!parent) throw ValidationError.field("code", `上级区划 ${parentCode} 不存在，请先建立上级`);
      assertActive(parent, "code");
    }
    const unit = await tx.orgUnit.create({ data: { code: input.code, name: input.name, level: orgLevel(input.code)!, parentCode } });
    await publishCounty(tx, countyOf(input.code), actor);
    return unit;
  });
}

export async function renameOrgUnit(prisma: PrismaClient, code: string, name: string, actor: Actor) {
  return prisma.$transaction(async (tx) => {
    const unit = await lockUnit(tx, code);
    assertActive(unit, "code");
    if (unit.name === name) return unit;
    const renamed = await tx.orgUnit.update({ where: { code }, data: { name } });
    await publishCounty(tx, countyOf(code), actor);
    return renamed;
  });
}

function refusal(unit: { code: string; name: string; level: string }, held: { children: number; schools: number; units: number }, what: string) {
  const parts = [
    held.children ? `${held.children} 名在册儿童` : null,
    held.schools ? `${held.schools} 所学校` : null,
    held.units ? `${held.units} 个下级村（社区）` : null,
  ].filter(Boolean);
  return new ConflictError(
    "ORG_UNIT_NOT_EMPTY",
    `${unit.name}（${unit.code}）仍有${parts.join("、")}，不能${what}；请先合并到其他${LEVEL_LABEL[unit.level as "village"]}或转移`,
    {
      field: "code",
      ...held,
    },
  );
}

export async function retireOrgUnit(prisma: PrismaClient, code: string, actor: Actor, now: Date) {
  return prisma.$transaction(async (tx) => {
    const unit = await lockUnit(tx, code);
    assertActive(unit, "code");
    const held = await holdings(tx, code);
    if (held.children || held.schools || held.units) throw refusal(unit, held, "撤销");
    const retired = await tx.orgUnit.update({ where: { code }, data: { retiredAt: now } });
    await publishCounty(tx, countyOf(code), actor);
    return retired;
  });
}

/**
 * Merges `code` into `into` (same level, same county): a village's children (not exited)
 * move to the other village — and so to its township — each with a history row and a
 * `child.updated`; a township's schools move to the other township. A township's villages
 * keep codes that begin with its own, so they are merged (into villages of the other
 * township, their new codes) before the township is: until then the merge is refused
 * with their count. The merged unit is retired, pointing at the one it went into.
 */
export async function mergeOrgUnit(prisma: PrismaClient, code: string, into: string, actor: Actor, now: Date) {
  return prisma.$transaction(async (tx) => {
    // Lock in code order so two merges of the same pair cannot deadlock.
    const [first, second] = [code, into].sort();
    const a = await lockUnit(tx, first!);
    const b = await lockUnit(tx, second!);
    const from = a.code === code ? a : b;
    const to = a.code === code ? b : a;
    assertActive(from, "code");
    assertActive(to, "into");
    if (from.level !== to.level)
      throw ValidationError.field(
        "into",
        `只能合并到同级区划：${from.name}是${LEVEL_LABEL[from.level as "village"]}，${to.name}是${LEVEL_LABEL[to.level as "village"]}`,
      );
    if (from.level === "county") throw ValidationError.field("code", "县级区划不能在本系统合并");

    let movedChildren = 0;
    let movedSchools = 0;
    if (from.level === "township") {
      const villages = await tx.orgUnit.count({ where: { parentCode: from.code, retiredAt: null } });
      if (villages) throw refusal(from, { children: 0, schools: 0, units: villages }, "合并");
      movedSchools = (await tx.school.updateMany({ where: { townshipCode: from.code }, data: { townshipCode: to.code } })).count;
      // Children are reached through their villages; none is left in a township without one.
    } else {
      const rows = await tx.$queryRawUnsafe<{ id: string }[]>(
        "SELECT id::text FROM children WHERE village_code = $1 AND status <> 'exited' ORDER BY id FOR UPDATE",
        from.code,
      );
      for (const { id } of rows) {
        const before = await tx.child.findUniqueOrThrow({ where: { id }, select: { revision: true, villageCode: true, townshipCode: true } });
        const revision = before.revision + 1;
        const row = await tx.child.update({
          where: { id },
          data: { villageCode: to.code, townshipCode: townshipOf(to.code), countyCode: countyOf(to.code), revision },
          include: childInclude,
        });
        const child = toChildRecord(row);
        const changes = [{ field: "villageCode", before: before.villageCode, after: to.code }];
        const reason = `区划合并：${from.name}（${from.code}）并入${to.name}（${to.code}）`;
        await tx.childHistory.create({
          data: { childId: id, revision, action: "updated", actorId: actor.id, actorName: actor.name ?? null, actorRole: actor.role ?? null, reason, changes },
        });
        await appendToOutbox(tx, [
          buildEvent(
            "child.updated",
            { subject: id, orgUnit: child.villageCode, actor, data: { child: toSnapshot(child), changes }, traceparent: currentTraceparent() },
            { producer: PRODUCER },
          ),
        ]);
      }
      movedChildren = rows.length;
    }
    await tx.orgUnit.update({ where: { code: from.code }, data: { retiredAt: now, mergedInto: to.code } });
    await publishCounty(tx, countyOf(from.code), actor);
    return { code: from.code, into: to.code, movedChildren, movedSchools };
  });
}

// ---- schools ----

export async function findSchool(db: PrismaClient | Tx, id: string) {
  return db.school.findUnique({ where: { id } });
}

async function assertTownship(db: Tx, townshipCode: string, field: string) {
  const township = await db.orgUnit.findUnique({ where: { code: townshipCode } });
  if (!township || township.level !== "township") throw ValidationError.field(field, `乡镇代码不存在：${townshipCode}`);
  assertActive(township, field);
}

export async function createSchool(prisma: PrismaClient, input: { code: string; name: string; townshipCode: string; type: SchoolType }, actor: Actor) {
  return prisma.$transaction(async (tx) => {
    const existing = await tx.school.findFirst({ where: { OR: [{ code: input.code }, { id: input.code }] } });
    if (existing)
      throw new ConflictError("SCHOOL_EXISTS", `学校标识码 ${input.code} 已登记为${existing.name}${existing.retiredAt ? "（已撤销）" : ""}`, { field: "code" });
    await assertTownship(tx, input.townshipCode, "townshipCode");
    const sameName = await tx.school.findUnique({ where: { townshipCode_name: { townshipCode: input.townshipCode, name: input.name } } });
    if (sameName) throw new ConflictError("SCHOOL_NAME_TAKEN", `该乡镇已有同名学校：${input.name}`, { field: "name" });
    const school = await tx.school.create({ data: { id: input.code, code: input.code, name: input.name, townshipCode: input.townshipCode, type: input.type } });
    await publishCounty(tx, countyOf(input.townshipCode), actor);
    return school;
  });
}

export async function updateSchool(prisma: PrismaClient, id: string, patch: { name?: string; townshipCode?: string; type?: SchoolType }, actor: Actor) {
  return prisma.$transaction(async (tx) => {
    await tx.$queryRawUnsafe("SELECT id FROM schools WHERE id = $1 FOR UPDATE", id);
    const school = await tx.school.findUnique({ where: { id } });
    if (!school) throw new NotFoundError("学校", id);
    if (school.retiredAt) throw new ConflictError("SCHOOL_RETIRED", `${school.name}已撤销`, { field: "id" });
    if (patch.townshipCode !== undefined && patch.townshipCode !== school.townshipCode) {
      if (countyOf(patch.townshipCode) !== countyOf(school.townshipCode)) throw ValidationError.field("townshipCode", "学校只能迁到本县的乡镇");
      await assertTownship(tx, patch.townshipCode, "townshipCode");
    }
    const townshipCode = patch.townshipCode ?? school.townshipCode;
    const name = patch.name ?? school.name;
    if (townshipCode !== school.townshipCode || name !== school.name) {
      const other = await tx.school.findUnique({ where: { townshipCode_name: { townshipCode, name } } });
      if (other && other.id !== id) throw new ConflictError("SCHOOL_NAME_TAKEN", `该乡镇已有同名学校：${name}`, { field: "name" });
    }
    const updated = await tx.school.update({ where: { id }, data: { name, townshipCode, ...(patch.type ? { type: patch.type } : {}) } });
    await publishCounty(tx, countyOf(townshipCode), actor);
    return updated;
  });
}

export async function retireSchool(prisma: PrismaClient, id: string, actor: Actor, now: Date) {
  return prisma.$transaction(async (tx) => {
    await tx.$queryRawUnsafe("SELECT id FROM schools WHERE id = $1 FOR UPDATE", id);
    const school = await tx.school.findUnique({ where: { id } });
    if (!school) throw new NotFoundError("学校", id);
    if (school.retiredAt) throw new ConflictError("SCHOOL_RETIRED", `${school.name}已撤销`, { field: "id" });
    const children = await tx.child.count({ where: { schoolId: id, status: { not: "exited" } } });
    if (children) {
      throw new ConflictError("SCHOOL_NOT_EMPTY", `${school.name}仍有 ${children} 名在册儿童，不能撤销；请先为他们更改就读学校`, { field: "id", children });
    }
    const retired = await tx.school.update({ where: { id }, data: { retiredAt: now } });
    await publishCounty(tx, countyOf(school.townshipCode), actor);
    return retired;
  });
}

// ---- list imports ----

export interface DivisionRow {
  rowNumber: number;
  code: string;
  name: string;
}

export interface SchoolListRow {
  rowNumber: number;
  code: string;
  name: string;
  /** 9-digit township code or the township's name, as the list writes it. */
  township: string;
  type: SchoolType;
}

export interface Rejection {
  rowNumber: number;
  code: string | null;
  name: string | null;
  reasons: string[];
}

export interface ImportOutcome {
  created: number;
  renamed: number;
  unchanged: number;
  rejections: Rejection[];
}

/**
 * The county's part of the division table, in one transaction: new codes are created
 * (parents first, so a township and its villages can arrive in one file), known codes
 * renamed when the name differs. Codes are never changed, retired codes never revived.
 */
export async function importDivisions(prisma: PrismaClient, rows: DivisionRow[], actor: Actor, county: string): Promise<ImportOutcome> {
  const outcome: ImportOutcome = { created: 0, renamed: 0, unchanged: 0, rejections: [] };
  const sorted = [...rows].sort((x, y) => x.code.length - y.code.length || x.rowNumber - y.rowNumber);
  await prisma.$transaction(
    async (tx) => {
      const known = new Map((await tx.orgUnit.findMany({ where: { code: { startsWith: county } } })).map((u) => [u.code, u]));
      for (const row of sorted) {
        const unit = known.get(row.code);
        if (unit) {
          if (unit.retiredAt) outcome.rejections.push({ rowNumber: row.rowNumber, code: row.code, name: row.name, reasons: ["该代码已撤销，不能重新使用"] });
          else if (unit.name === row.name) outcome.unchanged++;
          else {
            known.set(row.code, await tx.orgUnit.update({ where: { code: row.code }, data: { name: row.name } }));
            outcome.renamed++;
          }
          continue;
        }
        const parentCode = parentCodeOf(row.code);
        const parent = parentCode ? known.get(parentCode) : undefined;
        if (parentCode && !parent) {
          outcome.rejections.push({ rowNumber: row.rowNumber, code: row.code, name: row.name, reasons: [`上级区划 ${parentCode} 不存在（表中也没有）`] });
          continue;
        }
        if (parent?.retiredAt) {
          outcome.rejections.push({ rowNumber: row.rowNumber, code: row.code, name: row.name, reasons: [`上级区划 ${parent.name}（${parent.code}）已撤销`] });
          continue;
        }
        known.set(row.code, await tx.orgUnit.create({ data: { code: row.code, name: row.name, level: orgLevel(row.code)!, parentCode } }));
        outcome.created++;
      }
      if (outcome.created || outcome.renamed) await publishCounty(tx, county, actor);
    },
    { timeout: 60_000 },
  );
  outcome.rejections.sort((x, y) => x.rowNumber - y.rowNumber);
  return outcome;
}

/** The county's school list: new 学校标识码 created, known ones updated (name, township, type). */
export async function importSchools(prisma: PrismaClient, rows: SchoolListRow[], actor: Actor, county: string): Promise<ImportOutcome> {
  const outcome: ImportOutcome = { created: 0, renamed: 0, unchanged: 0, rejections: [] };
  await prisma.$transaction(
    async (tx) => {
      const townships = new Map((await tx.orgUnit.findMany({ where: { code: { startsWith: county }, level: "township" } })).map((u) => [u.code, u]));
      const townshipByName = new Map([...townships.values()].filter((u) => !u.retiredAt).map((u) => [u.name, u]));
      const schools = await tx.school.findMany({ where: { townshipCode: { startsWith: county } } });
      const byCode = new Map(schools.filter((s) => s.code).map((s) => [s.code!, s]));
      const byName = new Map(schools.map((s) => [`${s.townshipCode}|${s.name}`, s]));
      for (const row of rows) {
        const reject = (reason: string) => outcome.rejections.push({ rowNumber: row.rowNumber, code: row.code, name: row.name, reasons: [reason] });
        const township = townships.get(row.township) ?? townshipByName.get(row.township);
        if (!township) {
          reject(`所在乡镇“${row.township}”不在本县`);
          continue;
        }
        if (township.retiredAt) {
          reject(`乡镇 ${township.name} 已撤销`);
          continue;
        }
        const townshipCode = township.code;
        const school = byCode.get(row.code);
        const sameName = byName.get(`${townshipCode}|${row.name}`);
        if (sameName && sameName.code !== row.code) {
          reject(`该乡镇已有同名学校（${sameName.code ?? sameName.id}）`);
          continue;
        }
        if (school) {
          if (school.retiredAt) {
            reject("该学校标识码已撤销");
          } else if (school.name === row.name && school.townshipCode === townshipCode && school.type === row.type) {
            outcome.unchanged++;
          } else {
            const updated = await tx.school.update({ where: { id: school.id }, data: { name: row.name, townshipCode, type: row.type } });
            byName.delete(`${school.townshipCode}|${school.name}`);
            byName.set(`${townshipCode}|${row.name}`, updated);
            byCode.set(row.code, updated);
            outcome.renamed++;
          }
          continue;
        }
        const taken = await tx.school.findUnique({ where: { id: row.code } });
        if (taken) {
          reject(`学校标识码已被其他县的学校使用`);
          continue;
        }
        const created = await tx.school.create({ data: { id: row.code, code: row.code, name: row.name, townshipCode, type: row.type } });
        byCode.set(row.code, created);
        byName.set(`${townshipCode}|${row.name}`, created);
        outcome.created++;
      }
      if (outcome.created || outcome.renamed) await publishCounty(tx, county, actor);
    },
    { timeout: 60_000 },
  );
  return outcome;
}

/** Children on a school's or unit's register, for the admin table's counts. */
export async function childCounts(prisma: PrismaClient, county: string) {
  const [byVillage, bySchool] = await Promise.all([
    prisma.child.groupBy({ by: ["villageCode"], where: { countyCode: county, status: { not: "exited" } }, _count: true }),
    prisma.child.groupBy({ by: ["schoolId"], where: { countyCode: county, status: { not: "exited" } }, _count: true }),
  ]);
  return {
    village: new Map(byVillage.map((r) => [r.villageCode, r._count])),
    school: new Map(bySchool.filter((r) => r.schoolId).map((r) => [r.schoolId!, r._count])),
  };
}
