import { z } from "zod";
import { AttachmentStore, expiresAt, readUpload, sendObject } from "@shouhu/attachments";
import { CHILD_ATTACHMENT_KINDS, attachmentKindsSeen, hasAnyRole, type ChildAttachmentKind, type Principal } from "@shouhu/auth";
import { ForbiddenError, NotFoundError, ValidationError, markAudit, type ServiceApp } from "@shouhu/kit";
import type pg from "pg";
import type { PrismaClient } from "../data/db.js";
import { getVisibleChildAndView } from "../data/queries.js";
import { addAttachment, findAttachment, listAttachments, removeAttachment, type AttachmentRow } from "../data/attachments.js";
import { CHILD_ATTACHMENT_POLICIES } from "../domain/attachments.js";
import { registrars } from "./permissions.js";

export interface AttachmentRoutesDeps {
  prisma: PrismaClient;
  pool?: pg.Pool;
  store: AttachmentStore;
  now: () => Date;
}

const Kind = z.enum(CHILD_ATTACHMENT_KINDS, { message: `kind 应为 ${CHILD_ATTACHMENT_KINDS.join("、")} 之一` });
const ChildParams = z.object({ id: z.uuid({ message: "儿童档案编号格式不正确" }) });
const AttachmentParams = ChildParams.extend({ attachmentId: z.uuid({ message: "附件编号格式不正确" }) });
const UploadQuery = z.object({ kind: Kind, note: z.string().trim().max(200, { message: "备注不能超过 200 字" }).optional() });
const ListQuery = z.object({
  deleted: z
    .enum(["true", "false"], { message: "deleted 应为 true 或 false" })
    .transform((v) => v === "true")
    .optional(),
});
const DeleteBody = z.object({ reason: z.string().trim().max(200, { message: "删除原因不能超过 200 字" }).optional() }).nullish();

const AttachmentResponse = z.object({
  id: z.uuid(),
  childId: z.uuid(),
  kind: Kind,
  kindLabel: z.string(),
  fileName: z.string(),
  contentType: z.string(),
  size: z.number().int(),
  note: z.string().nullable(),
  uploadedBy: z.object({ id: z.string(), name: z.string().nullable() }),
  createdAt: z.string(),
  expiresAt: z.string(),
  fileUrl: z.string(),
  thumbnailUrl: z.string().nullable(),
  deleted: z.object({ at: z.string(), by: z.string().nullable(), reason: z.string().nullable() }).nullable(),
});
const AttachmentList = z.object({
  childId: z.uuid(),
  items: z.array(AttachmentResponse),
  /** What this caller may see and add, with the limits the console shows. */
  kinds: z.array(z.object({ kind: Kind, label: z.string(), accepts: z.enum(["photo", "document"]), maxBytes: z.number().int() })),
});

function present(a: AttachmentRow): z.infer<typeof AttachmentResponse> {
  const base = `/api/v1/children/${a.childId}/attachments/${a.id}`;
  return {
    id: a.id,
    childId: a.childId,
    kind: a.kind as ChildAttachmentKind,
    kindLabel: CHILD_ATTACHMENT_POLICIES[a.kind as ChildAttachmentKind]?.label ?? a.kind,
    fileName: a.fileName,
    contentType: a.contentType,
    size: a.size,
    note: a.note,
    uploadedBy: { id: a.uploadedBy, name: a.uploadedByName },
    createdAt: a.createdAt.toISOString(),
    expiresAt: a.expiresAt.toISOString(),
    fileUrl: `${base}/file`,
    thumbnailUrl: a.thumbnailKey ? `${base}/thumbnail` : null,
    deleted: a.deletedAt ? { at: a.deletedAt.toISOString(), by: a.deletedByName ?? a.deletedBy, reason: a.deleteReason } : null,
  };
}

/**
 * A child's evidence: 监护协议, 困境证明, 知情同意书 and photos, in object storage through
 * @shouhu/attachments. The child must be within the caller's jurisdiction (else 404, as for
 * the file itself); the need-to-know table (ATTACHMENT_ACCESS) decides which kinds the
 * caller sees — a kind they may not see is answered as if it did not exist. Every answer
 * holding the child's evidence is marked for the gateway's audit trail with the child's id.
 */
export function registerAttachmentRoutes(app: ServiceApp, deps: AttachmentRoutesDeps): void {
  const { prisma, store } = deps;
  const reads = { prisma, pool: deps.pool };

  /** The child (404 outside jurisdiction) and the kinds this caller sees of its file. */
  async function access(principal: Principal, childId: string): Promise<ChildAttachmentKind[]> {
    const { paired } = await getVisibleChildAndView(reads, principal, childId);
    return attachmentKindsSeen(principal, { paired });
  }

  /** One attachment the caller may see, or 404 (another child's, a kind not theirs, unknown). */
  async function visibleAttachment(principal: Principal, childId: string, attachmentId: string): Promise<AttachmentRow> {
    const kinds = await access(principal, childId);
    const row = await findAttachment(prisma, childId, attachmentId);
    if (!row || !kinds.includes(row.kind as ChildAttachmentKind)) throw new NotFoundError("附件", attachmentId);
    return row;
  }

  app.post(
    "/api/v1/children/:id/attachments",
    {
      schema: {
        tags: ["attachments"],
        summary: "上传儿童档案附件（监护协议、困境证明、知情同意书、照片）",
        description:
          "multipart/form-data，字段 file；?kind= 附件类别，?note= 备注。按文件内容识别类型：照片只收 JPEG/PNG/WebP，文件收 PDF 或图片；照片去除 EXIF 和 GPS 并生成缩略图。超过大小上限或类型不符返回 400（字段 file），不保存任何内容。",
        params: ChildParams,
        querystring: UploadQuery,
        response: { 201: AttachmentResponse },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const childId = request.params.id;
      const { kind, note } = request.query;
      const kinds = await access(principal, childId);
      if (!kinds.includes(kind)) throw new ForbiddenError(`无权为该儿童上传${CHILD_ATTACHMENT_POLICIES[kind].label}`);
      const policy = CHILD_ATTACHMENT_POLICIES[kind];
      const stored = await readUpload(request, { store, prefix: `children/${childId}`, policy });
      const now = deps.now();
      const row = await addAttachment(prisma, {
        childId,
        kind,
        stored,
        note: note || null,
        by: { id: principal.userId, name: principal.name ?? null },
        expiresAt: expiresAt(policy, now),
      }).catch(async (err: unknown) => {
        // The row could not be written: the object must not outlive it.
        await store.remove([stored.key, ...(stored.thumbnailKey ? [stored.thumbnailKey] : [])]).catch(() => undefined);
        throw err;
      });
      markAudit(reply, "attachment-upload", [childId]);
      return reply.status(201).send(present(row));
    },
  );

  app.get(
    "/api/v1/children/:id/attachments",
    {
      schema: {
        tags: ["attachments"],
        summary: "儿童档案附件列表（按查看权限筛选；?deleted=true 含已删除的记录）",
        params: ChildParams,
        querystring: ListQuery,
        response: { 200: AttachmentList },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const childId = request.params.id;
      const kinds = await access(principal, childId);
      const rows = kinds.length ? await listAttachments(prisma, childId, kinds, request.query.deleted ?? false) : [];
      markAudit(reply, "attachment-list", [childId]);
      return {
        childId,
        items: rows.map(present),
        kinds: kinds.map((kind) => {
          const p = CHILD_ATTACHMENT_POLICIES[kind];
          return { kind, label: p.label, accepts: p.accepts, maxBytes: p.maxBytes };
        }),
      };
    },
  );

  app.get(
    "/api/v1/children/:id/attachments/:attachmentId/file",
    { schema: { tags: ["attachments"], summary: "下载附件（支持 Range）", params: AttachmentParams } },
    async (request, reply) => {
      const principal = request.principal!;
      const row = await visibleAttachment(principal, request.params.id, request.params.attachmentId);
      if (row.deletedAt) throw new NotFoundError("附件", row.id);
      markAudit(reply, "attachment-read", [row.childId]);
      return sendObject(reply, store, row.objectKey, { fileName: row.fileName, range: request.headers.range });
    },
  );

  app.get(
    "/api/v1/children/:id/attachments/:attachmentId/thumbnail",
    { schema: { tags: ["attachments"], summary: "照片缩略图", params: AttachmentParams } },
    async (request, reply) => {
      const principal = request.principal!;
      const row = await visibleAttachment(principal, request.params.id, request.params.attachmentId);
      if (row.deletedAt || !row.thumbnailKey) throw new NotFoundError("缩略图", row.id);
      markAudit(reply, "attachment-read", [row.childId]);
      return sendObject(reply, store, row.thumbnailKey, { fileName: `${row.fileName}.webp`, disposition: "inline" });
    },
  );

  app.delete(
    "/api/v1/children/:id/attachments/:attachmentId",
    {
      schema: {
        tags: ["attachments"],
        summary: "删除附件（保留删除记录，保留期满后清除）",
        params: AttachmentParams,
        body: DeleteBody,
        response: { 200: AttachmentResponse },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const row = await visibleAttachment(principal, request.params.id, request.params.attachmentId);
      // The register's keepers, or whoever uploaded it.
      if (!hasAnyRole(principal, registrars) && row.uploadedBy !== principal.userId) throw new ForbiddenError("只有建档人员或上传者可以删除附件");
      if (row.deletedAt) throw new ValidationError([{ field: "attachmentId", message: "附件已删除" }]);
      const removed = await removeAttachment(prisma, row.id, { id: principal.userId, name: principal.name ?? null }, request.body?.reason || null, deps.now());
      if (!removed) throw new NotFoundError("附件", row.id);
      markAudit(reply, "attachment-delete", [row.childId]);
      return present(removed);
    },
  );
}
