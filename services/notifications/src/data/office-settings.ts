import type { SqlTx } from "@shouhu/messaging";
import { countyOf, townshipOf } from "@shouhu/contracts";
import { parseQuietHours, type QuietHours } from "../domain/quiet-hours.js";
import type { PrismaClient } from "./db.js";

type Db = Pick<SqlTx, "$queryRawUnsafe">;

/**
 * The quiet hours that hold for a message about `orgUnit` (a village, township or county
 * code): its township's own, else its county's, else the deployment's default (QUIET_HOURS).
 */
export async function quietHoursAt(db: Db, orgUnit: string, fallback: QuietHours): Promise<QuietHours> {
  const offices = [...new Set([townshipOf(orgUnit), countyOf(orgUnit)])];
  const rows = await db.$queryRawUnsafe<{ orgUnit: string; quietHours: string }[]>(
    `SELECT org_unit AS "orgUnit", quiet_hours AS "quietHours" FROM office_settings WHERE org_unit = ANY($1::text[]) AND quiet_hours IS NOT NULL
      ORDER BY length(org_unit) DESC LIMIT 1`,
    offices,
  );
  return rows[0] ? parseQuietHours(rows[0].quietHours) : fallback;
}

export interface OfficeView {
  orgUnit: string;
  /** The office's own setting; null where it takes its county's or the default. */
  quietHours: string | null;
  /** What holds for the office's messages, and where it comes from. */
  effective: { quietHours: string | null; from: "office" | "county" | "default" };
  channels: { kind: string; host: string; signed: boolean; updatedAt: string }[];
}

const spec = (q: QuietHours) => `${hhmm(q.start)}-${hhmm(q.end)}`;
const hhmm = (minutes: number) => `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;

/** An office's settings as its staff see them: robot hosts only (a webhook URL carries its access key). */
export async function officeView(prisma: PrismaClient, orgUnit: string, fallback: QuietHours): Promise<OfficeView> {
  const [own, county, channels] = await Promise.all([
    prisma.officeSetting.findUnique({ where: { orgUnit } }),
    orgUnit !== countyOf(orgUnit) ? prisma.officeSetting.findUnique({ where: { orgUnit: countyOf(orgUnit) } }) : null,
    prisma.officeChannel.findMany({ where: { orgUnit }, orderBy: { kind: "asc" } }),
  ]);
  const effective: OfficeView["effective"] = own?.quietHours
    ? { quietHours: own.quietHours, from: "office" }
    : county?.quietHours
      ? { quietHours: county.quietHours, from: "county" }
      : { quietHours: fallback.start === fallback.end ? null : spec(fallback), from: "default" };
  return {
    orgUnit,
    quietHours: own?.quietHours ?? null,
    effective,
    channels: channels.map((c) => ({ kind: c.kind, host: new URL(c.url).host, signed: Boolean(c.secret), updatedAt: c.updatedAt.toISOString() })),
  };
}

export async function setQuietHours(prisma: PrismaClient, orgUnit: string, quietHours: string | null, by: string): Promise<void> {
  await prisma.officeSetting.upsert({ where: { orgUnit }, create: { orgUnit, quietHours, updatedBy: by }, update: { quietHours, updatedBy: by } });
}

/** Removes an office's robot; false when there was none. */
export async function removeOfficeChannel(prisma: PrismaClient, orgUnit: string, kind: string): Promise<boolean> {
  return (await prisma.officeChannel.deleteMany({ where: { orgUnit, kind } })).count > 0;
}
