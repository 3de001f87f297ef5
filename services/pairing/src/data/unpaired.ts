import type { PairingKind } from "@shouhu/contracts";
import type { PrismaClient } from "./db.js";

/**
 * Every active child without an active (primary) pairing of the kind, by village then id (keyset
 * paged), with its open proposal or the last run's note, and — for mentors — the register's
 * 帮扶责任人 with why it was not paired.
 */
export async function unpairedChildren<Row>(
  prisma: PrismaClient,
  q: { scope: string; kind: PairingKind; schoolId: string | null; afterVillage: string | null; afterId: string | null; limit: number },
): Promise<Row[]> {
  return prisma.$queryRawUnsafe<Row[]>(
    `SELECT c.id, c.name, c.village_code AS "villageCode", c.school_id AS "schoolId", c.school_name AS "schoolName",
            c.risk_level AS "riskLevel", c.left_behind_type AS "leftBehindType",
            CASE WHEN $2 = 'mentor' THEN c.mentor_match_note ELSE c.peer_match_note END AS note,
            CASE WHEN $2 = 'mentor' THEN c.register_helper_name END AS "registerHelperName",
            CASE WHEN $2 = 'mentor' THEN c.register_match_issue END AS "registerMatchIssue",
            (SELECT json_build_object('pairingId', p.id, 'helperId', h.id, 'helperName', h.name, 'matchReason', p.match_reason)
               FROM pairings p JOIN helpers h ON h.id = p.helper_id
              WHERE p.child_id = c.id AND p.kind = $2 AND p.status = 'proposed') AS proposal
       FROM children c
      WHERE c.status = 'active' AND c.village_code LIKE $1 || '%'
        AND ($2 = 'mentor' OR c.school_id IS NOT NULL)
        AND NOT EXISTS (SELECT 1 FROM pairings p WHERE p.child_id = c.id AND p.kind = $2 AND p.role = 'primary' AND p.status = 'active')
        AND ($3::text IS NULL OR c.school_id = $3)
        AND ($4::text IS NULL OR (c.village_code, c.id) > ($4, $5::uuid))
      ORDER BY c.village_code, c.id
      LIMIT $6`,
    q.scope,
    q.kind,
    q.schoolId,
    q.afterVillage,
    q.afterId,
    q.limit + 1,
  );
}

export interface VillagePairing {
  villageCode: string;
  children: number;
  paired: number;
  proposed: number;
  unmatched: number;
  /** Unpaired children whose register names a 帮扶责任人 that could not be paired (a decision waiting). */
  registerUnmatched: number;
}

/** Per village: active children, paired, with a proposal waiting, and neither. */
export async function unpairedByVillage(prisma: PrismaClient, q: { scope: string; kind: PairingKind; schoolId: string | null }): Promise<VillagePairing[]> {
  return prisma.$queryRawUnsafe<VillagePairing[]>(
    `SELECT c.village_code AS "villageCode", count(*)::int AS children,
            count(*) FILTER (WHERE s.state = 'active')::int AS paired,
            count(*) FILTER (WHERE s.state = 'proposed')::int AS proposed,
            count(*) FILTER (WHERE s.state IS NULL)::int AS unmatched,
            count(*) FILTER (WHERE s.state IS DISTINCT FROM 'active' AND $2 = 'mentor' AND c.register_match_issue IS NOT NULL)::int AS "registerUnmatched"
       FROM children c
       LEFT JOIN LATERAL (SELECT p.status AS state FROM pairings p
                           WHERE p.child_id = c.id AND p.kind = $2 AND p.role = 'primary' AND p.status IN ('active', 'proposed')) s ON true
      WHERE c.status = 'active' AND c.village_code LIKE $1 || '%' AND ($2 = 'mentor' OR c.school_id IS NOT NULL)
        AND ($3::text IS NULL OR c.school_id = $3)
      GROUP BY c.village_code ORDER BY c.village_code`,
    q.scope,
    q.kind,
    q.schoolId,
  );
}
