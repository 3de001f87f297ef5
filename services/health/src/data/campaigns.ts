import { v7 as uuidv7 } from "uuid";
import { NotFoundError } from "@shouhu/kit";
import { overlaps } from "@shouhu/contracts";
import type { PrismaClient } from "./db.js";
import type { CoverageRow, FlagRow } from "../domain/coverage.js";

type CampaignRow = Awaited<ReturnType<PrismaClient["campaign"]["findUniqueOrThrow"]>>;
export type Campaign = ReturnType<typeof campaignView>;

/** Dates as calendar days, the way they were entered. */
function campaignView(c: CampaignRow) {
  return { ...c, startDate: c.startDate.toISOString().slice(0, 10), endDate: c.endDate.toISOString().slice(0, 10) };
}

export async function createCampaign(
  prisma: PrismaClient,
  input: { name: string; orgUnits: string[]; startDate: string; endDate: string; provider: string },
  createdBy: string,
): Promise<Campaign> {
  const row = await prisma.campaign.create({
    data: { id: uuidv7(), ...input, startDate: new Date(`${input.startDate}T00:00:00Z`), endDate: new Date(`${input.endDate}T00:00:00Z`), createdBy },
  });
  return campaignView(row);
}

/** Campaigns that cover something inside the caller's area, or whose area holds the caller's. */
export async function listCampaigns(prisma: PrismaClient, orgUnit: string): Promise<Campaign[]> {
  const all = await prisma.campaign.findMany({ orderBy: { startDate: "desc" }, take: 200 });
  return all.filter((c) => c.orgUnits.some((u) => overlaps(orgUnit, u))).map(campaignView);
}

/** One campaign, 404 when it does not exist or lies outside the caller's area (no existence oracle). */
export async function campaignFor(prisma: PrismaClient, id: string, orgUnit: string): Promise<Campaign> {
  const campaign = await prisma.campaign.findUnique({ where: { id } });
  if (!campaign || !campaign.orgUnits.some((u) => overlaps(orgUnit, u))) throw new NotFoundError("体检活动", id);
  return campaignView(campaign);
}

const covered = (c: Campaign) => c.orgUnits.map((u) => `${u}%`);

/** Children in scope and examined per village, and findings per village and kind, within the caller's area. */
export async function coverage(prisma: PrismaClient, c: Campaign, orgUnit: string): Promise<{ rows: CoverageRow[]; flags: FlagRow[] }> {
  const rows = await prisma.$queryRawUnsafe<CoverageRow[]>(
    `SELECT c.village_code AS "villageCode", count(*)::int AS "inScope", count(e.id)::int AS examined
       FROM children c LEFT JOIN exams e ON e.child_id = c.id AND e.campaign_id = $1::uuid
      WHERE c.status = 'active' AND c.village_code LIKE ANY($2::text[]) AND c.village_code LIKE $3 || '%'
      GROUP BY 1 ORDER BY 1`,
    c.id,
    covered(c),
    orgUnit,
  );
  const flags = await prisma.$queryRawUnsafe<FlagRow[]>(
    `SELECT c.village_code AS "villageCode", f->>'kind' AS kind, count(*)::int AS n
       FROM exams e JOIN children c ON c.id = e.child_id, jsonb_array_elements(e.flags) f
      WHERE e.campaign_id = $1::uuid AND c.status = 'active' AND c.village_code LIKE $2 || '%' GROUP BY 1, 2`,
    c.id,
    orgUnit,
  );
  return { rows, flags };
}

/** Active children in the campaign's and the caller's area not yet examined in it. */
export async function missedChildren(prisma: PrismaClient, c: Campaign, orgUnit: string): Promise<{ id: string; name: string; villageCode: string }[]> {
  return prisma.$queryRawUnsafe(
    `SELECT c.id, c.name, c.village_code AS "villageCode" FROM children c
      WHERE c.status = 'active' AND c.village_code LIKE ANY($2::text[]) AND c.village_code LIKE $3 || '%'
        AND NOT EXISTS (SELECT 1 FROM exams e WHERE e.child_id = c.id AND e.campaign_id = $1::uuid)
      ORDER BY c.village_code, c.name`,
    c.id,
    covered(c),
    orgUnit,
  );
}

/** The roster to fill in: active children in the campaign's and the caller's area. */
export async function rosterChildren(
  prisma: PrismaClient,
  c: Campaign,
  orgUnit: string,
): Promise<{ id: string; name: string; sex: string; birthDate: string; village: string }[]> {
  return prisma.$queryRawUnsafe(
    `SELECT id, name, sex, to_char(birth_date, 'YYYY-MM-DD') AS "birthDate", village_code AS village FROM children
      WHERE status = 'active' AND village_code LIKE ANY($1::text[]) AND village_code LIKE $2 || '%' ORDER BY village_code, name`,
    covered(c),
    orgUnit,
  );
}

export interface RosterEntry {
  id: string;
  name: string;
  sex: "male" | "female";
  birthDate: string;
  villageCode: string;
  /** done: examined in this campaign; due: not yet, campaign still running; missed: not examined and the campaign is over. */
  status: "done" | "due" | "missed";
  exam: Record<string, unknown> | null;
}

/** The campaign's children in the caller's area with their exam in it, if any (the results grid's rows). */
export async function rosterWithExams(prisma: PrismaClient, c: Campaign, orgUnit: string, today: string): Promise<RosterEntry[]> {
  const rows = await prisma.$queryRawUnsafe<(Omit<RosterEntry, "status"> & { examined: boolean })[]>(
    `SELECT c.id, c.name, c.sex, to_char(c.birth_date, 'YYYY-MM-DD') AS "birthDate", c.village_code AS "villageCode", e.id IS NOT NULL AS examined,
            CASE WHEN e.id IS NULL THEN NULL ELSE jsonb_build_object(
              'id', e.id, 'date', to_char(e.date, 'YYYY-MM-DD'), 'examiner', e.examiner, 'heightCm', e.height_cm::float, 'weightKg', e.weight_kg::float,
              'visionLeft', e.vision_left::float, 'visionRight', e.vision_right::float, 'hemoglobin', e.hemoglobin, 'caries', e.caries,
              'bpSystolic', e.bp_systolic, 'bpDiastolic', e.bp_diastolic, 'bmi', e.bmi::float, 'flags', e.flags) END AS exam
       FROM children c LEFT JOIN exams e ON e.child_id = c.id AND e.campaign_id = $1::uuid
      WHERE c.status = 'active' AND c.village_code LIKE ANY($2::text[]) AND c.village_code LIKE $3 || '%'
      ORDER BY c.village_code, c.name LIMIT 5000`,
    c.id,
    covered(c),
    orgUnit,
  );
  return rows.map(({ examined, ...r }) => ({ ...r, status: examined ? "done" : c.endDate < today ? "missed" : "due" }));
}
