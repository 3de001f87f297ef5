import { createHash, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { fileTypeFromBuffer } from "file-type";
import sharp from "sharp";
import { NotFoundError, ServiceUnavailableError, ValidationError, type ReadinessCheck } from "@shouhu/kit";
import type { ObjectStoreConfig } from "./config.js";
import { PHOTO_TYPES, allowedTypes, describeAllowed, type AttachmentPolicy } from "./policy.js";
import { safeFileName } from "./names.js";

/** What was stored: the object (and its thumbnail), as the bytes turned out to be. */
export interface StoredFile {
  key: string;
  /** Photos only: a WebP of at most THUMBNAIL_SIZE px on the longer side. */
  thumbnailKey: string | null;
  contentType: string;
  /** Bytes as stored (a photo's size after EXIF was removed). */
  size: number;
  /** sha256 of the bytes as uploaded. */
  sha256: string;
  fileName: string;
}

export interface OpenedObject {
  body: Readable;
  contentType: string;
  contentLength: number;
  /** Set when a Range was asked for: `bytes 0-99/1234`. */
  contentRange: string | null;
}

export const THUMBNAIL_SIZE = 320;
/** Photos decoded by libvips are refused beyond this many pixels (a decompression bomb in a few KB). */
const MAX_PIXELS = 50_000_000;
/** Enough of the head of a file for file-type to recognise it. */
const SNIFF_BYTES = 4100;
/** Multipart part size: the most a document upload holds in memory at once (times the queue). */
const PART_SIZE = 5 * 1024 * 1024;

const mb = (bytes: number) => `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;

class TooLarge extends Error {}

/**
 * The one way evidence files reach object storage (MinIO in production and docker-compose,
 * the embedded server of packages/dev-s3 in `npm start` and tests) through the S3 API:
 *
 * - uploads stream: a document goes on in 5 MB multipart parts as it arrives; a photo is
 *   read up to its limit (libvips must decode it whole) and re-encoded;
 * - the content type is sniffed from the bytes (file-type) and checked against the kind's
 *   allow-list; the client's Content-Type and file name are never trusted;
 * - a file over the limit, of the wrong type or that fails to decode is a 400 on `file`
 *   (zh-CN), and whatever part of it reached the store is removed;
 * - photos lose EXIF, GPS and every other metadata (sharp re-encodes without them, after
 *   applying the orientation) and get a thumbnail;
 * - the store unreachable is a 503.
 */
export class AttachmentStore {
  readonly client: S3Client;
  readonly bucket: string;

  constructor(config: ObjectStoreConfig) {
    this.bucket = config.S3_BUCKET;
    this.client = new S3Client({
      endpoint: config.S3_ENDPOINT,
      region: config.S3_REGION,
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
      credentials: { accessKeyId: config.S3_ACCESS_KEY, secretAccessKey: config.S3_SECRET_KEY },
      // Checksums only where S3 requires them: MinIO and the embedded server agree on these.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 2,
    });
  }

  /** For /readyz: the bucket answers. */
  readiness(): ReadinessCheck {
    return { name: "object-store", check: () => this.call(() => this.client.send(new HeadBucketCommand({ Bucket: this.bucket }))).then(() => undefined) };
  }

  /** Creates the bucket if it is missing (development; MinIO's init container does it in docker-compose). */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch {
      await this.call(() => this.client.send(new CreateBucketCommand({ Bucket: this.bucket })));
    }
  }

  /**
   * Stores one uploaded file under `${prefix}/${uuid}` if its bytes are what the policy
   * accepts and no bigger than its limit. The input is consumed (drained on refusal).
   */
  async store(input: Readable, opts: { prefix: string; policy: AttachmentPolicy; fileName?: string }): Promise<StoredFile> {
    const { policy } = opts;
    const hash = createHash("sha256");
    let received = 0;
    let tooLarge = false;
    const iterator = (async function* () {
      for await (const chunk of input as AsyncIterable<Buffer>) {
        received += chunk.length;
        if (received > policy.maxBytes) {
          tooLarge = true;
          throw new TooLarge();
        }
        hash.update(chunk);
        yield chunk;
      }
    })();
    const key = `${opts.prefix}/${randomUUID()}`;
    const written: string[] = [];
    try {
      // The head of the file, for sniffing; what follows is streamed on behind it.
      const head: Buffer[] = [];
      let headLength = 0;
      let done = false;
      while (headLength < SNIFF_BYTES) {
        const next = await iterator.next();
        if (next.done) {
          done = true;
          break;
        }
        head.push(next.value);
        headLength += next.value.length;
      }
      if (headLength === 0) throw ValidationError.field("file", "上传的文件是空的");
      const headBuffer = Buffer.concat(head);
      const type = await fileTypeFromBuffer(headBuffer);
      const ext = type ? allowedTypes(policy.accepts).get(type.mime) : undefined;
      if (!type || !ext) {
        throw ValidationError.field("file", `文件类型不符：只接受${describeAllowed(policy.accepts)}（按文件内容识别${type ? `，此文件为 ${type.ext}` : ""}）`);
      }
      const fileName = safeFileName(opts.fileName, ext);
      const rest = async function* () {
        yield headBuffer;
        if (!done) yield* iterator;
      };

      if (PHOTO_TYPES.has(type.mime)) {
        const original: Buffer[] = [];
        for await (const chunk of rest()) original.push(chunk);
        const { image, thumbnail } = await cleanPhoto(Buffer.concat(original), type.mime);
        const thumbnailKey = `${key}.thumb.webp`;
        written.push(key);
        await this.call(() => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: image, ContentType: type.mime })));
        written.push(thumbnailKey);
        await this.call(() => this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: thumbnailKey, Body: thumbnail, ContentType: "image/webp" })));
        return { key, thumbnailKey, contentType: type.mime, size: image.length, sha256: hash.digest("hex"), fileName };
      }

      written.push(key);
      const upload = new Upload({
        client: this.client,
        params: { Bucket: this.bucket, Key: key, Body: Readable.from(rest()), ContentType: type.mime },
        partSize: PART_SIZE,
        queueSize: 1,
        // A failed multipart upload is aborted, its parts removed.
        leavePartsOnError: false,
      });
      await this.call(() => upload.done());
      return { key, thumbnailKey: null, contentType: type.mime, size: received, sha256: hash.digest("hex"), fileName };
    } catch (err) {
      input.resume(); // drain what is left so the request completes
      if (written.length) await this.remove(written).catch(() => undefined);
      if (tooLarge) {
        throw ValidationError.field("file", `文件超过大小上限 ${mb(policy.maxBytes)}`);
      }
      throw err;
    }
  }

  /** An object, streamed; `range` as the Range header gave it (bytes=0-99). */
  async open(key: string, range?: string): Promise<OpenedObject> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range ? { Range: range } : {}) }));
      return {
        body: out.Body as Readable,
        contentType: out.ContentType ?? "application/octet-stream",
        contentLength: out.ContentLength ?? 0,
        contentRange: out.ContentRange ?? null,
      };
    } catch (err) {
      if (err instanceof S3ServiceException && (err.name === "NoSuchKey" || err.$metadata.httpStatusCode === 404)) throw new NotFoundError("附件文件");
      if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 416) throw ValidationError.field("range", "请求的范围超出文件大小");
      throw unavailable(err);
    }
  }

  /** Removes objects (missing ones are fine); up to 1,000 a call, as S3 allows. */
  async remove(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      await this.call(() =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
      );
    }
  }

  close(): void {
    this.client.destroy();
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw unavailable(err);
    }
  }
}

function unavailable(err: unknown): Error {
  if (err instanceof TooLarge || err instanceof ValidationError || err instanceof NotFoundError) return err;
  const wrapped = new ServiceUnavailableError("附件存储暂不可用，请稍后重试");
  (wrapped as { cause?: unknown }).cause = err;
  return wrapped;
}

/** The photo re-encoded in its own format, turned upright, with no metadata at all; and its thumbnail. */
async function cleanPhoto(original: Buffer, mime: string): Promise<{ image: Buffer; thumbnail: Buffer }> {
  try {
    // sharp keeps no EXIF, GPS, XMP or IPTC unless asked (withMetadata/keepExif): none is asked.
    const upright = sharp(original, { limitInputPixels: MAX_PIXELS, failOn: "error" }).rotate();
    const encoded =
      mime === "image/png"
        ? upright.clone().png()
        : mime === "image/webp"
          ? upright.clone().webp({ quality: 85 })
          : upright.clone().jpeg({ quality: 85, mozjpeg: true });
    const [image, thumbnail] = await Promise.all([
      encoded.toBuffer(),
      upright.clone().resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: "inside", withoutEnlargement: true }).webp({ quality: 70 }).toBuffer(),
    ]);
    return { image, thumbnail };
  } catch {
    throw ValidationError.field("file", "图片无法解析（文件损坏或尺寸过大）");
  }
}
