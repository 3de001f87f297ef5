import { v7 as uuidv7 } from "uuid";
import type { PrismaClient } from "./db.js";

export type ImportBatchRow = NonNullable<Awaited<ReturnType<PrismaClient["importBatch"]["findUnique"]>>>;

export async function findBatch(prisma: PrismaClient, id: string): Promise<ImportBatchRow | null> {
  return prisma.importBatch.findUnique({ where: { id } });
}

/** The batch of the same file uploaded before by the same org unit (an upload is idempotent by content). */
export async function findBatchOfFile(prisma: PrismaClient, sha256: string, orgUnit: string): Promise<ImportBatchRow | null> {
  return prisma.importBatch.findUnique({ where: { fileSha256_orgUnit: { fileSha256: sha256, orgUnit } } });
}

/** A failed batch uploaded again: queued anew with the file. */
export async function requeueBatch(prisma: PrismaClient, id: string, content: Uint8Array<ArrayBuffer>): Promise<ImportBatchRow> {
  return prisma.importBatch.update({ where: { id }, data: { status: "queued", error: null, file: { upsert: { create: { content }, update: { content } } } } });
}

export async function createBatch(
  prisma: PrismaClient,
  b: {
    sha256: string;
    fileName: string;
    orgUnit: string;
    createdBy: string;
    createdByName: string;
    content: Uint8Array<ArrayBuffer>;
    mode?: "create" | "update";
  },
): Promise<ImportBatchRow> {
  return prisma.importBatch.create({
    data: {
      id: uuidv7(),
      fileSha256: b.sha256,
      fileName: b.fileName,
      orgUnit: b.orgUnit,
      status: "queued",
      mode: b.mode ?? "create",
      createdBy: b.createdBy,
      createdByName: b.createdByName,
      file: { create: { content: b.content } },
    },
  });
}

/** The latest batches uploaded within the org unit. */
export async function recentBatches(prisma: PrismaClient, orgUnit: string): Promise<ImportBatchRow[]> {
  return prisma.importBatch.findMany({ where: { orgUnit: { startsWith: orgUnit } }, orderBy: { createdAt: "desc" }, take: 50 });
}

/** A batch's rejected rows in file order, keyset paged; limit + 1 rows tell whether more follow. */
export async function rejectionsPage(prisma: PrismaClient, batchId: string, cursor: string | number | undefined, limit: number) {
  return prisma.importRejection.findMany({ where: { batchId, ...(cursor ? { id: { gt: BigInt(cursor) } } : {}) }, orderBy: { id: "asc" }, take: limit + 1 });
}
