import type { Readable } from "node:stream";
import { ValidationError } from "@shouhu/kit";
import type { AttachmentPolicy } from "./policy.js";
import type { AttachmentStore, StoredFile } from "./store.js";
import { contentDisposition } from "./names.js";

/** The parts of @fastify/multipart's request API used here (structural: no plugin dependency). */
interface MultipartRequest {
  isMultipart(): boolean;
  file(options?: {
    limits?: { fileSize?: number; files?: number };
  }): Promise<{ fieldname: string; filename: string; file: Readable & { truncated?: boolean } } | undefined>;
}

/**
 * The file of a multipart request (field `file`), streamed into the store under `prefix`.
 * Register @fastify/multipart on the app first; the per-request limit set here is the
 * policy's (plus one byte, so an oversize file is seen and refused rather than cut short).
 */
export async function readUpload(request: MultipartRequest, opts: { store: AttachmentStore; prefix: string; policy: AttachmentPolicy }): Promise<StoredFile> {
  if (!request.isMultipart()) throw ValidationError.field("file", "请以 multipart/form-data 上传文件（字段名 file）");
  const part = await request.file({ limits: { fileSize: opts.policy.maxBytes + 1, files: 1 } });
  if (!part) throw ValidationError.field("file", "缺少上传文件（字段名 file）");
  if (part.fieldname !== "file") {
    part.file.resume();
    throw ValidationError.field("file", "缺少上传文件（字段名 file）");
  }
  return opts.store.store(part.file, { prefix: opts.prefix, policy: opts.policy, fileName: part.filename });
}

/** What a Fastify reply needs here. */
interface Reply {
  status(code: number): Reply;
  header(name: string, value: string): Reply;
  send(payload: Readable): unknown;
}

/**
 * Streams a stored object to the client: its type, length, the original name (safe) in
 * Content-Disposition, Range answered with 206, never cached by shared caches, never
 * sniffed by the browser into something else.
 */
export async function sendObject(
  reply: Reply,
  store: AttachmentStore,
  key: string,
  opts: { fileName: string; range?: string | undefined; disposition?: "attachment" | "inline" },
): Promise<unknown> {
  const range = opts.range && /^bytes=\d*-\d*$/.test(opts.range) ? opts.range : undefined;
  const object = await store.open(key, range);
  reply
    .status(object.contentRange ? 206 : 200)
    .header("content-type", object.contentType)
    .header("content-length", String(object.contentLength))
    .header("accept-ranges", "bytes")
    .header("content-disposition", contentDisposition(opts.fileName, opts.disposition))
    .header("x-content-type-options", "nosniff")
    .header("cache-control", "private, no-store");
  if (object.contentRange) reply.header("content-range", object.contentRange);
  return reply.send(object.body);
}
