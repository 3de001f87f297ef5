import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import copyStreams from "pg-copy-streams";
import { v7 as uuidv7 } from "uuid";
import type { Actor } from "@shouhu/contracts";
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
  /** Batches are stored with COPY on a plain pg connection (Prisma cannot COPY). */
  pool: pg.Pool;
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

const copySpecial = /[\\\t\n\r]/;

/** A value in PostgreSQL's COPY text format. */
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return "\\N";
  const text = typeof v === "string" ? v : String(v);
  if (!copySpecial.test(text)) return text;
  return text.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r");
}

async function copyRows(client: pg.PoolClient, table: string, columns: string[], rows: unknown[][]): Promise<void> {
  if (rows.length === 0) return;
  const body = rows.map((r) => r.map(copyValue).join("\t")).join("\n") + "\n";
  await pipeline(Readable.from([body]), client.query(copyStreams.from(`COPY ${table} (${columns.join(", ")}) FROM STDIN`)));
}

/**
 * The new children of a batch with guardians, parents and their first history
 * entry, written with COPY: an INSERT per row, or even one INSERT per table,
 * costs several times what the rows do (bench/RESULTS.md).
 */
async function copyChildren(client: pg.PoolClient, fresh: ChildRecord[], batchId: string, actor: Actor, now: string): Promise<void> {
  await copyRows(
    client,
    "children",
    ["id", "id_number", "name", "sex", "birth_date", "ethnicity", "village_code", "township_code", "county_code", "address", "school_id", "grade",
      "class_name", "left_behind_type", "difficulty_categories", "risk_level", "family_situation", "health_notes", "psychological_notes",
      "helper_name", "remarks", "revision", "import_batch_id", "created_by", "created_at", "updated_at"],
    fresh.map((c) => [c.id, c.idNumber, c.name, c.sex, c.birthDate, c.ethnicity, c.villageCode, c.townshipCode, c.countyCode, c.address, c.schoolId,
      c.grade, c.className, c.leftBehindType, `{${c.difficultyCategories.join(",")}}`, c.riskLevel, c.familySituation, c.healthNotes,
      c.psychologicalNotes, c.helperName, c.remarks, 1, batchId, actor.id, now, now]),
  );
  await copyRows(
    client,
    "guardians",
    ["id", "child_id", "position", "name", "relation", "phone", "age", "health"],
    fresh.flatMap((c) => c.guardians.map((g, i) => [randomUUID(), c.id, i, g.name, g.relation, g.phone, g.age, g.health])),
  );
  await copyRows(
    client,
    "parents",
    ["id", "child_id", "role", "name", "phone", "work_province", "work_city", "employer", "away_since"],
    fresh.flatMap((c) => c.parents.map((p) => [randomUUID(), c.id, p.role, p.name, p.phone, p.workProvince, p.workCity, p.employer, p.awaySince])),
  );
  await copyRows(
    client,
    "child_history",
    ["child_id", "revision", "action", "actor_id", "actor_name", "actor_role", "reason", "changes", "at"],
    fresh.map((c) => [c.id, 1, "imported", actor.id, actor.name ?? null, actor.role ?? null, `批量导入 ${batchId}`, JSON.stringify(diffFields({}, pickEditable(c))), now]),
  );
}

/** A pg connection dressed as the transaction client `appendToOutbox` expects. */
function sqlTx(client: pg.PoolClient) {
  return {
    $executeRawUnsafe: async (q: string, ...v: unknown[]) => (await client.query(q, v)).rowCount ?? 0,
    $queryRawUnsafe: async <T>(q: string, ...v: unknown[]) => (await client.query(q, v)).rows as T,
  };
}

type Rejection = { sheet: string; rowNumber: number; name: string | null; idNumber: string | null; reasons: string[]; existingChildId: string | null };

/**
 * Stores one parsed batch in one transaction: new children with history and
 * `child.registered`, rejected rows with reasons, progress. Re-running a batch
 * after a crash is safe: rows this import already stored are recognised by
 * their import batch id, rejections are keyed by (sheet, row).
 */
async function storeRows(pool: pg.Pool, batchId: string, orgUnit: string, rows: ParsedRow[], actor: Actor, schoolNames: Map<string, string>): Promise<void> {
  const candidates = rows.filter((r): r is Extract<ParsedRow, { ok: true }> => r.ok);
  const rejections: Rejection[] = rows
    .filter((r): r is Extract<ParsedRow, { ok: false }> => !r.ok)
    .map((r) => ({ sheet: r.sheet, rowNumber: r.rowNumber, name: r.name ?? null, idNumber: r.idNumber ?? null, reasons: r.reasons, existingChildId: null }));
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const existing = candidates.length
      ? (await client.query<{ id: string; id_number: string; name: string; import_batch_id: string | null }>(
          "SELECT id, id_number, name, import_batch_id FROM children WHERE id_number = ANY($1::text[])",
          [candidates.map((c) => c.child.idNumber)],
        )).rows
      : [];
    const byIdNumber = new Map(existing.map((e) => [e.id_number, e]));
    const now = new Date();
    const fresh: ChildRecord[] = [];
    for (const row of candidates) {
      const { child } = row;
      if (!child.villageCode.startsWith(orgUnit)) {
        rejections.push({ sheet: row.sheet, rowNumber: row.rowNumber, name: child.name, idNumber: child.idNumber, reasons: [`户籍地址不在您的管辖范围（${orgUnit}）内`], existingChildId: null });
        continue;
      }
      const found = byIdNumber.get(child.idNumber);
      if (found?.import_batch_id === batchId) continue; // stored by an earlier attempt of this import
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
    await copyChildren(client, fresh, batchId, actor, now.toISOString());
    await appendToOutbox(sqlTx(client), fresh.map((c) => eventFor("child.registered", c, actor, { child: toSnapshot(c) })));
    if (rejections.length) {
      await client.query(
        `INSERT INTO import_rejections (batch_id, sheet, row_number, name, id_number, reasons, existing_child_id)
         SELECT $1::uuid, r."sheet", r."rowNumber", r."name", r."idNumber", r."reasons", r."existingChildId"
         FROM jsonb_to_recordset($2::jsonb) AS r("sheet" text, "rowNumber" int, "name" text, "idNumber" text, "reasons" text[], "existingChildId" uuid)
         ON CONFLICT (batch_id, sheet, row_number) DO NOTHING`,
        [batchId, JSON.stringify(rejections)],
      );
    }
    await client.query("UPDATE import_batches SET processed_rows = processed_rows + $2 WHERE id = $1", [batchId, rows.length]);
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
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
  // Parsing (this process) and storing (PostgreSQL, on its own connections) overlap:
  // up to three batches are in flight. They hold disjoint children (the parser
  // already refused in-file repeats), and a resumed import recognises its own rows.
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const parsing = deps.parse(Buffer.from(batch.file.content), {
    ...resolvers,
    today: deps.today(),
    batchSize: deps.batchSize ?? 1000,
    onBatch: async (rows) => {
      if (failure) throw failure;
      while (inFlight.size >= 3) await Promise.race(inFlight);
      if (failure) throw failure;
      const store = storeRows(deps.pool, batchId, batch.orgUnit, rows, actor, schoolNames).then(
        () => void inFlight.delete(store),
        (err) => {
          failure ??= err;
          inFlight.delete(store);
        },
      );
      inFlight.add(store);
    },
  });
  // Whatever happens to the parse, batches in flight finish (or fail) before we report.
  const [parsed] = await Promise.allSettled([parsing]);
  await Promise.all(inFlight);
  if (failure) throw failure;
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

