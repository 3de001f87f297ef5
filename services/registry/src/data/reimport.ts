import type { Actor } from "@shouhu/contracts";
import { ConflictError } from "@shouhu/kit";
import type { ChildInput, ChildPatch } from "../domain/child.js";
import type { PrismaClient, Tx } from "./db.js";
import { createChildInTx, updateChildInTx } from "./children.js";

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
  const counts = { new: 0, changed: 0, unchanged: 0, missing: 0, pending: 0, applied: 0, flagged: 0 };
  for (const r of rows) {
    counts[r.kind as ReimportKind] += r.n;
    if (r.kind !== "unchanged") counts[r.status as "pending" | "applied" | "flagged"] += r.n;
  }
  return counts;
}

/** A page of a preview, one kind or all but the unchanged, in file order (missing children last). */
export async function previewPage(prisma: PrismaClient, batchId: string, kind: ReimportKind | null, cursor: string | undefined, limit: number) {
  const rows = await prisma.reimportRow.findMany({
    where: { batchId, ...(kind ? { kind } : { kind: { not: "unchanged" } }), ...(cursor ? { id: { gt: BigInt(cursor) } } : {}) },
    orderBy: { id: "asc" },
    take: limit + 1,
  });
  return rows.map((r) => ({ ...r, id: String(r.id) }));
}

export const MISSING_REASON = "重新导入的登记表中没有该儿童，待核实（未删除）";

/**
 * Confirms rows of a preview, each in its own transaction with the row claimed
 * (`pending` → `applied`/`flagged` only if still pending), so two confirms never apply a
 * row twice. Before anything changes, every requested row is checked: one already decided
 * (a second confirm) or whose child changed since the preview (a stale preview) refuses the
 * whole request with a 409 naming the rows. A child changed between that check and its row's
 * transaction is refused the same way by the revision check inside (rows before it stay applied).
 */
export async function confirmRows(prisma: PrismaClient, batchId: string, rowIds: string[] | null, actor: Actor) {
  const requested = await prisma.$queryRawUnsafe<
    { id: bigint; status: string; kind: string; name: string; current: number | null; base_revision: number | null }[]
  >(
    `SELECT r.id, r.status, r.kind, r.name, r.base_revision, c.revision AS current
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
  const applied: string[] = [];
  const childIds: string[] = [];
  for (const { id } of requested) {
    const childId = await prisma.$transaction((tx) => applyRow(tx, id, actor, batchId));
    applied.push(String(id));
    if (childId) childIds.push(childId);
  }
  return { applied, childIds };
}

async function applyRow(tx: Tx, id: bigint, actor: Actor, batchId: string): Promise<string | null> {
  const [row] = await tx.$queryRawUnsafe<{ kind: string; name: string; child_id: string | null; base_revision: number | null; input: unknown }[]>(
    `UPDATE reimport_rows SET status = CASE WHEN kind = 'missing' THEN 'flagged' ELSE 'applied' END, decided_by = $2, decided_at = now()
     WHERE id = $1 AND status = 'pending' RETURNING kind, name, child_id, base_revision, input`,
    id,
    actor.id,
  );
  if (!row) throw new ConflictError("ALREADY_CONFIRMED", "该行已由他人确认，不能再次确认", { field: "rows", rows: [String(id)] });
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
