import type pg from "pg";
import { roleOf, type EventData, type HelperKind, type PairingKind, type PairingRole } from "@shouhu/contracts";
import { helperEnded, helperStarted, type HelperProjection } from "@shouhu/messaging";
import type { PrismaClient, Tx } from "./db.js";

type Exec = Pick<Tx, "$executeRawUnsafe">;

/**
 * The child's current mentors — primary (主要帮扶人) and secondary (协助帮扶人), each in its own
 * row — and peer buddy, for the contact card (the shared rules: @shouhu/messaging helper-projection).
 */
const currentPairings: HelperProjection = {
  service: "registry",
  table: "current_pairings",
  key: ["child_id", "kind", "role"],
  kinds: ["mentor", "peer"],
  roles: ["primary", "secondary"],
  columns: (d) => ({
    kind: { value: d.kind },
    role: { value: roleOf(d) },
    helper_id: { cast: "uuid", value: d.helper.id },
    helper_kind: { value: d.helper.kind },
    name: { value: d.helper.name },
    phone: { value: d.helper.phone },
    username: { value: d.helper.username },
    since: { cast: "date", value: d.startDate },
  }),
};

export async function startPairing(tx: Exec, data: EventData<"pairing.started">, occurredAt: string): Promise<void> {
  await helperStarted(tx, currentPairings, data, occurredAt);
}

export async function endPairing(tx: Exec, data: EventData<"pairing.ended">): Promise<void> {
  await helperEnded(tx, currentPairings, data);
}

export interface CurrentHelper {
  kind: PairingKind;
  role: PairingRole;
  pairingId: string;
  helperId: string;
  helperKind: HelperKind;
  name: string;
  phone: string | null;
  username: string | null;
  since: string;
}

const CURRENT_SQL = `SELECT kind, role, pairing_id AS "pairingId", helper_id AS "helperId", helper_kind AS "helperKind", name, phone, username,
  to_char(since, 'YYYY-MM-DD') AS since
  FROM current_pairings WHERE child_id = $1::uuid ORDER BY kind, role`;

/** The child's current mentor and peer buddy (pool when there is one, else Prisma; same SQL). */
export async function currentHelpers(db: { prisma: PrismaClient; pool?: pg.Pool }, childId: string): Promise<CurrentHelper[]> {
  return db.pool
    ? (await db.pool.query<CurrentHelper>({ name: "registry-current-helpers", text: CURRENT_SQL, values: [childId] })).rows
    : db.prisma.$queryRawUnsafe<CurrentHelper[]>(CURRENT_SQL, childId);
}

/** Children currently paired to a staff user (a teacher's own pairings), by login. */
/**
 * Children within `scope` that have a mentor now (the 已结对/未结对 filter of the list).
 * One id per paired child of a county: tens of thousands at most, passed as one array.
 */
export async function childIdsWithMentor(prisma: PrismaClient, scope: string): Promise<string[]> {
  const rows = await prisma.$queryRaw<{ childId: string }[]>`
    SELECT p.child_id AS "childId" FROM current_pairings p JOIN children c ON c.id = p.child_id
     WHERE p.kind = 'mentor' AND p.role = 'primary' AND c.village_code LIKE ${scope} || '%'`;
  return rows.map((r) => r.childId);
}

export async function childIdsPairedTo(prisma: PrismaClient, username: string): Promise<string[]> {
  if (!username) return [];
  const rows = await prisma.currentPairing.findMany({ where: { username }, select: { childId: true }, distinct: ["childId"] });
  return rows.map((r) => r.childId);
}
