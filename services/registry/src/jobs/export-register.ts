import type { Prisma, PrismaClient } from "../data/db.js";
import { countyOf } from "@shouhu/contracts";
import { childInclude, toChildRecord } from "../data/child-mapper.js";
import type { ChildRecord } from "../domain/child-record.js";
import { childView } from "@shouhu/auth";
import type { Role } from "@shouhu/contracts";
import { presentChild } from "../domain/present.js";
import { z } from "zod";
import { defineJob } from "./job-definitions.js";

export const EXPORT_JOB = "export-register";
/** The register export on the export queue (the handover pack is the other job there). */
export const exportRegisterJob = defineJob({ id: EXPORT_JOB, schema: z.object({ exportId: z.uuid() }) });

/** Writes children to an .xlsx (same columns as the import template); injected. */
export type WriteRegister = (children: AsyncIterable<ChildRecord>, options: { title: string; placeNames?: Map<string, string> }) => Promise<Buffer>;

interface StoredFilters {
  orgUnit: string;
  leftBehindType?: string;
  difficultyCategory?: string;
  riskLevel?: string;
  status?: string;
  schoolId?: string;
  /** The requester's roles: the export holds what the need-to-know table gives them, as the API would. */
  roles?: Role[];
}

function whereOf(f: StoredFilters): Prisma.ChildWhereInput {
  return {
    villageCode: { startsWith: f.orgUnit },
    ...(f.leftBehindType ? { leftBehindType: f.leftBehindType } : {}),
    ...(f.difficultyCategory ? { difficultyCategories: { has: f.difficultyCategory } } : {}),
    ...(f.riskLevel ? { riskLevel: f.riskLevel } : {}),
    ...(f.status ? { status: f.status } : {}),
    ...(f.schoolId ? { schoolId: f.schoolId } : {}),
  };
}

/**
 * Most children a download's audit row names one by one (~40 bytes each in the audit
 * header, well under the gateway's 1 MiB header limit); a bigger export is audited by
 * its id and child count, and the export row still says which filters made it.
 */
export const AUDIT_NAMED_MAX = 5_000;

/** Streams the matching children page by page into the workbook, updating progress. */
export async function runExport(prisma: PrismaClient, write: WriteRegister, exportId: string): Promise<void> {
  const job = await prisma.exportJob.findUnique({ where: { id: exportId }, omit: { content: true } });
  if (!job || job.status === "completed") return;
  const filters = job.filters as unknown as StoredFilters;
  const where = whereOf(filters);
  const totalRows = await prisma.child.count({ where });
  await prisma.exportJob.update({ where: { id: exportId }, data: { status: "running", totalRows, doneRows: 0 } });
  const units = await prisma.orgUnit.findMany({ where: { code: { startsWith: countyOf(filters.orgUnit) } } });
  const placeNames = new Map(units.map((u) => [u.code, u.name]));
  // An export from before roles were stored gets the narrowest view, not the widest.
  const view = childView({ roles: filters.roles ?? [] });

  const childIds: string[] = [];
  async function* pages(): AsyncIterable<ChildRecord> {
    let cursor: string | undefined;
    let done = 0;
    for (;;) {
      const rows = await prisma.child.findMany({
        where: { ...where, ...(cursor ? { id: { gt: cursor } } : {}) },
        include: childInclude,
        orderBy: { id: "asc" },
        take: 1000,
      });
      if (rows.length === 0) return;
      cursor = rows[rows.length - 1]!.id;
      for (const row of rows) {
        if (totalRows <= AUDIT_NAMED_MAX) childIds.push(row.id);
        yield presentChild(toChildRecord(row), view);
      }
      done += rows.length;
      await prisma.exportJob.update({ where: { id: exportId }, data: { doneRows: done } });
    }
  }

  const content = await write(pages(), { title: `${placeNames.get(filters.orgUnit) ?? filters.orgUnit}农村留守儿童信息登记表`, placeNames });
  await prisma.exportJob.update({
    where: { id: exportId },
    data: {
      status: "completed",
      content: new Uint8Array(content),
      doneRows: totalRows,
      finishedAt: new Date(),
      childIds: childIds.length <= AUDIT_NAMED_MAX ? childIds : [],
    },
  });
}

/** Export files are kept this long after they are made, then deleted (EXPORT_TTL_HOURS, default 24). */
export const EXPORT_TTL_MS = 24 * 3600 * 1000;
export const PURGE_EXPORTS_JOB = "purge-exports";

/** When an export stops being downloadable. */
export function exportExpiresAt(job: { createdAt: Date; finishedAt: Date | null }, ttlMs = EXPORT_TTL_MS): Date {
  return new Date((job.finishedAt ?? job.createdAt).getTime() + ttlMs);
}

/** Deletes exports past their time, file and record; returns how many. */
export async function purgeExpiredExports(prisma: PrismaClient, now: Date, ttlMs = EXPORT_TTL_MS): Promise<number> {
  const cutoff = new Date(now.getTime() - ttlMs);
  const { count } = await prisma.exportJob.deleteMany({ where: { OR: [{ finishedAt: { lt: cutoff } }, { finishedAt: null, createdAt: { lt: cutoff } }] } });
  return count;
}
