import { z } from "zod";
import { MB, expiresAt, readUpload, sendObject, type AttachmentPolicy, type AttachmentStore } from "@shouhu/attachments";
import { hasAnyRole, recordAccess, requireRole, type Principal } from "@shouhu/auth";
import { todayInChina } from "@shouhu/cn";
import { ForbiddenError, NotFoundError, markAudit, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { siteInScope } from "../data/homes.js";
import { addPhoto, findPhoto, photoSession, removePhoto, type PhotoRow } from "../data/photos.js";
import { scopeFor, siteKeepers } from "../access.js";

/** Photos of a session: JPEG/PNG/WebP up to 15 MB, kept two years like visit photos. */
const SESSION_PHOTO_POLICY: AttachmentPolicy = { accepts: "photo", maxBytes: 15 * MB, retentionDays: 2 * 365 };

const SessionParams = z.object({
  id: z.uuid({ message: "儿童之家编号格式不正确" }),
  sessionId: z.uuid({ message: "活动记录编号格式不正确" }),
});
const PhotoParams = SessionParams.extend({ photoId: z.uuid({ message: "照片编号格式不正确" }) });

export const PhotoResponse = z.object({
  id: z.uuid(),
  sessionId: z.uuid(),
  fileName: z.string(),
  contentType: z.string(),
  size: z.number().int(),
  uploadedBy: z.object({ id: z.string(), name: z.string().nullable() }),
  createdAt: z.string(),
  fileUrl: z.string(),
  thumbnailUrl: z.string().nullable(),
});

export function presentPhoto(p: PhotoRow): z.infer<typeof PhotoResponse> {
  const base = `/api/v1/sites/${p.siteId}/sessions/${p.sessionId}/photos/${p.id}`;
  return {
    id: p.id,
    sessionId: p.sessionId,
    fileName: p.fileName,
    contentType: p.contentType,
    size: p.size,
    uploadedBy: { id: p.uploadedBy, name: p.uploadedByName },
    createdAt: p.createdAt.toISOString(),
    fileUrl: `${base}/file`,
    thumbnailUrl: p.thumbnailKey ? `${base}/thumbnail` : null,
  };
}

/**
 * Photos are part of a session's written record: the roles that read its summary (case workers, teachers
 * for their school's home) see them; inspectors (date, kind, names only) and health workers do not.
 */
export function seesPhotos(principal: Principal): boolean {
  const level = recordAccess(principal, "visitRecords");
  return level === "all" || level === "own-and-paired";
}

/** Who may remove a photo someone else took: the case workers over the home (not a teacher). */
const photoRemovers = ["county-admin", "federation-officer", "township-supervisor", "village-director"] as const;

export function registerPhotoRoutes(app: ServiceApp, deps: { prisma: PrismaClient; store: AttachmentStore; now: () => Date }): void {
  const { prisma, store } = deps;
  /** The session, if its home is in the caller's area (404 otherwise, as for the home itself). */
  const session = async (principal: Principal, siteId: string, sessionId: string) => {
    const site = await siteInScope(prisma, scopeFor(principal), siteId, todayInChina(deps.now()));
    const found = await photoSession(prisma, site.id, sessionId);
    if (!found) throw new NotFoundError("活动记录", sessionId);
    return { site, session: found };
  };
  const reader = (principal: Principal) => {
    if (!seesPhotos(principal)) throw new ForbiddenError("当前角色无权查看活动照片");
  };

  app.post(
    "/api/v1/sites/:id/sessions/:sessionId/photos",
    {
      schema: {
        tags: ["homes"],
        summary: "上传活动照片",
        description: "multipart/form-data，字段 file；按文件内容识别，只收 JPEG/PNG/WebP，不超过 15 MB；去除 EXIF 和 GPS 并生成缩略图。",
        params: SessionParams,
        response: { 201: PhotoResponse },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, siteKeepers, "上传活动照片");
      const { site, session: s } = await session(principal, request.params.id, request.params.sessionId);
      if (site.status !== "active") throw new ForbiddenError("该儿童之家已撤销，不能再上传照片");
      const stored = await readUpload(request, { store, prefix: `activities/${s.id}`, policy: SESSION_PHOTO_POLICY });
      const row = await addPhoto(prisma, {
        session: s,
        stored,
        by: { id: principal.userId, name: principal.name ?? null },
        expiresAt: expiresAt(SESSION_PHOTO_POLICY, deps.now()),
      }).catch(async (err: unknown) => {
        await store.remove([stored.key, ...(stored.thumbnailKey ? [stored.thumbnailKey] : [])]).catch(() => undefined);
        throw err;
      });
      markAudit(reply, "attachment-upload", s.attendance);
      return reply.status(201).send(presentPhoto(row));
    },
  );

  for (const [suffix, summary] of [
    ["file", "下载活动照片"],
    ["thumbnail", "活动照片缩略图"],
  ] as const) {
    app.get(
      `/api/v1/sites/:id/sessions/:sessionId/photos/:photoId/${suffix}`,
      { schema: { tags: ["homes"], summary, params: PhotoParams } },
      async (request, reply) => {
        const principal = request.principal!;
        reader(principal);
        const { session: s } = await session(principal, request.params.id, request.params.sessionId);
        const photo = await findPhoto(prisma, s.id, request.params.photoId);
        const key = suffix === "file" ? photo?.objectKey : photo?.thumbnailKey;
        if (!photo || !key) throw new NotFoundError("照片", request.params.photoId);
        markAudit(reply, "attachment-read", s.attendance);
        return sendObject(reply, store, key, {
          fileName: suffix === "file" ? photo.fileName : `${photo.fileName}.webp`,
          range: request.headers.range,
          disposition: suffix === "file" ? "attachment" : "inline",
        });
      },
    );
  }

  app.delete(
    "/api/v1/sites/:id/sessions/:sessionId/photos/:photoId",
    { schema: { tags: ["homes"], summary: "删除活动照片（保留删除记录）", params: PhotoParams } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, siteKeepers, "删除活动照片");
      const { session: s } = await session(principal, request.params.id, request.params.sessionId);
      const photo = await findPhoto(prisma, s.id, request.params.photoId);
      if (!photo) throw new NotFoundError("照片", request.params.photoId);
      if (photo.uploadedBy !== principal.userId && !hasAnyRole(principal, [...photoRemovers])) throw new ForbiddenError("只有上传者可以删除该照片");
      if (!(await removePhoto(prisma, photo.id, principal.userId, deps.now()))) throw new NotFoundError("照片", photo.id);
      markAudit(reply, "attachment-delete", s.attendance);
      return reply.status(204).send();
    },
  );
}
