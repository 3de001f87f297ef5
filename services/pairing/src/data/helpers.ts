import { v7 as uuidv7 } from "uuid";
import type { Actor, HelperKind } from "@shouhu/contracts";
import { ConflictError, NotFoundError } from "@shouhu/kit";
import type { HelperValues } from "../domain/helper.js";
import type { PrismaClient } from "./db.js";
import { endOpenPairings, type PairingView } from "./pairings.js";
import { lockTownshipsForChange, requestMatching, requestMatchingIn } from "./match-requests.js";
import { helperKey } from "../domain/helper-import.js";
import { contains } from "@shouhu/contracts";

export interface HelperRow extends HelperValues {
  id: string;
  active: boolean;
  deactivatedAt: Date | null;
  deactivationReason: string | null;
  createdAt: Date;
  /** Open pairings: active ones count against capacity, proposals are reserved places. */
  activeCount: number;
  proposedCount: number;
}

const helperSelect = `
  SELECT h.id, h.kind, h.name, h.sex, to_char(h.birth_date, 'YYYY-MM-DD') AS "birthDate", h.phone,
         h.org_unit_code AS "orgUnitCode", h.township_code AS "townshipCode", h.school_id AS "schoolId",
         h.username, h.capacity, h.active, h.deactivated_at AS "deactivatedAt",
         h.deactivation_reason AS "deactivationReason", h.created_at AS "createdAt",
         (SELECT count(*)::int FROM pairings p WHERE p.helper_id = h.id AND p.status = 'active') AS "activeCount",
         (SELECT count(*)::int FROM pairings p WHERE p.helper_id = h.id AND p.status = 'proposed') AS "proposedCount"
    FROM helpers h`;

/** A helper, if inside `orgUnit` (null: our own reads, unrestricted). */
export async function getHelper(prisma: PrismaClient, id: string, orgUnit: string | null): Promise<HelperRow> {
  const [row] = await prisma.$queryRawUnsafe<HelperRow[]>(`${helperSelect} WHERE h.id = $1::uuid`, id);
  if (!row || (orgUnit !== null && !contains(orgUnit, row.orgUnitCode))) throw new NotFoundError("帮扶人", id);
  return row;
}

export async function createHelper(prisma: PrismaClient, values: HelperValues): Promise<HelperRow> {
  const id = uuidv7();
  await prisma.$transaction(async (tx) => {
    await tx.helper.create({
      data: { id, ...values, birthDate: values.birthDate ? new Date(`${values.birthDate}T00:00:00Z`) : null },
    });
    // A new helper may be exactly who an unpaired child was waiting for.
    await requestMatching(tx, values.townshipCode, "helper");
  });
  return getHelper(prisma, id, null);
}

export async function updateHelper(prisma: PrismaClient, id: string, values: HelperValues): Promise<HelperRow> {
  await prisma.$transaction(async (tx) => {
    const [seen] = await tx.$queryRawUnsafe<{ townshipCode: string }[]>(`SELECT township_code AS "townshipCode" FROM helpers WHERE id = $1::uuid`, id);
    if (!seen) throw new NotFoundError("帮扶人", id);
    await lockTownshipsForChange(tx, [seen.townshipCode, values.townshipCode]);
    const [locked] = await tx.$queryRawUnsafe<{ active: number }[]>(
      `SELECT (SELECT count(*)::int FROM pairings WHERE helper_id = h.id AND status = 'active') AS active FROM helpers h WHERE h.id = $1::uuid FOR NO KEY UPDATE OF h`,
      id,
    );
    if (!locked) throw new NotFoundError("帮扶人", id);
    if (values.capacity < locked.active) {
      throw new ConflictError("CAPACITY_BELOW_LOAD", `该帮扶人已结对${locked.active}名儿童，帮扶人数不能少于${locked.active}`, { field: "capacity" });
    }
    const moved = seen.townshipCode !== values.townshipCode;
    // Helpers serve their own township: pairings must not cross into another one.
    if (moved && locked.active > 0) {
      throw new ConflictError("HELPER_HAS_PAIRINGS", `该帮扶人仍有${locked.active}名结对儿童，调往其他乡镇前请先停用并交接`, { field: "orgUnitCode" });
    }
    if (moved) {
      await tx.$executeRawUnsafe(
        `UPDATE pairings SET status = 'withdrawn', end_reason = 'helper_deactivated', end_note = '帮扶人调往其他乡镇' WHERE helper_id = $1::uuid AND status = 'proposed'`,
        id,
      );
    }
    await tx.helper.update({
      where: { id },
      data: { ...values, birthDate: values.birthDate ? new Date(`${values.birthDate}T00:00:00Z`) : null },
    });
    await requestMatching(tx, values.townshipCode, "helper");
    if (moved) await requestMatching(tx, seen.townshipCode, "helper");
  });
  return getHelper(prisma, id, null);
}

/**
 * A teacher transferred, a volunteer who stopped, the year-end handover (交接):
 * the helper's pairings end (pairing.ended tells visits to move the schedule),
 * proposals to them are withdrawn, and their township is matched again so each
 * child gets a new proposal — or a note saying why none could be made.
 */
export async function deactivateHelper(
  prisma: PrismaClient,
  id: string,
  reason: string,
  actor: Actor,
  today: string,
): Promise<{ helper: HelperRow; ended: PairingView[]; withdrawn: number }> {
  const result = await prisma.$transaction(async (tx) => {
    const [seen] = await tx.$queryRawUnsafe<{ townshipCode: string }[]>(`SELECT township_code AS "townshipCode" FROM helpers WHERE id = $1::uuid`, id);
    if (!seen) throw new NotFoundError("帮扶人", id);
    await lockTownshipsForChange(tx, [seen.townshipCode]);
    const [helper] = await tx.$queryRawUnsafe<{ active: boolean; townshipCode: string }[]>(
      `SELECT active, township_code AS "townshipCode" FROM helpers WHERE id = $1::uuid FOR NO KEY UPDATE`,
      id,
    );
    if (!helper) throw new NotFoundError("帮扶人", id);
    if (!helper.active) throw new ConflictError("HELPER_INACTIVE", "该帮扶人已停用");
    await tx.$executeRawUnsafe(
      `UPDATE helpers SET active = false, deactivated_at = now(), deactivation_reason = $2, updated_at = now() WHERE id = $1::uuid`,
      id,
      reason,
    );
    const outcome = await endOpenPairings(tx, { helperId: id, kinds: ["mentor", "peer"], reason: "helper_deactivated", actor, today, note: reason });
    await requestMatching(tx, helper.townshipCode, "handover");
    return outcome;
  });
  return { helper: await getHelper(prisma, id, null), ...result };
}

export async function reactivateHelper(prisma: PrismaClient, id: string): Promise<HelperRow> {
  await prisma.$transaction(async (tx) => {
    const [helper] = await tx.$queryRawUnsafe<{ townshipCode: string }[]>(
      `UPDATE helpers SET active = true, deactivated_at = NULL, deactivation_reason = NULL, updated_at = now()
        WHERE id = $1::uuid RETURNING township_code AS "townshipCode"`,
      id,
    );
    if (!helper) throw new NotFoundError("帮扶人", id);
    await requestMatching(tx, helper.townshipCode, "helper");
  });
  return getHelper(prisma, id, null);
}

export interface HelperFilter {
  orgUnit: string;
  kind?: HelperKind;
  active?: boolean;
  schoolId?: string;
  q?: string;
  cursor?: string;
  limit: number;
}

export async function listHelpers(prisma: PrismaClient, filter: HelperFilter): Promise<{ items: HelperRow[]; nextCursor: string | null }> {
  const rows = await prisma.$queryRawUnsafe<HelperRow[]>(
    `${helperSelect}
      WHERE h.org_unit_code LIKE $1 || '%'
        AND ($2::text IS NULL OR h.kind = $2)
        AND ($3::boolean IS NULL OR h.active = $3)
        AND ($4::text IS NULL OR h.school_id = $4)
        AND ($5::text IS NULL OR h.name LIKE '%' || $5 || '%')
        AND ($6::uuid IS NULL OR h.id > $6::uuid)
      ORDER BY h.id
      LIMIT $7`,
    filter.orgUnit,
    filter.kind ?? null,
    filter.active ?? null,
    filter.schoolId ?? null,
    filter.q ?? null,
    filter.cursor ?? null,
    filter.limit + 1,
  );
  const more = rows.length > filter.limit;
  const items = more ? rows.slice(0, filter.limit) : rows;
  return { items, nextCursor: more ? items[items.length - 1]!.id : null };
}

/** A helper's proposed and active pairings. */
export async function openPairingIds(prisma: PrismaClient, helperId: string): Promise<string[]> {
  const rows = await prisma.$queryRawUnsafe<{ id: string }[]>(
    `SELECT id FROM pairings WHERE helper_id = $1::uuid AND status IN ('proposed', 'active') ORDER BY id`,
    helperId,
  );
  return rows.map((r) => r.id);
}

export interface HelperImportOutcome {
  created: { rowNumber: number; id: string }[];
  updated: { rowNumber: number; id: string }[];
  rejections: { rowNumber: number; name: string | null; reasons: string[] }[];
}

/**
 * The valid rows of a helper list, in one transaction: a row naming a helper already
 * registered (same phone in the same township; without phone, same name, unit and school)
 * updates that helper, any other row creates one. A row whose helper lies outside
 * `jurisdiction`, or whose capacity would fall below the helper's active pairings, is
 * rejected, not stored. Each township touched is queued for matching once, as POST
 * /helpers queues it for one helper.
 */
export async function importHelpers(
  prisma: PrismaClient,
  rows: readonly { rowNumber: number; values: HelperValues; key: string }[],
  jurisdiction: string,
): Promise<HelperImportOutcome> {
  const outcome: HelperImportOutcome = { created: [], updated: [], rejections: [] };
  if (rows.length === 0) return outcome;
  const townships = [...new Set(rows.map((r) => r.values.townshipCode))];
  await prisma.$transaction(
    async (tx) => {
      await lockTownshipsForChange(tx, townships);
      // The helpers these rows may name, locked like updateHelper locks one.
      const existing = await tx.$queryRawUnsafe<
        { id: string; phone: string | null; name: string; orgUnitCode: string; townshipCode: string; schoolId: string | null; active: number }[]
      >(
        `SELECT h.id, h.phone, h.name, h.org_unit_code AS "orgUnitCode", h.township_code AS "townshipCode", h.school_id AS "schoolId",
                (SELECT count(*)::int FROM pairings p WHERE p.helper_id = h.id AND p.status = 'active') AS active
           FROM helpers h
          WHERE h.township_code = ANY($1::text[])
          ORDER BY h.created_at, h.id
            FOR NO KEY UPDATE OF h`,
        townships,
      );
      const byKey = new Map<string, (typeof existing)[number]>();
      for (const h of existing) {
        const key = helperKey(h);
        if (!byKey.has(key)) byKey.set(key, h);
      }
      const creates: ({ id: string } & HelperValues)[] = [];
      for (const row of rows) {
        const found = byKey.get(row.key);
        if (!found) {
          const id = uuidv7();
          creates.push({ id, ...row.values });
          outcome.created.push({ rowNumber: row.rowNumber, id });
          continue;
        }
        if (!contains(jurisdiction, found.orgUnitCode)) {
          outcome.rejections.push({ rowNumber: row.rowNumber, name: row.values.name, reasons: ["该帮扶人已由您管辖范围以外的单位登记，请联系乡镇管理员修改"] });
          continue;
        }
        if (row.values.capacity < found.active) {
          outcome.rejections.push({
            rowNumber: row.rowNumber,
            name: row.values.name,
            reasons: [`可帮扶人数：该帮扶人已结对${found.active}名儿童，帮扶人数不能少于${found.active}`],
          });
          continue;
        }
        // Username and birth date are kept when the list leaves them out.
        const { username: _username, birthDate, ...values } = row.values;
        await tx.helper.update({
          where: { id: found.id },
          data: { ...values, ...(birthDate ? { birthDate: new Date(`${birthDate}T00:00:00Z`) } : {}) },
        });
        outcome.updated.push({ rowNumber: row.rowNumber, id: found.id });
      }
      if (creates.length > 0) {
        await tx.helper.createMany({
          data: creates.map((c) => ({ ...c, birthDate: c.birthDate ? new Date(`${c.birthDate}T00:00:00Z`) : null })),
        });
      }
      if (outcome.created.length + outcome.updated.length > 0) {
        // New or changed helpers may be exactly who unpaired children were waiting for.
        await requestMatchingIn(tx, townships, "helper");
      }
    },
    { timeout: 60_000 },
  );
  return outcome;
}
