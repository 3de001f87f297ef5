import { v7 as uuidv7 } from "uuid";
import type { Prisma, PrismaClient } from "./db.js";

export async function createExportJob(
  prisma: PrismaClient,
  j: { filters: Prisma.InputJsonValue; orgUnit: string; createdBy: string; kind?: "register" | "handover"; totalRows?: number },
) {
  return prisma.exportJob.create({
    data: {
      id: uuidv7(),
      status: "queued",
      filters: j.filters,
      orgUnit: j.orgUnit,
      createdBy: j.createdBy,
      kind: j.kind ?? "register",
      totalRows: j.totalRows ?? 0,
    },
  });
}

/** An export's state, without its file and the ids it holds. */
export async function exportJobState(prisma: PrismaClient, id: string) {
  return prisma.exportJob.findUnique({ where: { id }, omit: { content: true, childIds: true } });
}

/** An export with its file, for the download. */
export async function exportJobWithFile(prisma: PrismaClient, id: string) {
  return prisma.exportJob.findUnique({ where: { id } });
}
