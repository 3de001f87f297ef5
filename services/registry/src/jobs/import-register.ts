import { v7 as uuidv7 } from "uuid";
import { systemActor, type Actor } from "@shouhu/contracts";
import { appendToOutbox } from "@shouhu/messaging";
import type { ChildInput } from "../domain/child.js";
import { type ChildRecord, toSnapshot } from "../domain/child-record.js";
import { diffFields } from "../domain/diff.js";
import { countyOf, townshipOf } from "../domain/org-codes.js";
import { eventFor, pickEditable } from "../data/children.js";
import type { PrismaClient } from "../data/db.js";

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
      if (fresh.length) {
        await tx.child.createMany({
          data: fresh.map((c) => ({
            id: c.id,
            idNumber: c.idNumber,
            name: c.name,
            sex: c.sex,
            birthDate: new Date(`${c.birthDate}T00:00:00Z`),
            ethnicity: c.ethnicity,
            villageCode: c.villageCode,
            townshipCode: c.townshipCode,
            countyCode: c.countyCode,
            address: c.address,
            schoolId: c.schoolId,
            grade: c.grade,
            className: c.className,
            leftBehindType: c.leftBehindType,
            difficultyCategories: c.difficultyCategories,
            riskLevel: c.riskLevel,
            familySituation: c.familySituation,
            healthNotes: c.healthNotes,
            psychologicalNotes: c.psychologicalNotes,
            helperName: c.helperName,
            remarks: c.remarks,
            revision: 1,
            importBatchId: batchId,
            createdBy: actor.id,
          })),
        });
        await tx.guardian.createMany({
          data: fresh.flatMap((c) => c.guardians.map((g, position) => ({ id: uuidv7(), childId: c.id, position, ...g }))),
        });
        await tx.parent.createMany({ data: fresh.flatMap((c) => c.parents.map((p) => ({ id: uuidv7(), childId: c.id, ...p }))) });
        await tx.childHistory.createMany({
          data: fresh.map((c) => ({
            childId: c.id,
            revision: 1,
            action: "imported",
            actorId: actor.id,
            actorName: actor.name ?? null,
            actorRole: actor.role ?? null,
            reason: `批量导入 ${batchId}`,
            changes: diffFields({}, pickEditable(c)) as object,
          })),
        });
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
  const { totalRows } = await deps.parse(Buffer.from(batch.file.content), {
    ...resolvers,
    today: deps.today(),
    batchSize: deps.batchSize ?? 1000,
    onBatch: (rows) => storeRows(prisma, batchId, batch.orgUnit, rows, actor, schoolNames),
  });

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
