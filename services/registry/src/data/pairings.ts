import type pg from "pg";
import type { EventData, HelperKind, PairingKind } from "@shouhu/contracts";
import { lockChildPairings, rememberEndedPairing } from "@shouhu/messaging";
import type { PrismaClient, Tx } from "./db.js";

type Exec = Pick<Tx, "$executeRawUnsafe">;

/**
 * A pairing started: the child's helper of that kind is now this one — unless the
 * pairing already ended (its pairing.ended overtook this event) or a pairing that
 * started later holds the place (two pairings' events may arrive in either order).
 */
export async function startPairing(tx: Exec, data: EventData<"pairing.started">, occurredAt: string): Promise<void> {
  await lockChildPairings(tx, "registry", data.child.id);
  await tx.$executeRawUnsafe(
    `INSERT INTO current_pairings (child_id, kind, pairing_id, helper_id, helper_kind, name, phone, username, since, started_at)
     SELECT $1::uuid, $2, $3::uuid, $4::uuid, $5, $6, $7, $8, $9::date, $10::timestamptz
      WHERE NOT EXISTS (SELECT 1 FROM ended_pairings WHERE pairing_id = $3::uuid)
     ON CONFLICT (child_id, kind) DO UPDATE SET pairing_id = EXCLUDED.pairing_id, helper_id = EXCLUDED.helper_id,
       helper_kind = EXCLUDED.helper_kind, name = EXCLUDED.name, phone = EXCLUDED.phone, username = EXCLUDED.username,
       since = EXCLUDED.since, started_at = EXCLUDED.started_at
     WHERE current_pairings.started_at <= EXCLUDED.started_at`,
    data.child.id,
    data.kind,
    data.pairingId,
    data.helper.id,
    data.helper.kind,
    data.helper.name,
    data.helper.phone,
    data.helper.username,
    data.startDate,
    occurredAt,
  );
}

/**
 * A pairing ended: remembered (so its late pairing.started is ignored) and removed
 * if it is the child's current one; a newer pairing that took over stays.
 */
export async function endPairing(tx: Exec, data: EventData<"pairing.ended">): Promise<void> {
  await lockChildPairings(tx, "registry", data.child.id);
  await rememberEndedPairing(tx, data);
  await tx.$executeRawUnsafe(`DELETE FROM current_pairings WHERE child_id = $1::uuid AND pairing_id = $2::uuid`, data.child.id, data.pairingId);
}

export interface CurrentHelper {
  kind: PairingKind;
  pairingId: string;
  helperId: string;
  helperKind: HelperKind;
  name: string;
  phone: string | null;
  username: string | null;
  since: string;
}

const CURRENT_SQL = `SELECT kind, pairing_id AS "pairingId", helper_id AS "helperId", helper_kind AS "helperKind", name, phone, username,
  to_char(since, 'YYYY-MM-DD') AS since
  FROM current_pairings WHERE child_id = $1::uuid ORDER BY kind`;

/** The child's current mentor and peer buddy (pool when there is one, else Prisma; same SQL). */
export async function currentHelpers(db: { prisma: PrismaClient; pool?: pg.Pool }, childId: string): Promise<CurrentHelper[]> {
  return db.pool
    ? (await db.pool.query<CurrentHelper>({ name: "registry-current-helpers", text: CURRENT_SQL, values: [childId] })).rows
    : db.prisma.$queryRawUnsafe<CurrentHelper[]>(CURRENT_SQL, childId);
}

/** Children currently paired to a staff user (a teacher's own pairings), by login. */
export async function childIdsPairedTo(prisma: PrismaClient, username: string): Promise<string[]> {
  if (!username) return [];
  const rows = await prisma.currentPairing.findMany({ where: { username }, select: { childId: true }, distinct: ["childId"] });
  return rows.map((r) => r.childId);
}
