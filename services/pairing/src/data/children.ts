import type { Actor, ChildSnapshot, PairingKind } from "@shouhu/contracts";
import type { Tx } from "./db.js";
import { endOpenPairings } from "./pairings.js";
import { lockTownshipsForChange, requestMatching } from "./match-requests.js";

interface ChildRow {
  id: string;
  townshipCode: string;
  schoolId: string | null;
  status: string;
  revision: number;
}

/**
 * Applies a registry snapshot to the local projection and to the child's
 * pairings. Older revisions are ignored, so redelivered or reordered events
 * converge on the newest state.
 *
 * - exited: open pairings end (active ones publish pairing.ended), proposals are withdrawn;
 * - moved to another township: everything open ends, the new township is matched;
 * - changed school: the peer buddy and a teacher mentor of the old school end;
 * - an active child missing a pairing: its township is queued for matching.
 */
export async function applyChildSnapshot(tx: Tx, child: ChildSnapshot, actor: Actor, today: string): Promise<"applied" | "stale"> {
  const select = `SELECT id, township_code AS "townshipCode", school_id AS "schoolId", status, revision FROM children WHERE id = $1::uuid`;
  // The township lock comes before the child's row (see match-requests.ts): read where the child was, lock both townships, then the row.
  const [seen] = await tx.$queryRawUnsafe<ChildRow[]>(select, child.id);
  if (seen && seen.revision >= child.revision) return "stale";
  await lockTownshipsForChange(tx, seen ? [seen.townshipCode, child.townshipCode] : [child.townshipCode]);
  const [previous] = await tx.$queryRawUnsafe<ChildRow[]>(`${select} FOR NO KEY UPDATE`, child.id);
  if (previous && previous.revision >= child.revision) return "stale";
  // Another event moved the child meanwhile: its township is not locked; the consumer retries.
  if (previous && seen && previous.townshipCode !== seen.townshipCode) throw new Error(`child ${child.id} moved while being updated; retry`);

  await tx.$executeRawUnsafe(
    `INSERT INTO children (id, name, sex, birth_date, village_code, township_code, school_id, school_name, left_behind_type,
                           difficulty_categories, risk_level, status, revision, updated_at)
     VALUES ($1::uuid, $2, $3, $4::date, $5, $6, $7, $8, $9, $10::text[], $11, $12, $13, now())
     ON CONFLICT (id) DO UPDATE SET
       name = EXCLUDED.name, sex = EXCLUDED.sex, birth_date = EXCLUDED.birth_date, village_code = EXCLUDED.village_code,
       township_code = EXCLUDED.township_code, school_id = EXCLUDED.school_id, school_name = EXCLUDED.school_name,
       left_behind_type = EXCLUDED.left_behind_type, difficulty_categories = EXCLUDED.difficulty_categories,
       risk_level = EXCLUDED.risk_level, status = EXCLUDED.status, revision = EXCLUDED.revision, updated_at = now()`,
    child.id,
    child.name,
    child.sex,
    child.birthDate,
    child.villageCode,
    child.townshipCode,
    child.schoolId,
    child.schoolName,
    child.leftBehindType,
    child.difficultyCategories,
    child.riskLevel,
    child.status,
    child.revision,
  );

  const end = (kinds: PairingKind[], reason: "child_exited" | "child_moved", onlyTeacherOfSchool?: string) =>
    endOpenPairings(tx, { childId: child.id, kinds, reason, actor, today, onlyTeacherOfSchool });

  if (child.status === "exited") {
    await end(["mentor", "peer"], "child_exited");
    await tx.$executeRawUnsafe(`UPDATE children SET mentor_match_note = NULL, peer_match_note = NULL WHERE id = $1::uuid`, child.id);
    return "applied";
  }
  if (previous && previous.townshipCode !== child.townshipCode) {
    await end(["mentor", "peer"], "child_moved");
  } else if (previous && previous.schoolId !== child.schoolId) {
    await end(["peer"], "child_moved");
    if (previous.schoolId) await end(["mentor"], "child_moved", previous.schoolId);
  }

  const [{ needs }] = (await tx.$queryRawUnsafe<{ needs: boolean }[]>(
    `SELECT NOT EXISTS (SELECT 1 FROM pairings WHERE child_id = $1::uuid AND kind = 'mentor' AND status IN ('proposed', 'active'))
         OR ($2::text IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pairings WHERE child_id = $1::uuid AND kind = 'peer' AND status IN ('proposed', 'active')))
         AS needs`,
    child.id,
    child.schoolId,
  )) as [{ needs: boolean }];
  // Any change to an unpaired child (risk, village, school) can change the best answer.
  if (needs) await requestMatching(tx, child.townshipCode, "child");
  return "applied";
}
