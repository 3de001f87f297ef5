import { z } from "zod";
import { MB, registerPhotoRoutes as registerAttachmentPhotoRoutes, type AttachmentPolicy, type AttachmentStore } from "@shouhu/attachments";
import { hasAnyRole, recordAccess, requireRole, type Principal } from "@shouhu/auth";
import { todayInChina } from "@shouhu/cn";
import { ForbiddenError, NotFoundError, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { siteInScope } from "../data/homes.js";
import { photoSession, sessionPhotos, type PhotoRow } from "../data/photos.js";
import { scopeFor, siteKeepers } from "../access.js";

/** Photos of a session: JPEG/PNG/WebP up to 15 MB, kept two years like visit photos. */
const SESSION_PHOTO_POLICY: AttachmentPolicy = { accepts: "photo", maxBytes: 15 * MB, retentionDays: 2 * 365 };

const SessionParams = z.object({
  id: z.uuid({ message: "儿童之家编号格式不正确" }),
  sessionId: z.uuid({ message: "活动记录编号格式不正确" }),
});

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
  const { prisma } = deps;
  registerAttachmentPhotoRoutes(app, {
    db: prisma,
    store: deps.store,
    now: deps.now,
    table: sessionPhotos,
    path: "/api/v1/sites/:id/sessions/:sessionId/photos",
    params: SessionParams,
    tags: ["homes"],
    summaries: { upload: "上传活动照片", file: "下载活动照片", thumbnail: "活动照片缩略图", remove: "删除活动照片（保留删除记录）" },
    policy: SESSION_PHOTO_POLICY,
    /** The session, if its home is in the caller's area (404 otherwise, as for the home itself). */
    owner: async (principal, params, action) => {
      if (action === "upload") requireRole(principal, siteKeepers, "上传活动照片");
      if (action === "remove") requireRole(principal, siteKeepers, "删除活动照片");
      if (action === "read" && !seesPhotos(principal)) throw new ForbiddenError("当前角色无权查看活动照片");
      const site = await siteInScope(prisma, scopeFor(principal), params.id, todayInChina(deps.now()));
      const session = await photoSession(prisma, site.id, params.sessionId);
      if (!session) throw new NotFoundError("活动记录", params.sessionId);
      if (action === "upload" && site.status !== "active") throw new ForbiddenError("该儿童之家已撤销，不能再上传照片");
      return session;
    },
    prefix: (s) => `activities/${s.id}`,
    columns: (s) => ({ sessionId: s.id, siteId: s.siteId }),
    children: (s) => s.attendance,
    removesOthers: (principal) => hasAnyRole(principal, [...photoRemovers]),
    response: PhotoResponse,
    present: presentPhoto,
  });
}
