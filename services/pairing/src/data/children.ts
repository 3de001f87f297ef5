import type { Actor, ChildSnapshot, PairingKind } from "@shouhu/contracts";
import { upsertChildren, type ChildProjection, type SqlTx } from "@shouhu/messaging";
import { endOpenPairings } from "./pairings.js";
import { lockTownshipsForChange, requestMatchingIn } from "./match-requests.js";
import { applyRegisterHelpers } from "./register-match.js";

interface ChildRow {
  id: string;
  townshipCode: string;
  schoolId: string | null;
  status: string;
  revision: number;
  registerHelperName: string | null;
}

/** A registry snapshot as a child event brought it, with who acted and the consumer's day. */
export interface ChildChange {
  child: ChildSnapshot;
  actor: Actor;
  today: string;
}

/** The children this service holds: whom to match, with what (school, risk, category). */
const children: ChildProjection<ChildChange> = {
  table: "children",
  child: (c) => c.child,
  columns: {
    name: { type: "text", value: (c) => c.child.name },
    sex: { type: "text", value: (c) => c.child.sex },
    birth_date: { type: "date", value: (c) => c.child.birthDate },
    village_code: { type: "text", value: (c) => c.child.villageCode },
    township_code: { type: "text", value: (c) => c.child.townshipCode },
    school_id: { type: "text", value: (c) => c.child.schoolId },
    school_name: { type: "text", value: (c) => c.child.schoolName },
    left_behind_type: { type: "text", value: (c) => c.child.leftBehindType },
    difficulty_categories: { type: "text[]", value: (c) => c.child.difficultyCategories },
    risk_level: { type: "text", value: (c) => c.child.riskLevel },
    status: { type: "text", value: (c) => c.child.status },
    updated_at: { type: "timestamptz", value: () => new Date() },
  },
};

const SELECT = `SELECT id::text, township_code AS "townshipCode", school_id AS "schoolId", status, revision,
  register_helper_name AS "registerHelperName" FROM children WHERE id = ANY($1::uuid[]) ORDER BY id`;
const key = (c: ChildChange) => c.child.id.toLowerCase();

/**
 * Applies registry snapshots to the local projection and to the children's
 * pairings. Older revisions are ignored, so redelivered or reordered events
 * converge on the newest state.
 *
 * - exited: open pairings end (active ones publish pairing.ended), proposals are withdrawn;
 * - moved to another township: everything open ends, the new township is matched;
 * - changed school: the peer buddy and a teacher mentor of the old school end;
 * - the register's 帮扶责任人, new or changed: matched to a helper and paired, or kept with why not
 *   (register-match.ts);
 * - an active child missing a pairing: its township is queued for matching.
 *
 * Many children at once (a consumer batch's child events): rows read and locked by one
 * query each, written by one upsert, the pairing checks by one query and the matching
 * requests by one statement; only the rarer ends run per child. At most one change per
 * child (the batch passes them in rounds).
 */
export async function applyChildSnapshots(tx: SqlTx, changes: readonly ChildChange[]): Promise<void> {
  if (changes.length === 0) return;
  const rows = async (sql: string, list: readonly ChildChange[]) =>
    new Map(
      (
        await tx.$queryRawUnsafe<ChildRow[]>(
          sql,
          list.map((c) => c.child.id),
        )
      ).map((r) => [r.id, r]),
    );
  const newer = (held: Map<string, ChildRow>) => (c: ChildChange) => (held.get(key(c))?.revision ?? -1) < c.child.revision;
  // The township locks come before the children's rows (see match-requests.ts): read where each child was, lock both townships, then the rows.
  const seen = await rows(SELECT, changes);
  let fresh = changes.filter(newer(seen));
  if (fresh.length === 0) return;
  await lockTownshipsForChange(
    tx,
    fresh.flatMap((c) => [c.child.townshipCode, ...(seen.has(key(c)) ? [seen.get(key(c))!.townshipCode] : [])]),
  );
  const previous = await rows(`${SELECT} FOR NO KEY UPDATE`, fresh);
  fresh = fresh.filter(newer(previous));
  if (fresh.length === 0) return;
  for (const c of fresh) {
    const [was, is] = [seen.get(key(c)), previous.get(key(c))];
    // Another event moved the child meanwhile: its township is not locked; the consumer retries.
    if (was && is && was.townshipCode !== is.townshipCode) throw new Error(`child ${c.child.id} moved while being updated; retry`);
  }

  await upsertChildren(tx, children, fresh);

  const end = (c: ChildChange, kinds: PairingKind[], reason: "child_exited" | "child_moved", onlyTeacherOfSchool?: string) =>
    endOpenPairings(tx, { childId: c.child.id, kinds, reason, actor: c.actor, today: c.today, onlyTeacherOfSchool });

  const exited = fresh.filter((c) => c.child.status === "exited");
  for (const c of exited) await end(c, ["mentor", "peer"], "child_exited");
  if (exited.length) {
    await tx.$executeRawUnsafe(
      `UPDATE children SET mentor_match_note = NULL, peer_match_note = NULL WHERE id = ANY($1::uuid[])`,
      exited.map((c) => c.child.id),
    );
  }
  const staying = fresh.filter((c) => c.child.status !== "exited");
  for (const c of staying) {
    const before = previous.get(key(c));
    if (before && before.townshipCode !== c.child.townshipCode) {
      await end(c, ["mentor", "peer"], "child_moved");
    } else if (before && before.schoolId !== c.child.schoolId) {
      await end(c, ["peer"], "child_moved");
      if (before.schoolId) await end(c, ["mentor"], "child_moved", before.schoolId);
    }
  }
  if (staying.length === 0) return;
  await applyRegisterHelpers(tx, staying, new Map([...previous].map(([id, row]) => [id, row.registerHelperName])));

  const needing = await tx.$queryRawUnsafe<{ id: string }[]>(
    `SELECT x.id::text FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, school_id text)
      WHERE NOT EXISTS (SELECT 1 FROM pairings WHERE child_id = x.id AND kind = 'mentor' AND role = 'primary' AND status IN ('proposed', 'active'))
         OR (x.school_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pairings WHERE child_id = x.id AND kind = 'peer' AND status IN ('proposed', 'active')))`,
    JSON.stringify(staying.map((c) => ({ id: c.child.id, school_id: c.child.schoolId }))),
  );
  // Any change to an unpaired child (risk, village, school) can change the best answer.
  const needs = new Set(needing.map((r) => r.id));
  await requestMatchingIn(
    tx,
    staying.filter((c) => needs.has(key(c))).map((c) => c.child.townshipCode),
    "child",
  );
}
