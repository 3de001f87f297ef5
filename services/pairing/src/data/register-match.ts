import { systemActor, type Actor } from "@shouhu/contracts";
import type { SqlTx } from "@shouhu/messaging";
import { matchRegisterHelper, registerName, type RegisterCandidate, type RegisterMatchIssue } from "../domain/register-match.js";
import type { ChildChange } from "./children.js";
import { startPairings, type PairingStart } from "./pairings.js";

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
 * batch (or a hand pairing meanwhile) cannot push it over capacity. A name not paired now is
 * tried again by the township's next matching run (`retryRegisterNames`).
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
  await pairRegisterNamed(
    tx,
    named.map((c) => ({
      id: c.child.id,
      villageCode: c.child.villageCode,
      townshipCode: c.child.townshipCode,
      helperName: c.child.helperName!,
      actor: c.actor,
      today: c.today,
    })),
  );
}

/** A child whose register names a 帮扶责任人, with who is deciding (the importer, or the matching run) and the day. */
interface NamedChild {
  id: string;
  villageCode: string;
  townshipCode: string;
  helperName: string;
  actor: Actor;
  today: string;
}

/**
 * Pairs each child with the helper its register names, where exactly one fits (see
 * `applyRegisterHelpers`), and records why for the others. Children who meanwhile have an
 * active primary are left alone.
 */
async function pairRegisterNamed(tx: SqlTx, named: readonly NamedChild[]): Promise<void> {
  if (named.length === 0) return;
  const rows = await tx.$queryRawUnsafe<({ childId: string } & RegisterCandidate)[]>(
    `SELECT x.id::text AS "childId", h.id::text, h.org_unit_code AS "orgUnitCode", h.active, h.capacity,
            (SELECT count(*)::int FROM pairings p WHERE p.helper_id = h.id AND p.status = 'active') AS load
       FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, name text, township text)
       JOIN helpers h ON h.township_code = x.township AND h.name = x.name AND h.kind <> 'peer_student'
      ORDER BY x.id, h.id`,
    JSON.stringify(named.map((c) => ({ id: c.id, name: registerName(c.helperName), township: c.townshipCode }))),
  );
  const paired = new Set(
    (
      await tx.$queryRawUnsafe<{ id: string }[]>(
        `SELECT child_id::text AS id FROM pairings WHERE child_id = ANY($1::uuid[]) AND kind = 'mentor' AND role = 'primary' AND status = 'active'`,
        named.map((c) => c.id),
      )
    ).map((r) => r.id),
  );
  const byChild = new Map<string, RegisterCandidate[]>();
  for (const { childId, ...candidate } of rows) byChild.set(childId, [...(byChild.get(childId) ?? []), candidate]);

  const outcomes: { id: string; issue: RegisterMatchIssue | null }[] = [];
  const matches: { child: NamedChild; helperId: string }[] = [];
  for (const c of named) {
    const id = c.id.toLowerCase();
    if (paired.has(id)) {
      outcomes.push({ id, issue: null });
      continue;
    }
    const decision = matchRegisterHelper(c, byChild.get(id) ?? []);
    if ("issue" in decision) outcomes.push({ id, issue: decision.issue });
    else matches.push({ child: c, helperId: decision.helperId });
  }

  // The helpers named, locked in id order, then counted again: an earlier child of this batch
  // (or a hand pairing meanwhile) may have taken the last place.
  const locked = new Map(
    (
      await tx.$queryRawUnsafe<{ id: string; active: boolean; capacity: number; load: number }[]>(
        `SELECT h.id::text, h.active, h.capacity, (SELECT count(*)::int FROM pairings p WHERE p.helper_id = h.id AND p.status = 'active') AS load
           FROM helpers h WHERE h.id = ANY($1::uuid[]) ORDER BY h.id FOR NO KEY UPDATE`,
        [...new Set(matches.map((m) => m.helperId))],
      )
    ).map((h) => [h.id, h]),
  );
  const starts: PairingStart[] = [];
  for (const { child: c, helperId } of matches) {
    const helper = locked.get(helperId);
    if (!helper?.active || helper.load >= helper.capacity) {
      outcomes.push({ id: c.id, issue: helper?.active ? "full" : "inactive" });
      continue;
    }
    helper.load += 1;
    starts.push({
      childId: c.id,
      helperId,
      kind: "mentor",
      role: "primary",
      reason: "register",
      note: `登记表帮扶责任人：${c.helperName.trim()}`,
      decider: { actor: c.actor, name: c.actor.name ?? REGISTER_DECIDER },
      today: c.today,
    });
    outcomes.push({ id: c.id, issue: null });
  }
  if (starts.length > 0) {
    await tx.$executeRawUnsafe(
      `UPDATE pairings SET status = 'withdrawn', end_reason = 'manual', end_note = '登记表帮扶责任人已结对，建议撤回'
        WHERE child_id = ANY($1::uuid[]) AND kind = 'mentor' AND role = 'primary' AND status = 'proposed'`,
      starts.map((p) => p.childId),
    );
    await startPairings(tx, starts);
  }
  await tx.$executeRawUnsafe(
    `UPDATE children c SET register_match_issue = x.issue FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, issue text) WHERE c.id = x.id`,
    JSON.stringify(outcomes),
  );
}

/**
 * A township's matching run first tries again the register names that were not paired: a helper
 * registered, imported, re-activated or given room since the register came in is found now.
 * The run holds the township's lock exclusively, so nothing else changes its pairings meanwhile.
 */
export async function retryRegisterNames(tx: SqlTx, townshipCode: string, today: string): Promise<void> {
  const waiting = await tx.$queryRawUnsafe<{ id: string; villageCode: string; townshipCode: string; helperName: string }[]>(
    `SELECT c.id::text, c.village_code AS "villageCode", c.township_code AS "townshipCode", c.register_helper_name AS "helperName"
       FROM children c
      WHERE c.township_code = $1 AND c.status = 'active' AND c.register_match_issue IS NOT NULL AND c.register_helper_name IS NOT NULL
      ORDER BY c.id FOR NO KEY UPDATE`,
    townshipCode,
  );
  await pairRegisterNamed(
    tx,
    waiting.map((c) => ({ ...c, actor: systemActor("register-match"), today })),
  );
}
