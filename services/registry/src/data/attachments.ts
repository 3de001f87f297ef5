import { v7 as uuidv7 } from "uuid";
import type { AttachmentRowBase, StoredFile } from "@shouhu/attachments";
import type { ChildAttachmentKind } from "@shouhu/auth";
import type { PrismaClient } from "./db.js";

export interface AttachmentRow extends AttachmentRowBase {
  childId: string;
  kind: string;
  note: string | null;
  deletedByName: string | null;
  deleteReason: string | null;
}

export async function addAttachment(
  prisma: PrismaClient,
  input: { childId: string; kind: ChildAttachmentKind; stored: StoredFile; note: string | null; by: { id: string; name: string | null }; expiresAt: Date },
): Promise<AttachmentRow> {
  const { stored } = input;
  return prisma.childAttachment.create({
    data: {
      id: uuidv7(),
      childId: input.childId,
      kind: input.kind,
      fileName: stored.fileName,
      contentType: stored.contentType,
      size: stored.size,
      sha256: stored.sha256,
      objectKey: stored.key,
      thumbnailKey: stored.thumbnailKey,
      note: input.note,
      uploadedBy: input.by.id,
      uploadedByName: input.by.name,
      expiresAt: input.expiresAt,
    },
  });
}

/** A child's attachments of the given kinds, newest first; removed ones too when asked (the file's history). */
export async function listAttachments(prisma: PrismaClient, childId: string, kinds: string[], withDeleted: boolean): Promise<AttachmentRow[]> {
  return prisma.childAttachment.findMany({
    where: { childId, kind: { in: kinds }, ...(withDeleted ? {} : { deletedAt: null }) },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: 500,
  });
}

export async function findAttachment(prisma: PrismaClient, childId: string, id: string): Promise<AttachmentRow | null> {
  return prisma.childAttachment.findFirst({ where: { id, childId } });
}

/** Soft delete: hidden from the file, kept (who, when, why) until its retention ends. */
export async function removeAttachment(
  prisma: PrismaClient,
  id: string,
  by: { id: string; name: string | null },
  reason: string | null,
  at: Date,
): Promise<AttachmentRow | null> {
  const { count } = await prisma.childAttachment.updateMany({
    where: { id, deletedAt: null },
    data: { deletedAt: at, deletedBy: by.id, deletedByName: by.name, deleteReason: reason },
  });
  return count ? prisma.childAttachment.findUnique({ where: { id } }) : null;
}

/** Attachments past their retention: up to `limit`, oldest first. */
export async function expiredAttachments(prisma: PrismaClient, now: Date, limit: number): Promise<Pick<AttachmentRow, "id" | "objectKey" | "thumbnailKey">[]> {
  return prisma.childAttachment.findMany({
    where: { expiresAt: { lte: now } },
    orderBy: { expiresAt: "asc" },
    take: limit,
    select: { id: true, objectKey: true, thumbnailKey: true },
  });
}

export async function deleteAttachmentRows(prisma: PrismaClient, ids: string[]): Promise<number> {
  const { count } = await prisma.childAttachment.deleteMany({ where: { id: { in: ids } } });
  return count;
}
