import type { Actor } from "@shouhu/contracts";
import { AppError, ConflictError } from "@shouhu/kit";
import type { ChildInput, ChildPatch } from "../domain/child.js";
import type { PrismaClient, Tx } from "./db.js";
import { DuplicateChildError, createChildInTx, updateChildInTx } from "./children.js";

export type ReimportKind = "new" | "changed" | "unchanged" | "missing";

export interface ReimportRowView {
  id: string;
  kind: string;
  status: string;
  idNumber: string;
  name: string;
  childId: string | null;
  sheet: string | null;
  rowNumber: number | null;
  baseRevision: number | null;
  changes: unknown;
}

/** Counts of a preview by kind and status. */
export async function previewCounts(prisma: PrismaClient, batchId: string) {
  const rows = await prisma.$queryRawUnsafe<{ kind: string; status: string; n: number }[]>(
    "SELECT kind, status, count(*)::int AS n FROM reimport_rows WHERE batch_id = $1::uuid GROUP BY kind, status",
    batchId,
  );
  const counts = { new: 0, changed: 0, unchanged: 0, missing: 0, pending: 0, queued: 0, applied: 0, flagged: 0, failed: 0 };
  for (const r of rows) {
    counts[r.kind as ReimportKind] += r.n;
    if (r.kind !== "unchanged") counts[r.status as "pending" | "queued" | "applied" | "flagged" | "failed"] += r.n;
  }
  return counts;
}

/** A page of a preview, one kind or all but the unchanged (and one status: the failed rows), in file order (missing children last). */
export async function previewPage(
  prisma: PrismaClient,
  batchId: string,
  kind: ReimportKind | null,
  status: string | null,
  cursor: string | undefined,
  limit: number,
) {
  const rows = await prisma.reimportRow.findMany({
    where: { batchId, ...(kind ? { kind } : { kind: { not: "unchanged" } }), ...(status ? { status } : {}), ...(cursor ? { id: { gt: BigInt(cursor) } } : {}) },
    orderBy: { id: "asc" },
    take: limit + 1,
  });
  return rows.map((r) => ({ ...r, id: String(r.id) }));
}

export const MISSING_REASON = "重新导入的登记表中没有该儿童，待核实（未删除）";

/**
 * Asks for rows of a preview to be confirmed (the confirm job applies them). Before anything
 * changes, every requested row is checked: one already decided (a second confirm) or whose
 * child changed since the preview (a stale preview) refuses the whole request with a 409
 * naming the rows. Then, in one transaction, the rows go `pending` → `queued` and the batch
 * `preview` → `confirming` with its progress reset, the actor kept for the job and the
 * confirm's sequence number (its job id) raised. A confirm racing another loses with a 409.
 */
export async function queueConfirm(prisma: PrismaClient, batchId: string, rowIds: string[] | null, actor: Actor) {
  const requested = await prisma.$queryRawUnsafe<
    { id: bigint; status: string; kind: string; name: string; child_id: string | null; current: number | null; base_revision: number | null }[]
  >(
    `SELECT r.id, r.status, r.kind, r.name, r.child_id, r.base_revision, c.revision AS current
     FROM reimport_rows r LEFT JOIN children c ON c.id = r.child_id
     WHERE r.batch_id = $1::uuid AND r.kind <> 'unchanged' AND ($2::bigint[] IS NULL OR r.id = ANY($2::bigint[]))
       AND ($2::bigint[] IS NOT NULL OR r.status = 'pending')
     ORDER BY r.id`,
    batchId,
    rowIds,
  );
  if (rowIds) {
    const found = new Set(requested.map((r) => String(r.id)));
    const unknown = rowIds.filter((id) => !found.has(id));
    if (unknown.length) throw new ConflictError("ROW_NOT_IN_PREVIEW", `预览中没有这些行：${unknown.join("、")}`, { field: "rows", rows: unknown });
    const decided = requested.filter((r) => r.status !== "pending");
    if (decided.length) {
      throw new ConflictError("ALREADY_CONFIRMED", `已确认过的行不能再次确认：${decided.map((r) => r.name).join("、")}`, {
        field: "rows",
        rows: decided.map((r) => String(r.id)),
      });
    }
  }
  if (requested.length === 0) throw new ConflictError("ALREADY_CONFIRMED", "该预览已全部确认，没有待确认的行", { field: "rows" });
  const stale = requested.filter((r) => r.kind !== "new" && r.current !== r.base_revision);
  if (stale.length) {
    throw new ConflictError("PREVIEW_STALE", `以下儿童的档案在预览之后已被修改，请重新上传登记表后再确认：${stale.map((r) => r.name).join("、")}`, {
      field: "rows",
      rows: stale.map((r) => String(r.id)),
    });
  }
  const ids = requested.map((r) => r.id);
  const batch = await prisma.$transaction(async (tx) => {
    const queued = await tx.$executeRawUnsafe(
      `UPDATE reimport_rows SET status = 'queued', decided_by = $3, error = NULL WHERE batch_id = $1::uuid AND id = ANY($2::bigint[]) AND status = 'pending'`,
      batchId,
      ids,
      actor.id,
    );
    if (queued !== ids.length) throw new ConflictError("ALREADY_CONFIRMED", "部分行已由他人确认，请刷新预览后再确认", { field: "rows" });
    const [b] = await tx.$queryRawUnsafe<{ confirmSeq: number }[]>(
      `UPDATE import_batches SET status = 'confirming', confirm_total = $2, confirm_done = 0, confirm_seq = confirm_seq + 1, confirm_actor = $3::jsonb, error = NULL
       WHERE id = $1::uuid AND status = 'preview' RETURNING confirm_seq AS "confirmSeq"`,
      batchId,
      ids.length,
      JSON.stringify(actor),
    );
    if (!b) throw new ConflictError("CONFIRM_RUNNING", "上一次确认仍在进行中，请稍后再确认", { field: "id" });
    return b;
  });
  return { queued: ids.length, confirmSeq: batch.confirmSeq, childIds: requested.flatMap((r) => (r.child_id ? [r.child_id] : [])) };
}

/** How many queued rows the confirm job applies per transaction (each row in its own savepoint). */
export const CONFIRM_CHUNK = 50;

/**
 * Applies the queued rows of a confirm, a chunk per transaction: each row is claimed
 * (`queued` → `applied`/`flagged`) in the transaction that applies it, and the batch's
 * progress is counted in the same transaction, so a crash loses nothing and applies
 * nothing twice — a retried job takes the rows still queued. A row its own check refuses
 * (the child changed since the preview, its ID number registered meanwhile, a village
 * retired) is rolled back to its savepoint and marked `failed` with the reason in zh-CN;
 * the others still apply. Any other error (the database gone) fails the chunk, and the
 * job is retried. At the end the batch is back to `preview` (rows left pending may still be confirmed).
 */
export async function applyQueuedRows(prisma: PrismaClient, batchId: string, chunk = CONFIRM_CHUNK) {
  const batch = await prisma.importBatch.findUnique({ where: { id: batchId }, select: { status: true, confirmActor: true } });
  if (!batch) throw new Error(`import batch ${batchId} not found`);
  if (batch.status !== "confirming") return { applied: 0, failed: 0 };
  const actor = batch.confirmActor as unknown as Actor;
  let applied = 0;
  let failed = 0;
  for (;;) {
    const rows = await prisma.$queryRawUnsafe<{ id: bigint }[]>(
      "SELECT id FROM reimport_rows WHERE batch_id = $1::uuid AND status = 'queued' ORDER BY id LIMIT $2",
      batchId,
      chunk,
    );
    if (rows.length === 0) break;
    const done = await prisma.$transaction(
      async (tx) => {
        const n = { applied: 0, failed: 0 };
        for (const { id } of rows) {
          await tx.$executeRawUnsafe("SAVEPOINT reimport_row");
          try {
            if (await applyRow(tx, id, actor, batchId)) n.applied++;
            await tx.$executeRawUnsafe("RELEASE SAVEPOINT reimport_row");
          } catch (err) {
            const reason = rowFailure(err);
            if (reason === null) throw err;
            await tx.$executeRawUnsafe("ROLLBACK TO SAVEPOINT reimport_row");
            await tx.$executeRawUnsafe(
              "UPDATE reimport_rows SET status = 'failed', error = $2, decided_at = now() WHERE id = $1 AND status = 'queued'",
              id,
              reason,
            );
            n.failed++;
          }
        }
        await tx.$executeRawUnsafe("UPDATE import_batches SET confirm_done = confirm_done + $2 WHERE id = $1::uuid", batchId, rows.length);
        return n;
      },
      { timeout: 120_000 },
    );
    applied += done.applied;
    failed += done.failed;
  }
  await prisma.$executeRawUnsafe("UPDATE import_batches SET status = 'preview' WHERE id = $1::uuid AND status = 'confirming'", batchId);
  return { applied, failed };
}

/** A confirm that failed for good: its rows not yet applied are pending again, the batch back in preview with the reason. */
export async function abandonConfirm(prisma: PrismaClient, batchId: string, message: string) {
  await prisma.$transaction([
    prisma.$executeRawUnsafe("UPDATE reimport_rows SET status = 'pending', decided_by = NULL WHERE batch_id = $1::uuid AND status = 'queued'", batchId),
    prisma.$executeRawUnsafe(
      "UPDATE import_batches SET status = 'preview', error = $2 WHERE id = $1::uuid AND status = 'confirming'",
      batchId,
      `确认中断：${message}；未处理的行已恢复为待确认，可再次确认`,
    ),
  ]);
}

/** The zh-CN reason a row's own check refused it with, or null for a fault that is not the row's (retry the chunk). */
function rowFailure(err: unknown): string | null {
  if (err instanceof DuplicateChildError) return "该身份证号在预览之后已有档案，请重新上传登记表后再确认";
  if (err instanceof AppError && err.statusCode >= 400 && err.statusCode < 500) return err.message;
  if (typeof err === "object" && err !== null && (err as { code?: string }).code === "P2002") return "该身份证号在预览之后已有档案，请重新上传登记表后再确认";
  return null;
}

/** Applies one queued row within the chunk's transaction; the child it changed, or null when the row was no longer queued. */
async function applyRow(tx: Tx, id: bigint, actor: Actor, batchId: string): Promise<string | null> {
  const [row] = await tx.$queryRawUnsafe<{ kind: string; name: string; child_id: string | null; base_revision: number | null; input: unknown }[]>(
    `UPDATE reimport_rows SET status = CASE WHEN kind = 'missing' THEN 'flagged' ELSE 'applied' END, decided_at = now()
     WHERE id = $1 AND status = 'queued' RETURNING kind, name, child_id, base_revision, input`,
    id,
  );
  if (!row) return null;
  const reason = `登记表重新导入 ${batchId}`;
  const stale = () =>
    new ConflictError("PREVIEW_STALE", `${row.name}的档案在预览之后已被修改，请重新上传登记表后再确认`, { field: "rows", rows: [String(id)] });
  if (row.kind === "new") {
    const child = await createChildInTx(tx, row.input as ChildInput, actor, "imported", reason);
    await tx.reimportRow.update({ where: { id }, data: { childId: child.id } });
    return child.id;
  }
  if (row.kind === "changed") {
    try {
      await updateChildInTx(tx, row.child_id!, row.input as ChildPatch, actor, row.base_revision!, "reimported", reason);
    } catch (err) {
      if (err instanceof ConflictError && err.code === "STALE_REVISION") throw stale();
      throw err;
    }
    return row.child_id;
  }
  // missing: flagged for review in the history, never deleted or changed.
  const [child] = await tx.$queryRawUnsafe<{ revision: number }[]>("SELECT revision FROM children WHERE id = $1::uuid FOR UPDATE", row.child_id);
  if (!child || child.revision !== row.base_revision) throw stale();
  await tx.$executeRawUnsafe("UPDATE children SET revision = revision + 1, updated_at = now() WHERE id = $1::uuid", row.child_id);
  await tx.childHistory.create({
    data: {
      childId: row.child_id!,
      revision: child.revision + 1,
      action: "review-flagged",
      actorId: actor.id,
      actorName: actor.name ?? null,
      actorRole: actor.role ?? null,
      reason: `${MISSING_REASON}（${reason}）`,
      changes: [],
    },
  });
  return row.child_id;
}
