import { z } from "zod";
import { MB, registerPhotoRoutes as registerAttachmentPhotoRoutes, type AttachmentPolicy, type AttachmentStore } from "@shouhu/attachments";
import { recordAccess, type Principal } from "@shouhu/auth";
import { contains } from "@shouhu/contracts";
import { ForbiddenError, NotFoundError, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { photoRecord, visitPhotos, type PhotoRecord, type PhotoRow } from "../data/photos.js";

export interface PhotoRoutesDeps {
  prisma: PrismaClient;
  store: AttachmentStore;
  now: () => Date;
}

/** Photos of a home visit: JPEG/PNG/WebP up to 15 MB, kept two years like the child's photos. */
const VISIT_PHOTO_POLICY: AttachmentPolicy = { accepts: "photo", maxBytes: 15 * MB, retentionDays: 2 * 365 };

const RecordParams = z.object({ id: z.uuid({ message: "走访记录编号格式不正确" }) });

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
  const { prisma } = deps;
  registerAttachmentPhotoRoutes(app, {
    db: prisma,
    store: deps.store,
    now: deps.now,
    table: visitPhotos,
    path: "/api/v1/visit-records/:id/photos",
    params: RecordParams,
    tags: ["visits"],
    summaries: { upload: "上传走访照片", list: "走访照片列表", file: "下载走访照片", thumbnail: "走访照片缩略图", remove: "删除走访照片（保留删除记录）" },
    list: true,
    policy: VISIT_PHOTO_POLICY,
    owner: async (principal, params, action) => {
      const r = visibleRecord(principal, await photoRecord(prisma, params.id), params.id);
      // The visitor adds the visit's photos; case workers who see every record may too.
      if (action === "upload" && r.visitorUserId !== principal.userId && recordAccess(principal, "visitRecords") !== "all")
        throw new ForbiddenError("只有走访人可以为该记录上传照片");
      return r;
    },
    prefix: (r) => `visits/${r.id}`,
    columns: (r) => ({ recordId: r.id, childId: r.childId }),
    children: (r) => [r.childId],
    removesOthers: (principal) => recordAccess(principal, "visitRecords") === "all",
    response: PhotoResponse,
    present,
  });
}
