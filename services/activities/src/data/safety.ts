import { v7 as uuidv7 } from "uuid";
import { NotFoundError, ValidationError } from "@shouhu/kit";
import { overlaps } from "@shouhu/contracts";
import type { PrismaClient, Tx } from "./db.js";
import type { Staff } from "../access.js";
import type { CampaignInput } from "../domain/homes.js";

type Db = Pick<Tx, "$queryRawUnsafe" | "$executeRawUnsafe">;

/** Whose children the caller reaches: their org unit, and a teacher (not also a case worker) their own school's. */
export interface ReachScope {
  orgUnit: string;
  schoolId: string | null;
}

export interface CampaignRow {
  id: string;
  title: string;
  topic: string;
  description: string | null;
  orgUnit: string;
  orgUnitName: string | null;
  deadline: string;
  createdName: string;
  total: number;
  reached: number;
}

/** The campaign's children the caller sees: active, inside the campaign's unit and the caller's (and school, for a teacher). */
const inView = (campaignUnit: string, callerUnit: string, school: string) =>
  `c.status = 'active' AND c.village_code LIKE ${campaignUnit} || '%' AND c.village_code LIKE ${callerUnit} || '%' AND (${school}::text IS NULL OR c.school_id = ${school})`;
/** $1 campaign unit, $2 caller unit, $3 school. */
const CHILDREN_IN_VIEW = inView("$1", "$2", "$3");

export async function createCampaign(prisma: PrismaClient, input: CampaignInput, by: Staff): Promise<string> {
  const id = uuidv7();
  await prisma.$executeRawUnsafe(
    `INSERT INTO safety_campaigns (id, title, topic, description, org_unit, deadline, created_by, created_name) VALUES ($1::uuid, $2, $3, $4, $5, $6::date, $7, $8)`,
    id,
    input.title,
    input.topic,
    input.description ?? null,
    input.orgUnit,
    input.deadline,
    by.userId,
    by.name,
  );
  return id;
}

const CAMPAIGN_COLUMNS = `k.id, k.title, k.topic, k.description, k.org_unit AS "orgUnit", o.name AS "orgUnitName", to_char(k.deadline, 'YYYY-MM-DD') AS deadline,
  k.created_name AS "createdName",
  (SELECT count(*)::int FROM children c WHERE ${inView("k.org_unit", "$1", "$2")}) AS total,
  (SELECT count(*)::int FROM children c JOIN safety_reach r ON r.child_id = c.id AND r.campaign_id = k.id WHERE ${inView("k.org_unit", "$1", "$2")}) AS reached`;

/** Campaigns set for the caller's area or above it (a county campaign is every township's work), newest deadline first. */
export async function listCampaigns(db: Db, scope: ReachScope): Promise<CampaignRow[]> {
  const rows = await db.$queryRawUnsafe<CampaignRow[]>(
    `SELECT ${CAMPAIGN_COLUMNS} FROM safety_campaigns k LEFT JOIN org_units o ON o.code = k.org_unit
      WHERE (k.org_unit LIKE $1 || '%' OR $1 LIKE k.org_unit || '%') ORDER BY k.deadline DESC, k.created_at DESC LIMIT 200`,
    scope.orgUnit,
    scope.schoolId,
  );
  return rows;
}

/** One campaign the caller's area overlaps; 404 otherwise. */
export async function campaignInView(db: Db, scope: ReachScope, id: string): Promise<CampaignRow> {
  const [row] = await db.$queryRawUnsafe<CampaignRow[]>(
    `SELECT ${CAMPAIGN_COLUMNS} FROM safety_campaigns k LEFT JOIN org_units o ON o.code = k.org_unit WHERE k.id = $3::uuid`,
    scope.orgUnit,
    scope.schoolId,
    id,
  );
  if (!row || !overlaps(row.orgUnit, scope.orgUnit)) throw new NotFoundError("安全专题教育", id);
  return row;
}

export interface ProgressGroup {
  /** village code, or school id */
  code: string;
  name: string | null;
  total: number;
  reached: number;
}

/** Reached / total per village and per school, within the caller's view. */
export async function progress(db: Db, scope: ReachScope, campaign: CampaignRow): Promise<{ villages: ProgressGroup[]; schools: ProgressGroup[] }> {
  const group = (key: string, name: string) =>
    db.$queryRawUnsafe<ProgressGroup[]>(
      `SELECT ${key} AS code, ${name} AS name, count(*)::int AS total, count(r.child_id)::int AS reached
         FROM children c LEFT JOIN safety_reach r ON r.child_id = c.id AND r.campaign_id = $4::uuid
        WHERE ${CHILDREN_IN_VIEW} GROUP BY 1, 2 ORDER BY 1`,
      campaign.orgUnit,
      scope.orgUnit,
      scope.schoolId,
      campaign.id,
    );
  return {
    villages: await group("c.village_code", "(SELECT name FROM org_units WHERE code = c.village_code)"),
    schools: await group("COALESCE(c.school_id, '')", "NULL::text"),
  };
}

export interface CampaignChild {
  id: string;
  name: string;
  villageCode: string;
  schoolId: string | null;
  reachedOn: string | null;
}

/** The campaign's children in the caller's view with the day each was reached (null: not yet). */
export async function campaignChildren(db: Db, scope: ReachScope, campaign: CampaignRow, onlyUnreached: boolean): Promise<CampaignChild[]> {
  return db.$queryRawUnsafe<CampaignChild[]>(
    `SELECT c.id, c.name, c.village_code AS "villageCode", c.school_id AS "schoolId", to_char(r.date, 'YYYY-MM-DD') AS "reachedOn"
       FROM children c LEFT JOIN safety_reach r ON r.child_id = c.id AND r.campaign_id = $4::uuid
      WHERE ${CHILDREN_IN_VIEW} AND (NOT $5::boolean OR r.child_id IS NULL)
      ORDER BY c.village_code, c.school_id NULLS LAST, c.name LIMIT 5000`,
    campaign.orgUnit,
    scope.orgUnit,
    scope.schoolId,
    campaign.id,
    onlyUnreached,
  );
}

/** Records children reached (each only once: a repeat keeps the first day); 400 on childIds when any is not in the caller's view of the campaign. */
export async function recordReach(
  prisma: PrismaClient,
  scope: ReachScope,
  campaign: CampaignRow,
  input: { date: string; childIds: string[] },
  by: Staff,
): Promise<{ recorded: number; already: number }> {
  const ids = [...new Set(input.childIds.map((i) => i.toLowerCase()))];
  return prisma.$transaction(async (tx) => {
    const [{ n } = { n: 0 }] = await tx.$queryRawUnsafe<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM children c WHERE c.id = ANY($4::uuid[]) AND ${CHILDREN_IN_VIEW}`,
      campaign.orgUnit,
      scope.orgUnit,
      scope.schoolId,
      ids,
    );
    if (n !== ids.length) throw ValidationError.field("childIds", `有${ids.length - n}名儿童不在本次专题教育和您负责的范围内`);
    const recorded = await tx.$executeRawUnsafe(
      `INSERT INTO safety_reach (campaign_id, child_id, date, recorded_by, recorded_name)
       SELECT $1::uuid, unnest($2::uuid[]), $3::date, $4, $5 ON CONFLICT DO NOTHING`,
      campaign.id,
      ids,
      input.date,
      by.userId,
      by.name,
    );
    return { recorded, already: ids.length - recorded };
  });
}
