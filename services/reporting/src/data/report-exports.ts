import type { PrismaClient } from "./db.js";

export interface SchoolFigures {
  schoolId: string;
  schoolName: string | null;
  children: number;
  mentored: number;
  examined: number;
}

/** Per school within the org unit: active children, with an active mentor, examined in the year (from the rows: a township is a few thousand children). */
export async function figuresBySchool(prisma: PrismaClient, orgUnit: string, year: string): Promise<SchoolFigures[]> {
  return prisma.$queryRawUnsafe<SchoolFigures[]>(
    `SELECT c.school_id AS "schoolId", s.name AS "schoolName", count(*)::int AS children,
          count(*) FILTER (WHERE EXISTS (SELECT 1 FROM pairings p WHERE p.child_id = c.id AND p.kind = 'mentor' AND p.state = 'active'))::int AS mentored,
          count(*) FILTER (WHERE EXISTS (SELECT 1 FROM checkups k WHERE k.child_id = c.id AND to_char(k.date, 'YYYY') = $2))::int AS examined
     FROM children c LEFT JOIN schools s ON s.id = c.school_id
    WHERE c.status = 'active' AND c.village_code LIKE $1 || '%'
    GROUP BY 1, 2 ORDER BY 1`,
    orgUnit,
    year,
  );
}

export async function createReportExport(prisma: PrismaClient, j: { id: string; report: string; orgUnit: string; requestedBy: string }): Promise<void> {
  await prisma.exportJob.create({ data: { ...j, status: "queued" } });
}

/** An export's state, without its file. */
export async function reportExportState(prisma: PrismaClient, id: string) {
  return prisma.exportJob.findUnique({ where: { id }, omit: { file: true } });
}

export async function reportExportWithFile(prisma: PrismaClient, id: string) {
  return prisma.exportJob.findUnique({ where: { id } });
}
