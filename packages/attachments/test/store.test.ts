import { Readable } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import sharp from "sharp";
import { ServiceUnavailableError, ValidationError } from "@shouhu/kit";
import { startTestObjectStore, type TestObjectStore } from "@shouhu/testing";
import { AttachmentStore, MB, contentDisposition, safeFileName, type AttachmentPolicy } from "../src/index.js";

const documents: AttachmentPolicy = { accepts: "document", maxBytes: 40 * MB, retentionDays: 30 };
const photos: AttachmentPolicy = { accepts: "photo", maxBytes: 10 * MB, retentionDays: 30 };

let server: TestObjectStore;
let store: AttachmentStore;

beforeAll(async () => {
  server = await startTestObjectStore();
  store = new AttachmentStore(server.config);
  await store.ensureBucket();
});
afterAll(async () => {
  store?.close();
  await server?.close();
});

/** A PDF of `size` bytes made on the fly, 64 KB at a time: the test holds none of it. */
function pdfStream(size: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const n = Math.min(64 * 1024, size - sent);
      const chunk = Buffer.alloc(n, 0x20);
      if (sent === 0) chunk.write("%PDF-1.7\n%âãÏÓ\n", "latin1");
      sent += n;
      this.push(chunk);
    },
  });
}

async function keysUnder(prefix: string): Promise<string[]> {
  const out = await store.client.send(new ListObjectsV2Command({ Bucket: store.bucket, Prefix: `${prefix}/` }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

async function refusal(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  const v = err as ValidationError;
  expect(v.statusCode).toBe(400);
  expect((v.details as { field: string }[])[0]!.field).toBe("file");
  return v.message;
}

describe("AttachmentStore against the embedded S3 server", () => {
  it("streams a 30 MB document in parts: the uploader's memory grows by far less than the file", async () => {
    // Collected garbage is not held memory: a GC every MB, so the peak shows what is retained.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    // Warm up (modules, sockets, the first part buffers) before measuring.
    await store.store(pdfStream(6 * MB), { prefix: "warm", policy: documents });
    gc();
    const held = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const before = held();
    const rssBefore = process.memoryUsage().rss;
    let peak = before;
    let rssPeak = rssBefore;
    const size = 30 * MB;
    const source = pdfStream(size);
    let seen = 0;
    source.on("data", (chunk: Buffer) => {
      seen += chunk.length;
      if (seen % MB === 0) {
        gc();
        peak = Math.max(peak, held());
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      }
    });
    const stored = await store.store(source, { prefix: "big", policy: documents, fileName: "大文件.pdf" });
    expect(stored).toMatchObject({ contentType: "application/pdf", size, thumbnailKey: null, fileName: "大文件.pdf" });
    const growth = peak - before;
    // RSS also counts pages the allocator keeps after a GC; heap + buffers is what the upload holds.
    console.log(`30 MB upload: held (heap + buffers) +${(growth / MB).toFixed(1)} MB at most, RSS +${((rssPeak - rssBefore) / MB).toFixed(1)} MB`);
    // A 5 MB part being filled, its joined copy and one in flight (~14 MB here), not the 30 MB file.
    expect(growth).toBeLessThan(16 * MB);
    const opened = await store.open(stored.key, "bytes=0-7");
    expect(opened.contentRange).toBe(`bytes 0-7/${size}`);
    const head: Buffer[] = [];
    for await (const c of opened.body) head.push(c as Buffer);
    expect(Buffer.concat(head).toString("latin1")).toBe("%PDF-1.7");
  });

  it("refuses a file over the limit with a 400 on file and leaves nothing behind", async () => {
    const message = await refusal(store.store(pdfStream(12 * MB), { prefix: "over", policy: { ...documents, maxBytes: 6 * MB } }));
    expect(message).toContain("6 MB");
    expect(await keysUnder("over")).toEqual([]);
  });

  it("sniffs the bytes: a Windows program renamed .jpg is refused, nothing stored", async () => {
    const exe = Buffer.alloc(8192);
    exe.write("MZ", 0, "latin1");
    exe.writeUInt32LE(0x80, 0x3c);
    exe.write("PE\0\0", 0x80, "latin1");
    const message = await refusal(store.store(Readable.from([exe]), { prefix: "exe", policy: documents, fileName: "photo.jpg" }));
    expect(message).toContain("文件类型不符");
    expect(await keysUnder("exe")).toEqual([]);
    // A PDF is a document, not a photo.
    await refusal(store.store(pdfStream(10_000), { prefix: "exe", policy: photos }));
    await refusal(store.store(Readable.from([]), { prefix: "exe", policy: photos }));
  });

  it("removes EXIF and GPS from a photo, turns it upright and makes a thumbnail", async () => {
    const original = await sharp({ create: { width: 1200, height: 800, channels: 3, background: { r: 200, g: 80, b: 40 } } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .withExifMerge({
        IFD0: { Make: "PhoneCo", Model: "X1", Orientation: "6" },
        IFD3: { GPSLatitudeRef: "N", GPSLatitude: "28/1 12/1 30/1", GPSLongitudeRef: "E", GPSLongitude: "112/1 56/1 10/1" },
      })
      .toBuffer();
    const meta = await sharp(original).metadata();
    expect(meta.exif?.includes(Buffer.from("PhoneCo"))).toBe(true);
    expect(meta.orientation).toBe(6);

    const stored = await store.store(Readable.from([original]), { prefix: "photo", policy: photos, fileName: "../../家访.JPG" });
    expect(stored.fileName).toBe("家访.JPG");
    expect(stored.contentType).toBe("image/jpeg");
    const read = async (key: string) => {
      const chunks: Buffer[] = [];
      for await (const c of (await store.open(key)).body) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    };
    const clean = await read(stored.key);
    const cleanMeta = await sharp(clean).metadata();
    expect(cleanMeta.exif).toBeUndefined();
    expect(cleanMeta.xmp).toBeUndefined();
    expect(clean.includes(Buffer.from("PhoneCo"))).toBe(false);
    // Orientation 6 applied: the stored pixels are portrait.
    expect([cleanMeta.width, cleanMeta.height]).toEqual([800, 1200]);
    const thumb = await sharp(await read(stored.thumbnailKey!)).metadata();
    expect(thumb.format).toBe("webp");
    expect(Math.max(thumb.width, thumb.height)).toBe(320);
  });

  it("answers 503 when the store is down or refuses the key, and nothing is kept", async () => {
    const down = new AttachmentStore({ ...server.config, S3_ENDPOINT: "http://127.0.0.1:9" });
    await expect(down.store(pdfStream(10_000), { prefix: "down", policy: documents })).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(down.readiness().check()).rejects.toBeInstanceOf(ServiceUnavailableError);
    down.close();
    const wrongKey = new AttachmentStore({ ...server.config, S3_ACCESS_KEY: "someone-else" });
    await expect(wrongKey.store(pdfStream(10_000), { prefix: "down", policy: documents })).rejects.toBeInstanceOf(ServiceUnavailableError);
    wrongKey.close();
    expect(await keysUnder("down")).toEqual([]);
    await expect(store.open("nowhere/missing")).rejects.toMatchObject({ statusCode: 404 });
  });

  it("keeps file names safe for storage and for Content-Disposition", () => {
    expect(safeFileName('a"b\r\n;c.pdf', "pdf")).toBe("abc.pdf");
    expect(safeFileName("scan.pdf", "jpg")).toBe("scan.pdf.jpg");
    expect(safeFileName(undefined, "png")).toBe("附件.png");
    expect(contentDisposition("监护协议.pdf")).toBe(`attachment; filename="____.pdf"; filename*=UTF-8''${encodeURIComponent("监护协议.pdf")}`);
  });
});
