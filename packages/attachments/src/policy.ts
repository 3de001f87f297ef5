/**
 * What a kind of attachment accepts, how big it may be and how long it is kept. A service
 * names its kinds (e.g. the registry's 监护协议, 困境证明, 知情同意书, 照片) and gives each
 * one of these; the store enforces them on the bytes, never on the name the client sent.
 */
export type FileClass = "photo" | "document";

export interface AttachmentPolicy {
  accepts: FileClass;
  /** Largest file accepted, in bytes. */
  maxBytes: number;
  /** Days an attachment is kept after upload; the cleanup job deletes it (object and row) then. */
  retentionDays: number;
}

/** Photos: decoded, re-encoded without EXIF/GPS and thumbnailed. */
export const PHOTO_TYPES: ReadonlyMap<string, string> = new Map([
  ["image/jpeg", "jpg"],
  ["image/png", "png"],
  ["image/webp", "webp"],
]);

/** Documents: PDF, or a photo of the paper (stripped like any photo). */
export const DOCUMENT_TYPES: ReadonlyMap<string, string> = new Map([["application/pdf", "pdf"], ...PHOTO_TYPES]);

export function allowedTypes(accepts: FileClass): ReadonlyMap<string, string> {
  return accepts === "photo" ? PHOTO_TYPES : DOCUMENT_TYPES;
}

/** What the allow-list reads as in an error message. */
export function describeAllowed(accepts: FileClass): string {
  return accepts === "photo" ? "JPEG、PNG 或 WebP 图片" : "PDF 文件或 JPEG、PNG、WebP 图片";
}

export const MB = 1024 * 1024;

export function expiresAt(policy: Pick<AttachmentPolicy, "retentionDays">, from: Date): Date {
  return new Date(from.getTime() + policy.retentionDays * 86_400_000);
}
