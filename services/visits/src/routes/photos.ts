import { z } from "zod";
import { MB, expiresAt, readUpload, sendObject, type AttachmentPolicy, type AttachmentStore } from "@shouhu/attachments";
import { recordAccess, type Principal } from "@shouhu/auth";
import { contains } from "@shouhu/contracts";
import { ForbiddenError, NotFoundError, markAudit, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { addPhoto, findPhoto, listPhotos, photoRecord, removePhoto, type PhotoRecord, type PhotoRow } from "../data/photos.js";

export interface PhotoRoutesDeps {
  prisma: PrismaClient;
  store: AttachmentStore;
  now: () => Date;
}

/** Photos of a home visit: JPEG/PNG/WebP up to 15 MB, kept two years like the child's photos. */
const VISIT_PHOTO_POLICY: AttachmentPolicy = { accepts: "photo", maxBytes: 15 * MB, retentionDays: 2 * 365 };

const RecordParams = z.object({ id: z.uuid({ message: "走访记录编号格式不正确" }) });
const PhotoParams = RecordParams.extend({ photoId: z.uuid({ message: "照片编号格式不正确" }) });
const DeleteBody = z.object({ reason: z.string().trim().max(200, { message: "删除原因不能超过 200 字" }).optional() }).nullish();

const PhotoResponse = z.object({
  id: z.uuid(),
  recordId: z.uuid(),
  childId: z.uuid(),
  fileName: z.string(),
  contentType: z.string(),
  size: z.number().int(),
  uploadedBy: z.object({ id: z.string(), name: z.string().nullable() }),
  createdAt: z.string(),
  expiresAt: z.string(),
  fileUrl: z.string(),
  thumbnailUrl: z.string().nullable(),
});

function present(p: PhotoRow): z.infer<typeof PhotoResponse> {
  const base = `/api/v1/visit-records/${p.recordId}/photos/${p.id}`;
  return {
    id: p.id,
    recordId: p.recordId,
    childId: p.childId,
    fileName: p.fileName,
    contentType: p.contentType,
    size: p.size,
    uploadedBy: { id: p.uploadedBy, name: p.uploadedByName },
    createdAt: p.createdAt.toISOString(),
    expiresAt: p.expiresAt.toISOString(),
    fileUrl: `${base}/file`,
    thumbnailUrl: p.thumbnailKey ? `${base}/thumbnail` : null,
  };
}

/**
 * The record, if the caller sees its narrative — and photos are narrative: roles whose
 * visit-record access is "all" within their jurisdiction, a teacher for the records of
 * children paired to them and their own; inspectors ("date, kind, on time") and health
 * workers see none. Anything else answers 404.
 */
function visibleRecord(principal: Principal, record: PhotoRecord | null, id: string): PhotoRecord {
  const access = recordAccess(principal, "visitRecords");
  const inside = record && contains(principal.orgUnit, record.villageCode);
  const sees =
    inside &&
    (access === "all" || (access === "own-and-paired" && (record.visitorUserId === principal.userId || record.helperUsername === principal.username)));
  if (!record || !sees) throw new NotFoundError("走访记录", id);
  return record;
}

export function registerPhotoRoutes(app: ServiceApp, deps: PhotoRoutesDeps): void {
  const { prisma, store } = deps;
  const record = async (principal: Principal, id: string) => visibleRecord(principal, await photoRecord(prisma, id), id);

  app.post(
    "/api/v1/visit-records/:id/photos",
    {
      schema: {
        tags: ["visits"],
        summary: "上传走访照片",
        description: "multipart/form-data，字段 file；按文件内容识别，只收 JPEG/PNG/WebP，不超过 15 MB；去除 EXIF 和 GPS 并生成缩略图。",
        params: RecordParams,
        response: { 201: PhotoResponse },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const r = await record(principal, request.params.id);
      // The visitor adds the visit's photos; case workers who see every record may too.
      if (r.visitorUserId !== principal.userId && recordAccess(principal, "visitRecords") !== "all") throw new ForbiddenError("只有走访人可以为该记录上传照片");
      const stored = await readUpload(request, { store, prefix: `visits/${r.id}`, policy: VISIT_PHOTO_POLICY });
      const row = await addPhoto(prisma, {
        record: r,
        stored,
        by: { id: principal.userId, name: principal.name ?? null },
        expiresAt: expiresAt(VISIT_PHOTO_POLICY, deps.now()),
      }).catch(async (err: unknown) => {
        await store.remove([stored.key, ...(stored.thumbnailKey ? [stored.thumbnailKey] : [])]).catch(() => undefined);
        throw err;
      });
      markAudit(reply, "attachment-upload", [r.childId]);
      return reply.status(201).send(present(row));
    },
  );

  app.get(
    "/api/v1/visit-records/:id/photos",
    { schema: { tags: ["visits"], summary: "走访照片列表", params: RecordParams, response: { 200: z.object({ items: z.array(PhotoResponse) }) } } },
    async (request, reply) => {
      const r = await record(request.principal!, request.params.id);
      const items = (await listPhotos(prisma, r.id)).map(present);
      markAudit(reply, "attachment-list", [r.childId]);
      return { items };
    },
  );

  for (const [suffix, summary] of [
    ["file", "下载走访照片"],
    ["thumbnail", "走访照片缩略图"],
  ] as const) {
    app.get(`/api/v1/visit-records/:id/photos/:photoId/${suffix}`, { schema: { tags: ["visits"], summary, params: PhotoParams } }, async (request, reply) => {
      const r = await record(request.principal!, request.params.id);
      const photo = await findPhoto(prisma, r.id, request.params.photoId);
      const key = suffix === "file" ? photo?.objectKey : photo?.thumbnailKey;
      if (!photo || !key) throw new NotFoundError("照片", request.params.photoId);
      markAudit(reply, "attachment-read", [r.childId]);
      return sendObject(reply, store, key, {
        fileName: suffix === "file" ? photo.fileName : `${photo.fileName}.webp`,
        range: request.headers.range,
        disposition: suffix === "file" ? "attachment" : "inline",
      });
    });
  }

  app.delete(
    "/api/v1/visit-records/:id/photos/:photoId",
    { schema: { tags: ["visits"], summary: "删除走访照片（保留删除记录）", params: PhotoParams, body: DeleteBody } },
    async (request, reply) => {
      const principal = request.principal!;
      const r = await record(principal, request.params.id);
      const photo = await findPhoto(prisma, r.id, request.params.photoId);
      if (!photo) throw new NotFoundError("照片", request.params.photoId);
      if (photo.uploadedBy !== principal.userId && recordAccess(principal, "visitRecords") !== "all") throw new ForbiddenError("只有上传者可以删除该照片");
      if (!(await removePhoto(prisma, photo.id, principal.userId, request.body?.reason || null, deps.now()))) throw new NotFoundError("照片", photo.id);
      markAudit(reply, "attachment-delete", [r.childId]);
      return reply.status(204).send();
    },
  );
}
