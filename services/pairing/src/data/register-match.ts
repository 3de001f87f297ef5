import type { SqlTx } from "@shouhu/messaging";
import { matchRegisterHelper, registerName, type RegisterCandidate, type RegisterMatchIssue } from "../domain/register-match.js";
import type { ChildChange } from "./children.js";
import { startByHand } from "./pairings.js";

/** Who decided a pairing the register named, when the event's actor has no display name. */
const REGISTER_DECIDER = "登记表导入";

/**
 * Honours the register's 帮扶责任人 (issue 19.3): for each active child whose register name is
 * new or changed, and who has no active primary mentor, the name is matched to a helper of the
 * child's township (`matchRegisterHelper`). One match → a primary pairing starts at once
 * (match reason `register`, pairing.started like any other); otherwise the child keeps the name
 * and why it was not paired (`register_match_issue`) for the unpaired list, where a supervisor
 * decides. A child who already has a primary keeps it whatever the register says later.
 *
 * Runs inside `applyChildSnapshots` (township locks and the children's rows already held):
 * one query for the names, one for the candidates, one for the issues; helpers are locked in
 * id order before their capacity is counted again, so two children naming one helper in a
 * batch (or a hand pairing meanwhile) cannot push it over capacity.
 */
export async function applyRegisterHelpers(tx: SqlTx, changes: readonly ChildChange[], heldNames: ReadonlyMap<string, string | null>): Promise<void> {
  const changed = changes.filter((c) => {
    if (c.child.helperName === undefined) return false; // an event from before the register name travelled: nothing said
    const id = c.child.id.toLowerCase();
    return !heldNames.has(id) || registerName(heldNames.get(id)) !== registerName(c.child.helperName);
  });
  if (changed.length === 0) return;
  await tx.$executeRawUnsafe(
    `UPDATE children c SET register_helper_name = x.name, register_match_issue = NULL
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, name text) WHERE c.id = x.id`,
    JSON.stringify(changed.map((c) => ({ id: c.child.id, name: c.child.helperName?.trim() || null }))),
  );
  const named = changed.filter((c) => c.child.status === "active" && registerName(c.child.helperName) !== null);
  if (named.length === 0) return;

  const rows = await tx.$queryRawUnsafe<({ childId: string } & RegisterCandidate)[]>(
    `SELECT x.id::text AS "childId", h.id::text, h.org_unit_code AS "orgUnitCode", h.active, h.capacity,
            (SELECT count(*)::int FROM pairings p WHERE p.helper_id = h.id AND p.status = 'active') AS load
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, name text, township text)
       JOIN helpers h ON h.township_code = x.township AND h.name = x.name AND h.kind <> 'peer_student'
      WHERE NOT EXISTS (SELECT 1 FROM pairings p WHERE p.child_id = x.id AND p.kind = 'mentor' AND p.role = 'primary' AND p.status = 'active')
      ORDER BY x.id, h.id`,
    JSON.stringify(named.map((c) => ({ id: c.child.id, name: registerName(c.child.helperName), township: c.child.townshipCode }))),
  );
  const paired = new Set(
    (
      await tx.$queryRawUnsafe<{ id: string }[]>(
        `SELECT child_id::text AS id FROM pairings WHERE child_id = ANY($1::uuid[]) AND kind = 'mentor' AND role = 'primary' AND status = 'active'`,
        named.map((c) => c.child.id),
      )
    ).map((r) => r.id),
  );
  const byChild = new Map<string, RegisterCandidate[]>();
  for (const { childId, ...candidate } of rows) byChild.set(childId, [...(byChild.get(childId) ?? []), candidate]);

  const issues: { id: string; issue: RegisterMatchIssue }[] = [];
  const matches: { change: ChildChange; helperId: string }[] = [];
  for (const c of named) {
    const id = c.child.id.toLowerCase();
    if (paired.has(id)) continue;
    const decision = matchRegisterHelper(c.child, byChild.get(id) ?? []);
    if ("issue" in decision) issues.push({ id, issue: decision.issue });
    else matches.push({ change: c, helperId: decision.helperId });
  }

  matches.sort((a, b) => a.helperId.localeCompare(b.helperId));
  for (const { change: c, helperId } of matches) {
    // Locked, then counted again: an earlier child of this batch may have taken the last place.
    const [helper] = await tx.$queryRawUnsafe<{ active: boolean; capacity: number; load: number }[]>(
      `SELECT h.active, h.capacity, (SELECT count(*)::int FROM pairings p WHERE p.helper_id = h.id AND p.status = 'active') AS load
         FROM helpers h WHERE h.id = $1::uuid FOR NO KEY UPDATE`,
      helperId,
    );
    if (!helper?.active || helper.load >= helper.capacity) {
      issues.push({ id: c.child.id, issue: helper?.active ? "full" : "inactive" });
      continue;
    }
    await tx.$executeRawUnsafe(
      `UPDATE pairings SET status = 'withdrawn', end_reason = 'manual', end_note = '登记表帮扶责任人已结对，建议撤回'
        WHERE child_id = $1::uuid AND kind = 'mentor' AND role = 'primary' AND status = 'proposed'`,
      c.child.id,
    );
    await startByHand(
      tx,
      { childId: c.child.id, helperId, kind: "mentor", role: "primary", reason: "register", note: `登记表帮扶责任人：${c.child.helperName!.trim()}` },
      { actor: c.actor, name: c.actor.name ?? REGISTER_DECIDER },
      c.today,
    );
  }
  if (issues.length > 0) {
    await tx.$executeRawUnsafe(
      `UPDATE children c SET register_match_issue = x.issue FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, issue text) WHERE c.id = x.id`,
      JSON.stringify(issues),
    );
  }
}
