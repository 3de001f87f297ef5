import type pg from "pg";
import { contains, type FieldChange } from "@shouhu/contracts";
import type { PrismaClient } from "../data/db.js";
import { REGISTERED_ELSEWHERE_MESSAGE, pickEditable } from "../data/children.js";
import { childInclude, toChildRecord } from "../data/child-mapper.js";
import { diffFields } from "../domain/diff.js";
import { parseRegisterWorkbook } from "../spreadsheet/register-import.js";
import { recordFromInput, type Rejection } from "./import-prepare.js";
import { resolversFrom } from "./import-resolvers.js";
import { loadResolverData, schoolNames, startBatch } from "./batch-start.js";
import type { ParseRegister } from "./import-register.js";

/** A staged row of a re-import preview, as written to `reimport_rows`. */
interface StagedRow {
  kind: "new" | "changed" | "unchanged";
  idNumber: string;
  name: string;
  childId: string | null;
  sheet: string;
  rowNumber: number;
  baseRevision: number | null;
  changes: FieldChange[];
  input: unknown;
}

export interface ReimportDeps {
  prisma: PrismaClient;
  pool: pg.Pool;
  parse?: ParseRegister;
  today: () => string;
  batchSize?: number;
}

/**
 * A register uploaded again (mode "update"): nothing about any child changes here. Each
 * parsed batch of rows is matched by ID number against the children on file in ONE query,
 * diffed field by field in memory, and staged in ONE insert; the children of the upload's
 * org unit that the file does not hold are staged as "missing" by one INSERT … SELECT at the
 * end. The batch then waits in status "preview" for a supervisor to confirm rows.
 */
export async function runReimportPreview(deps: ReimportDeps, batchId: string) {
  const { prisma } = deps;
  const started = await startBatch(prisma, batchId, ["preview", "completed"]);
  if (started.done) return started.batch;
  const { batch, file } = started;
  // A retried job starts its staging again from nothing.
  await prisma.reimportRow.deleteMany({ where: { batchId } });
  await prisma.importRejection.deleteMany({ where: { batchId } });

  const orgUnit = batch.orgUnit;
  const names = await schoolNames(prisma);
  const resolvers = resolversFrom(await loadResolverData(prisma, orgUnit));
  const parse = deps.parse ?? parseRegisterWorkbook;
  const now = new Date().toISOString();

  const { totalRows } = await parse(file, {
    ...resolvers,
    today: deps.today(),
    batchSize: deps.batchSize ?? 1000,
    onBatch: async (rows) => {
      const rejections: Rejection[] = [];
      const candidates: { sheet: string; rowNumber: number; child: (typeof rows)[number] & { ok: true } }[] = [];
      for (const row of rows) {
        if (!row.ok) {
          rejections.push({
            sheet: row.sheet,
            rowNumber: row.rowNumber,
            name: row.name ?? null,
            idNumber: row.idNumber ?? null,
            reasons: row.reasons,
            existingChildId: null,
          });
        } else if (!contains(orgUnit, row.child.villageCode)) {
          rejections.push({
            sheet: row.sheet,
            rowNumber: row.rowNumber,
            name: row.child.name,
            idNumber: row.child.idNumber,
            reasons: [`户籍地址不在您的管辖范围（${orgUnit}）内`],
            existingChildId: null,
          });
        } else candidates.push({ sheet: row.sheet, rowNumber: row.rowNumber, child: row });
      }
      const onFile = candidates.length
        ? await prisma.child.findMany({ where: { idNumber: { in: candidates.map((c) => c.child.child.idNumber) } }, include: childInclude })
        : [];
      const byId = new Map(onFile.map((r) => [r.idNumber, toChildRecord(r)]));
      const staged: StagedRow[] = [];
      for (const { sheet, rowNumber, child: row } of candidates) {
        const input = row.child;
        const before = byId.get(input.idNumber);
        if (!before) {
          staged.push({ kind: "new", idNumber: input.idNumber, name: input.name, childId: null, sheet, rowNumber, baseRevision: null, changes: [], input });
          continue;
        }
        if (!contains(orgUnit, before.villageCode)) {
          // As at registration: nothing about a record outside the jurisdiction is told.
          rejections.push({ sheet, rowNumber, name: input.name, idNumber: input.idNumber, reasons: [REGISTERED_ELSEWHERE_MESSAGE], existingChildId: null });
          continue;
        }
        const after = recordFromInput(before.id, input, input.schoolId ? (names[input.schoolId] ?? null) : null, now);
        const changes = diffFields(pickEditable(before), pickEditable(after));
        // The new values as the record holds them (defaults applied), so a confirm sets exactly what the preview showed.
        const patch = Object.fromEntries(changes.map((c) => [c.field, c.after]));
        staged.push({
          kind: changes.length ? "changed" : "unchanged",
          idNumber: input.idNumber,
          name: input.name,
          childId: before.id,
          sheet,
          rowNumber,
          baseRevision: before.revision,
          changes,
          input: changes.length ? patch : null,
        });
      }
      await prisma.$transaction([
        prisma.$executeRawUnsafe(
          `INSERT INTO reimport_rows (batch_id, kind, status, id_number, name, child_id, sheet, row_number, base_revision, changes, input)
           SELECT $1::uuid, r.kind, CASE WHEN r.kind = 'unchanged' THEN 'applied' ELSE 'pending' END, r."idNumber", r.name, r."childId",
                  r.sheet, r."rowNumber", r."baseRevision", r.changes, r.input
           FROM jsonb_to_recordset($2::jsonb) AS r(kind text, "idNumber" text, name text, "childId" uuid, sheet text, "rowNumber" int,
                                                     "baseRevision" int, changes jsonb, input jsonb)
           ON CONFLICT (batch_id, id_number) DO NOTHING`,
          batchId,
          JSON.stringify(staged),
        ),
        prisma.$executeRawUnsafe(
          `INSERT INTO import_rejections (batch_id, sheet, row_number, name, id_number, reasons, existing_child_id)
           SELECT $1::uuid, r."sheet", r."rowNumber", r."name", r."idNumber", r."reasons", r."existingChildId"
           FROM jsonb_to_recordset($2::jsonb) AS r("sheet" text, "rowNumber" int, "name" text, "idNumber" text, "reasons" text[], "existingChildId" uuid)
           ON CONFLICT (batch_id, sheet, row_number) DO NOTHING`,
          batchId,
          JSON.stringify(rejections),
        ),
        prisma.$executeRawUnsafe("UPDATE import_batches SET processed_rows = processed_rows + $2 WHERE id = $1::uuid", batchId, rows.length),
      ]);
    },
  });

  // Children on file in the upload's org unit that the register no longer holds: one statement.
  await prisma.$executeRawUnsafe(
    `INSERT INTO reimport_rows (batch_id, kind, status, id_number, name, child_id, base_revision)
     SELECT $1::uuid, 'missing', 'pending', c.id_number, c.name, c.id, c.revision
     FROM children c
     WHERE c.village_code LIKE $2 || '%' AND c.status = 'active'
       AND NOT EXISTS (SELECT 1 FROM reimport_rows r WHERE r.batch_id = $1::uuid AND r.id_number = c.id_number)
     ORDER BY c.village_code, c.id
     ON CONFLICT (batch_id, id_number) DO NOTHING`,
    batchId,
    orgUnit,
  );
  const [acceptedRows, rejectedRows] = await Promise.all([
    prisma.reimportRow.count({ where: { batchId, kind: { not: "missing" } } }),
    prisma.importRejection.count({ where: { batchId } }),
  ]);
  return prisma.$transaction(async (tx) => {
    await tx.importFile.delete({ where: { batchId } });
    return tx.importBatch.update({
      where: { id: batchId },
      data: { status: "preview", totalRows, processedRows: totalRows, acceptedRows, rejectedRows, finishedAt: new Date() },
    });
  });
}
