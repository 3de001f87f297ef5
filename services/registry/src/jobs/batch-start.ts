import { SpreadsheetLimitError, inspectXlsx } from "@shouhu/spreadsheet";
import { UnrecoverableError } from "bullmq";
import { countyOf } from "@shouhu/contracts";
import type { PrismaClient } from "../data/db.js";
import type { ResolverData } from "./import-resolvers.js";

type BatchWithFile = NonNullable<Awaited<ReturnType<typeof loadBatch>>>;

const loadBatch = (prisma: PrismaClient, batchId: string) => prisma.importBatch.findUnique({ where: { id: batchId }, include: { file: true } });

/**
 * How the jobs that read an uploaded register start (the import and the re-import preview):
 * the batch with its file, or `done` when a previous run already finished it (a redelivered job).
 * A file over a limit (a bomb, a whole-sheet merge) fails the batch at once with the reason and is
 * never retried, before anything parses it — a crash while parsing would re-queue it without end.
 * Otherwise the batch is marked running from nothing (a retried job starts its count again).
 */
export async function startBatch(
  prisma: PrismaClient,
  batchId: string,
  doneStatuses: readonly string[],
): Promise<{ done: true; batch: BatchWithFile } | { done: false; batch: BatchWithFile; file: Uint8Array }> {
  const batch = await loadBatch(prisma, batchId);
  if (!batch) throw new Error(`import batch ${batchId} not found`);
  if (doneStatuses.includes(batch.status)) return { done: true, batch };
  if (!batch.file) throw new Error(`import batch ${batchId} has no file`);
  const file = new Uint8Array(batch.file.content); // our own copy, transferable to a worker thread
  try {
    inspectXlsx(file);
  } catch (err) {
    if (!(err instanceof SpreadsheetLimitError)) throw err;
    await prisma.importBatch.update({ where: { id: batchId }, data: { status: "failed", error: err.message, finishedAt: new Date() } });
    throw new UnrecoverableError(err.message);
  }
  await prisma.importBatch.update({ where: { id: batchId }, data: { status: "running", startedAt: new Date(), processedRows: 0, error: null } });
  return { done: false, batch, file };
}

/** The county's villages, townships and schools a register's rows are resolved against. */
export async function loadResolverData(prisma: PrismaClient, orgUnit: string): Promise<ResolverData> {
  const county = countyOf(orgUnit);
  // Retired units and schools take no new children (a merged village's rows name the one it went into).
  const units = await prisma.orgUnit.findMany({ where: { code: { startsWith: county }, retiredAt: null } });
  const schools = await prisma.school.findMany({ where: { townshipCode: { startsWith: county }, retiredAt: null }, select: { id: true, name: true } });
  return {
    villages: units.filter((u) => u.level === "village").map((u) => ({ code: u.code, name: u.name, parentCode: u.parentCode })),
    townships: Object.fromEntries(units.filter((u) => u.level === "township").map((u) => [u.code, u.name])),
    schools,
  };
}

/** Every school's name by id (a row's school as the child record shows it). */
export async function schoolNames(prisma: PrismaClient): Promise<Record<string, string>> {
  return Object.fromEntries((await prisma.school.findMany({ select: { id: true, name: true } })).map((s) => [s.id, s.name]));
}
