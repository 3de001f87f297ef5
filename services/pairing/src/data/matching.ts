import { v7 as uuidv7 } from "uuid";
import { townshipOf } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import type { PairingKind } from "@shouhu/contracts";
import { optimiseMatching } from "../domain/matching.js";
import type { MatchChild, MatchHelper } from "../domain/match-rules.js";
import { unmatchedNote } from "../domain/notes.js";
import type { PrismaClient, Tx } from "./db.js";
import { lockTownshipForRun, tryLockTownshipForRun } from "./match-requests.js";
import { retryRegisterNames } from "./register-match.js";

export interface RunSummary {
  runId: string;
  townshipCode: string;
  kind: PairingKind;
  children: number;
  proposed: number;
  unmatched: number;
  cost: number;
  durationMs: number;
}

export interface MatchOptions {
  trigger: string;
  /** Withdraw the township's open proposals first and solve again from scratch. */
  replan?: boolean;
}

/**
 * One township, both kinds, one transaction: reads who needs a pairing and who
 * has room, solves, writes proposals and the reason for each child left out.
 * The township's advisory lock, held exclusively, keeps two runs (two workers,
 * or a run and an on-demand request) from proposing the same free place twice,
 * and keeps events, approvals and hand-overs out while the run works.
 */
async function matchTownship(tx: Tx, townshipCode: string, options: MatchOptions): Promise<RunSummary[]> {
  await lockTownshipForRun(tx, townshipCode);
  // Register names first: a child paired so is not proposed for.
  await retryRegisterNames(tx, townshipCode, todayInChina(new Date()));
  const summaries: RunSummary[] = [];
  for (const kind of ["mentor", "peer"] as const) summaries.push(await matchKind(tx, townshipCode, kind, options));
  return summaries;
}

async function matchKind(tx: Tx, townshipCode: string, kind: PairingKind, options: MatchOptions): Promise<RunSummary> {
  const started = performance.now();
  if (options.replan) {
    await tx.$executeRawUnsafe(
      `UPDATE pairings p SET status = 'withdrawn', end_note = '重新匹配'
         FROM children c WHERE c.id = p.child_id AND c.township_code = $1 AND p.kind = $2 AND p.status = 'proposed'`,
      townshipCode,
      kind,
    );
  }
  const children = await tx.$queryRawUnsafe<MatchChild[]>(
    `SELECT c.id, c.sex, to_char(c.birth_date, 'YYYY-MM-DD') AS "birthDate", c.village_code AS "villageCode",
            c.township_code AS "townshipCode", c.school_id AS "schoolId", c.risk_level AS "riskLevel",
            c.left_behind_type AS "leftBehindType", c.difficulty_categories AS "difficultyCategories"
       FROM children c
      WHERE c.township_code = $1 AND c.status = 'active' AND ($2 = 'mentor' OR c.school_id IS NOT NULL)
        AND NOT EXISTS (SELECT 1 FROM pairings p WHERE p.child_id = c.id AND p.kind = $2 AND p.role = 'primary' AND p.status IN ('proposed', 'active'))
      ORDER BY c.id`,
    townshipCode,
    kind,
  );
  const helpers = await tx.$queryRawUnsafe<MatchHelper[]>(
    `SELECT h.id, h.kind, h.sex, to_char(h.birth_date, 'YYYY-MM-DD') AS "birthDate", h.org_unit_code AS "orgUnitCode",
            h.township_code AS "townshipCode", h.school_id AS "schoolId", h.capacity,
            (SELECT count(*)::int FROM pairings p WHERE p.helper_id = h.id AND p.status IN ('proposed', 'active')) AS load
       FROM helpers h
      WHERE h.township_code = $1 AND h.active AND (CASE WHEN $2 = 'peer' THEN h.kind = 'peer_student' ELSE h.kind <> 'peer_student' END)
      ORDER BY h.id`,
    townshipCode,
    kind,
  );
  // A supervisor's rejection is final for that child and helper; the child's secondary helper
  // (协助帮扶人) is never proposed as its primary too. The optimiser proposes primaries only.
  const rejected = await tx.$queryRawUnsafe<{ childId: string; helperId: string }[]>(
    `SELECT p.child_id AS "childId", p.helper_id AS "helperId" FROM pairings p JOIN children c ON c.id = p.child_id
      WHERE c.township_code = $1 AND p.kind = $2 AND (p.status = 'rejected' OR (p.status = 'active' AND p.role = 'secondary'))`,
    townshipCode,
    kind,
  );
  const outcome = optimiseMatching({ kind, children, helpers, forbidden: new Set(rejected.map((r) => `${r.childId}:${r.helperId}`)) });

  const runId = uuidv7();
  if (outcome.assignments.length > 0) {
    await tx.$executeRawUnsafe(
      `INSERT INTO pairings (id, child_id, helper_id, kind, status, cost, match_reason, run_id, proposed_at)
       SELECT x.id, x.child_id, x.helper_id, $2, 'proposed', x.cost, x.reason, $3::uuid, now()
         FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, child_id uuid, helper_id uuid, cost int, reason text)
       ON CONFLICT DO NOTHING`,
      JSON.stringify(outcome.assignments.map((a) => ({ id: uuidv7(), child_id: a.childId, helper_id: a.helperId, cost: a.cost, reason: a.reason }))),
      kind,
      runId,
    );
  }
  const noteColumn = kind === "mentor" ? "mentor_match_note" : "peer_match_note";
  // Children looked at this run: a note for those left out, none for the rest.
  await tx.$executeRawUnsafe(
    `UPDATE children c SET ${noteColumn} = n.note
       FROM jsonb_to_recordset($1::jsonb) AS n(id uuid, note text) WHERE c.id = n.id`,
    JSON.stringify([
      ...outcome.assignments.map((a) => ({ id: a.childId, note: null })),
      ...outcome.unmatched.map((u) => ({ id: u.childId, note: unmatchedNote(kind, u.reason) })),
    ]),
  );
  const summary: RunSummary = {
    runId,
    townshipCode,
    kind,
    children: children.length,
    proposed: outcome.assignments.length,
    unmatched: outcome.unmatched.length,
    cost: outcome.score.pairingCost,
    durationMs: Math.round(performance.now() - started),
  };
  await tx.$executeRawUnsafe(
    `INSERT INTO match_runs (id, township_code, kind, trigger, children, proposed, unmatched, cost, duration_ms)
     VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9)`,
    runId,
    townshipCode,
    kind,
    options.trigger,
    summary.children,
    summary.proposed,
    summary.unmatched,
    summary.cost,
    summary.durationMs,
  );
  return summary;
}

/**
 * Runs every township whose request has been quiet for `quietMs`, one at a
 * time. The township's run lock is taken first, without waiting (busy townships
 * are left for the next poll), then its request row, which is deleted in the
 * run's transaction: two workers never run the same township, a crash leaves
 * the request for the next poll, and a request made during the run waits for
 * the lock and then queues a fresh run.
 */
export async function runPendingMatches(prisma: PrismaClient, options: { quietMs: number; limit?: number }): Promise<RunSummary[]> {
  const done: RunSummary[] = [];
  const busy: string[] = [];
  for (let i = 0; i < (options.limit ?? 100); i++) {
    const outcome = await prisma.$transaction(
      async (tx): Promise<{ busy: string } | { runs: RunSummary[] } | null> => {
        const [candidate] = await tx.$queryRawUnsafe<{ townshipCode: string }[]>(
          `SELECT township_code AS "townshipCode" FROM match_requests
            WHERE requested_at <= now() - ($1::int * interval '1 millisecond') AND NOT (township_code = ANY($2::text[]))
            ORDER BY requested_at LIMIT 1`,
          options.quietMs,
          busy,
        );
        if (!candidate) return null;
        if (!(await tryLockTownshipForRun(tx, candidate.townshipCode))) return { busy: candidate.townshipCode };
        const [request] = await tx.$queryRawUnsafe<{ reason: string }[]>(
          `SELECT reason FROM match_requests WHERE township_code = $1 FOR UPDATE SKIP LOCKED`,
          candidate.townshipCode,
        );
        // Another worker ran it between the two reads.
        if (!request) return { busy: candidate.townshipCode };
        await tx.$executeRawUnsafe(`DELETE FROM match_requests WHERE township_code = $1`, candidate.townshipCode);
        return { runs: await matchTownship(tx, candidate.townshipCode, { trigger: request.reason }) };
      },
      { timeout: 60_000 },
    );
    if (!outcome) break;
    if ("busy" in outcome) busy.push(outcome.busy);
    else done.push(...outcome.runs);
  }
  return done;
}

/** On demand: every township in `orgUnit` (a county or one township) with children. */
export async function matchOrgUnit(prisma: PrismaClient, orgUnit: string, options: MatchOptions): Promise<RunSummary[]> {
  const townships = await prisma.$queryRawUnsafe<{ code: string }[]>(
    `SELECT DISTINCT township_code AS code FROM children WHERE township_code LIKE $1 || '%' AND status = 'active'
     UNION SELECT DISTINCT township_code FROM helpers WHERE township_code LIKE $1 || '%' AND active ORDER BY 1`,
    townshipOf(orgUnit),
  );
  const summaries: RunSummary[] = [];
  for (const { code } of townships) {
    summaries.push(
      ...(await prisma.$transaction(
        async (tx) => {
          const runs = await matchTownship(tx, code, options);
          // After the run lock (lock order in match-requests.ts): a queued request is answered by this run.
          await tx.$executeRawUnsafe(`DELETE FROM match_requests WHERE township_code = $1`, code);
          return runs;
        },
        { timeout: 60_000 },
      )),
    );
  }
  return summaries;
}

/** The latest matching runs of the townships under `prefix` (a township, or a county's 6 digits). */
export async function recentRuns(prisma: PrismaClient, prefix: string, limit: number) {
  return prisma.matchRun.findMany({ where: { townshipCode: { startsWith: prefix } }, orderBy: { createdAt: "desc" }, take: limit });
}
