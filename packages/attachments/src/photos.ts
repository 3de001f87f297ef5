import { v7 as uuidv7 } from "uuid";
import { z } from "zod";
import type { FastifyInstance, FastifySchema } from "fastify";
import type { Principal } from "@shouhu/auth";
import { ForbiddenError, NotFoundError, markAudit, type ServiceApp } from "@shouhu/kit";
import { readUpload, sendObject } from "./http.js";
import { expiresAt, type AttachmentPolicy } from "./policy.js";
import { purgeExpired } from "./retention.js";
import type { AttachmentStore, StoredFile } from "./store.js";

/**
 * Photos kept for an owner record of a service (a visit record, a session at a children's home):
 * one table per service with the same columns (id, file and thumbnail keys, name, type, size,
 * sha256, uploader, created/expires, deleted_at/by and optionally delete_reason) plus the owner's
 * uuid columns. The table, the owner lookup and who may see or change what stay in the service;
 * the rows, the routes and the purge are here, once.
 */

/** What the photo rows need of a database client (Prisma's raw API). */
export interface PhotoDb {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/** The columns every attachment table has (registry's child attachments, visits' and activities' photos). */
export interface AttachmentRowBase {
  id: string;
  fileName: string;
  contentType: string;
  size: number;
  sha256: string;
  objectKey: string;
  thumbnailKey: string | null;
  uploadedBy: string;
  uploadedByName: string | null;
  createdAt: Date;
  expiresAt: Date;
  deletedAt: Date | null;
  deletedBy: string | null;
}

/** A row: the common columns and the owner's (uuid) columns by their property names. */
export type PhotoRow<K extends string> = AttachmentRowBase & Record<K, string>;

export interface PhotoTableSpec<K extends string> {
  table: string;
  /** The owner's uuid columns (property → column), e.g. `{ recordId: "record_id", childId: "child_id" }`. */
  columns: Record<K, string>;
  /** The column the photos belong to (the route's record). */
  owner: NoInfer<K>;
  /** Whether the table keeps a removal's reason (`delete_reason`). */
  deleteReason?: boolean;
}

const BASE_COLUMNS: Record<keyof AttachmentRowBase, string> = {
  id: "id",
  fileName: "file_name",
  contentType: "content_type",
  size: "size",
  sha256: "sha256",
  objectKey: "object_key",
  thumbnailKey: "thumbnail_key",
  uploadedBy: "uploaded_by",
  uploadedByName: "uploaded_by_name",
  createdAt: "created_at",
  expiresAt: "expires_at",
  deletedAt: "deleted_at",
  deletedBy: "deleted_by",
};

export interface PhotoTable<K extends string> {
  spec: PhotoTableSpec<K>;
  add(
    db: PhotoDb,
    input: { owner: Record<K, string>; stored: StoredFile; by: { id: string; name: string | null }; expiresAt: Date; id?: string },
  ): Promise<PhotoRow<K>>;
  /** The photos (not removed) of some owners, oldest first. */
  list(db: PhotoDb, ownerIds: string[], limit: number): Promise<PhotoRow<K>[]>;
  find(db: PhotoDb, ownerId: string, id: string): Promise<PhotoRow<K> | null>;
  /** Soft removal (who, when, and why where the table keeps it); false when already removed. */
  remove(db: PhotoDb, id: string, by: string, reason: string | null, at: Date): Promise<boolean>;
  /** Retention: photos past `expires_at` lose their objects, then their rows (`purgeExpired`). */
  purgeExpired(db: PhotoDb, store: AttachmentStore, now: Date): Promise<number>;
}

export function photoTable<K extends string>(spec: PhotoTableSpec<K>): PhotoTable<K> {
  const t = spec.table;
  const all: [string, string][] = [...Object.entries(BASE_COLUMNS), ...(Object.entries(spec.columns) as [string, string][])];
  const select = all.map(([prop, col]) => (prop === col ? col : `${col} AS "${prop}"`)).join(", ");
  const ownerColumn = spec.columns[spec.owner];
  return {
    spec,
    async add(db, input) {
      const { stored } = input;
      const owner = Object.entries(input.owner) as [string, string][];
      const cols = [
        ["id", input.id ?? uuidv7(), "uuid"],
        ...owner.map(([prop, value]) => [spec.columns[prop as K], value, "uuid"]),
        ["file_name", stored.fileName, "text"],
        ["content_type", stored.contentType, "text"],
        ["size", stored.size, "int"],
        ["sha256", stored.sha256, "text"],
        ["object_key", stored.key, "text"],
        ["thumbnail_key", stored.thumbnailKey, "text"],
        ["uploaded_by", input.by.id, "text"],
        ["uploaded_by_name", input.by.name, "text"],
        ["expires_at", input.expiresAt.toISOString(), "timestamptz"],
      ] as const;
      const [row] = await db.$queryRawUnsafe<PhotoRow<K>[]>(
        `INSERT INTO ${t} (${cols.map(([c]) => c).join(", ")}) VALUES (${cols.map(([, , cast], i) => `$${i + 1}::${cast}`).join(", ")}) RETURNING ${select}`,
        ...cols.map(([, v]) => v),
      );
      return row!;
    },
    async list(db, ownerIds, limit) {
      if (ownerIds.length === 0) return [];
      return db.$queryRawUnsafe<PhotoRow<K>[]>(
        `SELECT ${select} FROM ${t} WHERE ${ownerColumn} = ANY($1::uuid[]) AND deleted_at IS NULL ORDER BY created_at, id LIMIT ${Math.trunc(limit)}`,
        ownerIds,
      );
    },
    async find(db, ownerId, id) {
      const [row] = await db.$queryRawUnsafe<PhotoRow<K>[]>(
        `SELECT ${select} FROM ${t} WHERE id = $1::uuid AND ${ownerColumn} = $2::uuid AND deleted_at IS NULL`,
        id,
        ownerId,
      );
      return row ?? null;
    },
    async remove(db, id, by, reason, at) {
      const count = await db.$executeRawUnsafe(
        `UPDATE ${t} SET deleted_at = $2::timestamptz, deleted_by = $3${spec.deleteReason ? ", delete_reason = $4" : ""} WHERE id = $1::uuid AND deleted_at IS NULL`,
        ...[id, at.toISOString(), by, ...(spec.deleteReason ? [reason] : [])],
      );
      return count === 1;
    },
    purgeExpired(db, store, now) {
      return purgeExpired(
        store,
        (take) =>
          db.$queryRawUnsafe(
            `SELECT id, object_key AS "objectKey", thumbnail_key AS "thumbnailKey" FROM ${t} WHERE expires_at <= $1::timestamptz ORDER BY expires_at LIMIT ${Math.trunc(take)}`,
            now.toISOString(),
          ),
        (ids) => db.$executeRawUnsafe(`DELETE FROM ${t} WHERE id = ANY($1::uuid[])`, ids),
      );
    },
  };
}

/** What a photo route is about to do; the service's `owner` check decides per action. */
export type PhotoAction = "upload" | "list" | "read" | "remove";

export interface PhotoRoutes<K extends string, Owner, Params extends z.ZodObject<any>, Out extends z.ZodType> {
  db: PhotoDb;
  store: AttachmentStore;
  now: () => Date;
  table: PhotoTable<K>;
  /** The photos' path, e.g. `/api/v1/visit-records/:id/photos`. */
  path: string;
  params: Params;
  tags: string[];
  summaries: { upload: string; list?: string; file: string; thumbnail: string; remove: string };
  /** Serve `GET <path>` (the owner's photos), audited as `attachment-list`. */
  list?: boolean;
  policy: AttachmentPolicy;
  /**
   * The owner for an action if the caller may do it — otherwise the service's 404 or 403, in its
   * own order (a role check before the lookup, the jurisdiction in the lookup, …). Give it before the
   * callbacks that take the owner, so TypeScript infers the owner's type from it.
   */
  owner: (principal: Principal, params: z.infer<Params>, action: PhotoAction) => Promise<Owner>;
  /** Where an owner's objects go in the bucket (a prefix of the service's own). */
  prefix: (owner: NoInfer<Owner>) => string;
  /** The owner's column values of a new row. */
  columns: (owner: NoInfer<Owner>) => Record<K, string>;
  /** The children a request about the owner is audited with. */
  children: (owner: NoInfer<Owner>) => string[];
  /** May the caller remove a photo someone else uploaded (the uploader always may). */
  removesOthers: (principal: Principal, owner: NoInfer<Owner>) => boolean;
  response: Out;
  present: (row: PhotoRow<K>) => z.infer<Out>;
}

const PhotoId = z.object({ photoId: z.uuid({ message: "照片编号格式不正确" }) });
const DeleteBody = z.object({ reason: z.string().trim().max(200, { message: "删除原因不能超过 200 字" }).optional() }).nullish();
/** Typed loosely: the services' zod schemas, compiled by their apps. */
const schema = (s: FastifySchema): FastifySchema => s;
const UPLOAD_DESCRIPTION = "multipart/form-data，字段 file；按文件内容识别，只收 JPEG/PNG/WebP，不超过 15 MB；去除 EXIF 和 GPS 并生成缩略图。";

/**
 * The photo routes of an owner record: upload (multipart `file`, the policy's types and size,
 * metadata stripped, a thumbnail; the objects removed again if the row fails), the list, the file
 * and thumbnail (Range), soft removal — each audited with the owner's children.
 */
export function registerPhotoRoutes<K extends string, Owner, Params extends z.ZodObject<any>, Out extends z.ZodType>(
  app: ServiceApp,
  o: PhotoRoutes<K, Owner, Params, Out>,
): void {
  const { db, store, table } = o;
  // Registered untyped: the handlers here serve schemas of any shape (each service's params and answer).
  const router = app as unknown as FastifyInstance;
  const ownerId = (owner: Owner) => o.columns(owner)[table.spec.owner];
  const photoParams = o.params.extend(PhotoId.shape);
  type AllParams = z.infer<Params> & { photoId: string };

  router.post(
    o.path,
    { schema: schema({ tags: o.tags, summary: o.summaries.upload, description: UPLOAD_DESCRIPTION, params: o.params, response: { 201: o.response } }) },
    async (request, reply) => {
      const principal = request.principal!;
      const owner = await o.owner(principal, request.params as z.infer<Params>, "upload");
      const stored = await readUpload(request as unknown as Parameters<typeof readUpload>[0], { store, prefix: o.prefix(owner), policy: o.policy });
      const row = await table
        .add(db, { owner: o.columns(owner), stored, by: { id: principal.userId, name: principal.name ?? null }, expiresAt: expiresAt(o.policy, o.now()) })
        .catch(async (err: unknown) => {
          await store.remove([stored.key, ...(stored.thumbnailKey ? [stored.thumbnailKey] : [])]).catch(() => undefined);
          throw err;
        });
      markAudit(reply, "attachment-upload", o.children(owner));
      return reply.status(201).send(o.present(row));
    },
  );

  if (o.list) {
    router.get(
      o.path,
      { schema: schema({ tags: o.tags, summary: o.summaries.list, params: o.params, response: { 200: z.object({ items: z.array(o.response) }) } }) },
      async (request, reply) => {
        const owner = await o.owner(request.principal!, request.params as z.infer<Params>, "list");
        const items = (await table.list(db, [ownerId(owner)], 200)).map(o.present);
        markAudit(reply, "attachment-list", o.children(owner));
        return { items };
      },
    );
  }

  for (const suffix of ["file", "thumbnail"] as const) {
    router.get(
      `${o.path}/:photoId/${suffix}`,
      { schema: schema({ tags: o.tags, summary: o.summaries[suffix], params: photoParams }) },
      async (request, reply) => {
        const params = request.params as AllParams;
        const owner = await o.owner(request.principal!, params, "read");
        const photo = await table.find(db, ownerId(owner), params.photoId);
        const key = suffix === "file" ? photo?.objectKey : photo?.thumbnailKey;
        if (!photo || !key) throw new NotFoundError("照片", params.photoId);
        markAudit(reply, "attachment-read", o.children(owner));
        return sendObject(reply, store, key, {
          fileName: suffix === "file" ? photo.fileName : `${photo.fileName}.webp`,
          range: request.headers.range,
          disposition: suffix === "file" ? "attachment" : "inline",
        });
      },
    );
  }

  router.delete(
    `${o.path}/:photoId`,
    { schema: schema({ tags: o.tags, summary: o.summaries.remove, params: photoParams, ...(table.spec.deleteReason ? { body: DeleteBody } : {}) }) },
    async (request, reply) => {
      const principal = request.principal!;
      const params = request.params as AllParams;
      const owner = await o.owner(principal, params, "remove");
      const photo = await table.find(db, ownerId(owner), params.photoId);
      if (!photo) throw new NotFoundError("照片", params.photoId);
      if (photo.uploadedBy !== principal.userId && !o.removesOthers(principal, owner)) throw new ForbiddenError("只有上传者可以删除该照片");
      const reason = (request.body as z.infer<typeof DeleteBody> | undefined)?.reason || null;
      if (!(await table.remove(db, photo.id, principal.userId, reason, o.now()))) throw new NotFoundError("照片", photo.id);
      markAudit(reply, "attachment-delete", o.children(owner));
      return reply.status(204).send();
    },
  );
}
