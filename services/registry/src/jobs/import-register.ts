import { v7 as uuidv7 } from "uuid";
import { systemActor, type Actor } from "@shouhu/contracts";
import { appendToOutbox } from "@shouhu/messaging";
import type { ChildInput } from "../domain/child.js";
import { type ChildRecord, toSnapshot } from "../domain/child-record.js";
import { diffFields } from "../domain/diff.js";
import { countyOf, townshipOf } from "../domain/org-codes.js";
import { eventFor, pickEditable } from "../data/children.js";
import type { PrismaClient, Tx } from "../data/db.js";

export const IMPORT_JOB = "import-register";

/** One row of a parsed register: a valid child, or the reasons it was rejected (zh-CN). */
export type ParsedRow =
  | { sheet: string; rowNumber: number; ok: true; child: ChildInput }
  | { sheet: string; rowNumber: number; ok: false; reasons: string[]; name?: string | null; idNumber?: string | null };

export interface Resolvers {
  resolveVillage: (addressText: string, sheetName: string) => { villageCode: string } | { error: string };
  resolveSchool: (schoolName: string) => { schoolId: string } | { error: string };
}

/** The parser, injected so this module holds only the storing logic. */
export type ParseRegister = (
  file: Buffer,
  options: Resolvers & { today: string; onBatch: (rows: ParsedRow[]) => Promise<void>; batchSize: number },
) => Promise<{ totalRows: number }>;

export interface ImportDeps {
  prisma: PrismaClient;
  parse: ParseRegister;
  today: () => string;
  batchSize?: number;
}

/** In-memory record for a child about to be inserted, for its event snapshot. */
function recordFromInput(id: string, input: ChildInput, schoolName: string | null, now: Date): ChildRecord {
  return {
    id,
    idNumber: input.idNumber,
    name: input.name,
    sex: input.sex,
    birthDate: input.birthDate,
    ethnicity: input.ethnicity ?? "汉族",
    villageCode: input.villageCode,
    townshipCode: townshipOf(input.villageCode),
    countyCode: countyOf(input.villageCode),
    address: input.address ?? null,
    schoolId: input.schoolId ?? null,
    schoolName,
    grade: input.grade ?? null,
    className: input.className ?? null,
    leftBehindType: input.leftBehindType,
    difficultyCategories: input.difficultyCategories ?? [],
    riskLevel: input.riskLevel ?? "low",
    status: "active",
    exitReason: null,
    exitNote: null,
    exitedAt: null,
    familySituation: input.familySituation ?? null,
    healthNotes: input.healthNotes ?? null,
    psychologicalNotes: input.psychologicalNotes ?? null,
    helperName: input.helperName ?? null,
    remarks: input.remarks ?? null,
    guardians: (input.guardians ?? []).map((g) => ({ name: g.name, relation: g.relation, phone: g.phone ?? null, age: g.age ?? null, health: g.health ?? null })),
    parents: (input.parents ?? []).map((p) => ({
      role: p.role,
      name: p.name ?? null,
      phone: p.phone ?? null,
      workProvince: p.workProvince ?? null,
      workCity: p.workCity ?? null,
      employer: p.employer ?? null,
      awaySince: p.awaySince ?? null,
    })),
    revision: 1,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
  };
}

/** Village and school lookups for the uploader's org unit, from the registry's own tables. */
export async function loadResolvers(prisma: PrismaClient, orgUnit: string): Promise<Resolvers> {
  const county = countyOf(orgUnit);
  const units = await prisma.orgUnit.findMany({ where: { code: { startsWith: county } } });
  const villages = units.filter((u) => u.level === "village");
  const townships = new Map(units.filter((u) => u.level === "township").map((u) => [u.code, u.name]));
  const schools = await prisma.school.findMany({ where: { townshipCode: { startsWith: county } } });
  return {
    resolveVillage(addressText, sheetName) {
      const text = addressText.replace(/\s+/g, "");
      const matches = villages.filter((v) => text.includes(v.name));
      // Two townships may both have a 新村: the township named in the address or sheet decides.
      const narrowed =
        matches.length > 1
          ? matches.filter((v) => {
              const township = townships.get(v.parentCode ?? "") ?? "";
              return text.includes(township) || sheetName.includes(township);
            })
          : matches;
      if (narrowed.length === 1) return { villageCode: narrowed[0]!.code };
      if (narrowed.length === 0) return { error: `户籍地址“${addressText}”中找不到本县的村（社区）名称` };
      return { error: `户籍地址“${addressText}”对应多个村（社区），请写明乡镇` };
    },
    resolveSchool(schoolName) {
      const name = schoolName.replace(/\s+/g, "");
      const school = schools.find((s) => s.name === name);
      return school ? { schoolId: school.id } : { error: `就读学校“${schoolName}”不在本县学校名单中` };
    },
  };
}

/**
 * One statement per table for a whole batch, the rows sent as a single JSON
 * document expanded by jsonb_to_recordset: Prisma's createMany compiles a query
 * per batch that costs more than the insert, and pg's array parameters escape
 * every quote of every JSON value.
 */
async function insertChildren(tx: Tx, fresh: ChildRecord[], batchId: string, actor: Actor): Promise<void> {
  await tx.$executeRawUnsafe(
    `INSERT INTO children (id, id_number, name, sex, birth_date, ethnicity, village_code, township_code, county_code, address, school_id, grade,
       class_name, left_behind_type, difficulty_categories, risk_level, family_situation, health_notes, psychological_notes, helper_name, remarks,
       revision, import_batch_id, created_by, updated_at)
     SELECT u."id", u."idNumber", u."name", u."sex", u."birthDate", u."ethnicity", u."villageCode", u."townshipCode", u."countyCode", u."address",
       u."schoolId", u."grade", u."className", u."leftBehindType", u."difficultyCategories", u."riskLevel", u."familySituation", u."healthNotes",
       u."psychologicalNotes", u."helperName", u."remarks", 1, $2::uuid, $3::text, now()
     FROM jsonb_to_recordset($1::jsonb) AS u("id" uuid, "idNumber" text, "name" text, "sex" text, "birthDate" date, "ethnicity" text,
       "villageCode" text, "townshipCode" text, "countyCode" text, "address" text, "schoolId" text, "grade" text, "className" text,
       "leftBehindType" text, "difficultyCategories" text[], "riskLevel" text, "familySituation" text, "healthNotes" text,
       "psychologicalNotes" text, "helperName" text, "remarks" text)`,
    JSON.stringify(fresh.map(({ guardians: _g, parents: _p, ...c }) => c)),
    batchId,
    actor.id,
  );
  const guardians = fresh.flatMap((c) => c.guardians.map((g, position) => ({ childId: c.id, position, ...g })));
  if (guardians.length) {
    await tx.$executeRawUnsafe(
      `INSERT INTO guardians (id, child_id, position, name, relation, phone, age, health)
       SELECT gen_random_uuid(), u."childId", u."position", u."name", u."relation", u."phone", u."age", u."health"
       FROM jsonb_to_recordset($1::jsonb) AS u("childId" uuid, "position" int, "name" text, "relation" text, "phone" text, "age" int, "health" text)`,
      JSON.stringify(guardians),
    );
  }
  const parents = fresh.flatMap((c) => c.parents.map((p) => ({ childId: c.id, ...p })));
  if (parents.length) {
    await tx.$executeRawUnsafe(
      `INSERT INTO parents (id, child_id, role, name, phone, work_province, work_city, employer, away_since)
       SELECT gen_random_uuid(), u."childId", u."role", u."name", u."phone", u."workProvince", u."workCity", u."employer", u."awaySince"
       FROM jsonb_to_recordset($1::jsonb) AS u("childId" uuid, "role" text, "name" text, "phone" text, "workProvince" text,
         "workCity" text, "employer" text, "awaySince" text)`,
      JSON.stringify(parents),
    );
  }
  await tx.$executeRawUnsafe(
    `INSERT INTO child_history (child_id, revision, action, actor_id, actor_name, actor_role, reason, changes)
     SELECT (h->>'childId')::uuid, 1, 'imported', $2::text, $3::text, $4::text, $5::text, h->'changes'
     FROM jsonb_array_elements($1::jsonb) AS h`,
    JSON.stringify(fresh.map((c) => ({ childId: c.id, changes: diffFields({}, pickEditable(c)) }))),
    actor.id,
    actor.name ?? null,
    actor.role ?? null,
    `批量导入 ${batchId}`,
  );
}

/**
 * Stores one parsed batch in one transaction: new children with history and
 * `child.registered`, rejected rows with reasons, progress. Re-running a batch
 * after a crash is safe: rows this import already stored are recognised by
 * their import batch id, rejections are keyed by (sheet, row).
 */
async function storeRows(prisma: PrismaClient, batchId: string, orgUnit: string, rows: ParsedRow[], actor: Actor, schoolNames: Map<string, string>): Promise<void> {
  const candidates = rows.filter((r): r is Extract<ParsedRow, { ok: true }> => r.ok);
  const rejections: { sheet: string; rowNumber: number; name: string | null; idNumber: string | null; reasons: string[]; existingChildId: string | null }[] = rows
    .filter((r): r is Extract<ParsedRow, { ok: false }> => !r.ok)
    .map((r) => ({ sheet: r.sheet, rowNumber: r.rowNumber, name: r.name ?? null, idNumber: r.idNumber ?? null, reasons: r.reasons, existingChildId: null }));

  await prisma.$transaction(
    async (tx) => {
      const existing = candidates.length
        ? await tx.child.findMany({ where: { idNumber: { in: candidates.map((c) => c.child.idNumber) } }, select: { id: true, idNumber: true, name: true, importBatchId: true } })
        : [];
      const byIdNumber = new Map(existing.map((e) => [e.idNumber, e]));
      const now = new Date();
      const fresh: ChildRecord[] = [];
      for (const row of candidates) {
        const { child } = row;
        if (!child.villageCode.startsWith(orgUnit)) {
          rejections.push({ sheet: row.sheet, rowNumber: row.rowNumber, name: child.name, idNumber: child.idNumber, reasons: [`户籍地址不在您的管辖范围（${orgUnit}）内`], existingChildId: null });
          continue;
        }
        const found = byIdNumber.get(child.idNumber);
        if (found?.importBatchId === batchId) continue; // stored by an earlier attempt of this import
        if (found) {
          rejections.push({
            sheet: row.sheet,
            rowNumber: row.rowNumber,
            name: child.name,
            idNumber: child.idNumber,
            reasons: [`身份证号已建档：${found.name}（档案 ${found.id}），未重复导入`],
            existingChildId: found.id,
          });
          continue;
        }
        fresh.push(recordFromInput(uuidv7(), child, child.schoolId ? schoolNames.get(child.schoolId) ?? null : null, now));
      }
      if (fresh.length) await insertChildren(tx, fresh, batchId, actor);
      if (fresh.length) {
        await appendToOutbox(tx, fresh.map((c) => eventFor("child.registered", c, actor, { child: toSnapshot(c) })));
      }
      if (rejections.length) {
        await tx.importRejection.createMany({ data: rejections.map((r) => ({ batchId, ...r })), skipDuplicates: true });
      }
      await tx.importBatch.update({ where: { id: batchId }, data: { processedRows: { increment: rows.length } } });
    },
    { timeout: 60_000, maxWait: 10_000 },
  );
}

/** Runs one queued import to completion. Returns the final counts. */
export async function runImport(deps: ImportDeps, batchId: string) {
  const { prisma } = deps;
  const batch = await prisma.importBatch.findUnique({ where: { id: batchId }, include: { file: true } });
  if (!batch) throw new Error(`import batch ${batchId} not found`);
  if (batch.status === "completed") return batch;
  if (!batch.file) throw new Error(`import batch ${batchId} has no file`);
  await prisma.importBatch.update({ where: { id: batchId }, data: { status: "running", startedAt: new Date(), processedRows: 0, error: null } });

  const actor: Actor = { kind: "user", id: batch.createdBy, name: batch.createdByName ?? undefined, role: "import" };
  const resolvers = await loadResolvers(prisma, batch.orgUnit);
  const schoolNames = new Map((await prisma.school.findMany({ select: { id: true, name: true } })).map((s) => [s.id, s.name]));
  // Parsing (this process) and storing (PostgreSQL) overlap: the parser goes on
  // with the next batch while the previous one commits; batches still commit in order.
  let storing: Promise<void> = Promise.resolve();
  const parsing = deps.parse(Buffer.from(batch.file.content), {
    ...resolvers,
    today: deps.today(),
    batchSize: deps.batchSize ?? 1000,
    onBatch: async (rows) => {
      await storing;
      storing = storeRows(prisma, batchId, batch.orgUnit, rows, actor, schoolNames);
      storing.catch(() => undefined); // surfaced by the await below or before the next batch
    },
  });
  // Whatever happens to the parse, the batch in flight finishes (or fails) before we report.
  const [parsed] = await Promise.allSettled([parsing, storing]);
  await storing;
  if (parsed.status === "rejected") throw parsed.reason;
  const { totalRows } = parsed.value;

  // Counts from what is stored, so a resumed import reports the same numbers.
  const [acceptedRows, rejectedRows] = await Promise.all([
    prisma.child.count({ where: { importBatchId: batchId } }),
    prisma.importRejection.count({ where: { batchId } }),
  ]);
  return prisma.$transaction(async (tx) => {
    await tx.importFile.delete({ where: { batchId } });
    return tx.importBatch.update({
      where: { id: batchId },
      data: { status: "completed", totalRows, processedRows: totalRows, acceptedRows, rejectedRows, finishedAt: new Date() },
    });
  });
}

export { systemActor };
