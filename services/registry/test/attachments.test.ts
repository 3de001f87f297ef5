import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import sharp from "sharp";
import { beforeAll, describe, expect, it } from "vitest";
import { purgeExpiredAttachments } from "../src/jobs/purge-attachments.js";
import { childBody, registryWithAttachmentsTest, type Harness } from "./harness.js";

let h: Harness;
let childId: string;
registryWithAttachmentsTest("attachments").beforeAll(async ({ registry }) => {
  h = registry;
  const res = await h.app.inject({ method: "POST", url: "/api/v1/children", headers: await h.as("changling.supervisor"), payload: childBody({ seq: 31 }) });
  expect(res.statusCode).toBe(201);
  childId = res.json().id;
});

/** A multipart/form-data body with one part (field `file` unless told). */
function multipart(content: Buffer, fileName: string, field = "file"): { payload: Buffer; headers: Record<string, string> } {
  const boundary = "----shouhu-test-boundary";
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { payload: Buffer.concat([head, content, tail]), headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

async function upload(username: string, kind: string, content: Buffer, fileName: string, id = childId) {
  const body = multipart(content, fileName);
  return h.app.inject({
    method: "POST",
    url: `/api/v1/children/${id}/attachments?kind=${kind}`,
    headers: { ...(await h.as(username)), ...body.headers },
    payload: body.payload,
  });
}

const get = async (username: string, url: string, headers: Record<string, string> = {}) =>
  h.app.inject({ url, headers: { ...(await h.as(username)), ...headers } });
const audit = (res: { headers: Record<string, unknown> }) => JSON.parse(res.headers["x-shouhu-audit"] as string) as { action: string; childIds: string[] };

async function objectKeys(): Promise<string[]> {
  const out = await h.attachments!.client.send(new ListObjectsV2Command({ Bucket: h.attachments!.bucket, Prefix: `children/${childId}/` }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

const pdf = Buffer.concat([Buffer.from("%PDF-1.4\n"), Buffer.alloc(20_000, 0x20), Buffer.from("\n%%EOF\n")]);
let gpsPhoto: Buffer;
let consentId: string;
let photoId: string;

beforeAll(async () => {
  gpsPhoto = await sharp({ create: { width: 900, height: 600, channels: 3, background: "#4a7" } })
    .jpeg()
    .withExif({ IFD0: { Make: "PhoneCo" }, IFD3: { GPSLatitudeRef: "N", GPSLatitude: "28/1 12/1 30/1" } })
    .toBuffer();
});

describe("uploading to a child's file", () => {
  it("stores a consent form, audited with the child's id, and lists it", async () => {
    const res = await upload("changling.supervisor", "consent-form", pdf, "知情同意书 2026.pdf");
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      kind: "consent-form",
      kindLabel: "知情同意书",
      fileName: "知情同意书 2026.pdf",
      contentType: "application/pdf",
      size: pdf.length,
    });
    expect(audit(res)).toEqual({ action: "attachment-upload", childIds: [childId] });
    consentId = res.json().id;
    // Kept five years.
    expect(new Date(res.json().expiresAt).getTime() - new Date(res.json().createdAt).getTime()).toBeGreaterThan(4.9 * 365 * 86_400_000);

    const list = await get("changling.supervisor", `/api/v1/children/${childId}/attachments`);
    expect(list.statusCode).toBe(200);
    expect(list.json().items.map((a: { id: string }) => a.id)).toEqual([consentId]);
    expect(list.json().kinds.map((k: { kind: string }) => k.kind)).toEqual(["guardianship-agreement", "hardship-proof", "consent-form", "photo"]);
    expect(audit(list)).toEqual({ action: "attachment-list", childIds: [childId] });
  });

  it("downloads it streamed, with the original name (safe) and Range, every read audited", async () => {
    const res = await get("changling.supervisor", `/api/v1/children/${childId}/attachments/${consentId}/file`);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(pdf)).toBe(true);
    expect(res.headers["content-type"]).toBe("application/pdf");
    expect(res.headers["content-disposition"]).toBe(`attachment; filename="_____ 2026.pdf"; filename*=UTF-8''${encodeURIComponent("知情同意书 2026.pdf")}`);
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(audit(res)).toEqual({ action: "attachment-read", childIds: [childId] });
    const part = await get("changling.supervisor", `/api/v1/children/${childId}/attachments/${consentId}/file`, { range: "bytes=0-7" });
    expect(part.statusCode).toBe(206);
    expect(part.payload).toBe("%PDF-1.4");
    expect(part.headers["content-range"]).toBe(`bytes 0-7/${pdf.length}`);
  });

  it("strips EXIF and GPS from a photo and serves its thumbnail", async () => {
    expect((await sharp(gpsPhoto).metadata()).exif).toBeDefined();
    const res = await upload("changling.director", "photo", gpsPhoto, "家访.jpg");
    expect(res.statusCode).toBe(201);
    photoId = res.json().id;
    expect(res.json().thumbnailUrl).toBe(`/api/v1/children/${childId}/attachments/${photoId}/thumbnail`);
    const file = await get("changling.director", `/api/v1/children/${childId}/attachments/${photoId}/file`);
    expect((await sharp(file.rawPayload).metadata()).exif).toBeUndefined();
    expect(file.rawPayload.includes(Buffer.from("PhoneCo"))).toBe(false);
    const thumb = await get("changling.director", res.json().thumbnailUrl);
    expect(thumb.statusCode).toBe(200);
    expect(thumb.headers["content-type"]).toBe("image/webp");
    expect(audit(thumb)).toEqual({ action: "attachment-read", childIds: [childId] });
  });
});

describe("bad uploads: a 400 naming the field, nothing stored", () => {
  it("refuses a program renamed .jpg, an oversize photo, a wrong kind and a missing file", async () => {
    const before = await objectKeys();
    const rows = await h.prisma.childAttachment.count();
    const exe = Buffer.concat([
      Buffer.from("MZ"),
      Buffer.alloc(0x3a),
      Buffer.from([0x80, 0, 0, 0]),
      Buffer.alloc(0x40),
      Buffer.from("PE\0\0"),
      Buffer.alloc(8000),
    ]);
    const renamed = await upload("changling.supervisor", "photo", exe, "photo.jpg");
    expect(renamed.statusCode).toBe(400);
    expect(renamed.json().error.details).toEqual([{ field: "file", message: expect.stringContaining("文件类型不符") }]);

    // A JPEG's first bytes, then 16 MB: over the photo limit (15 MB).
    const huge = Buffer.concat([gpsPhoto.subarray(0, 64), Buffer.alloc(16 * 1024 * 1024)]);
    const tooBig = await upload("changling.supervisor", "photo", huge, "big.jpg");
    expect(tooBig.statusCode).toBe(400);
    expect(tooBig.json().error.details).toEqual([{ field: "file", message: "文件超过大小上限 15 MB" }]);

    const pdfAsPhoto = await upload("changling.supervisor", "photo", pdf, "x.pdf");
    expect(pdfAsPhoto.statusCode).toBe(400);

    const kind = await upload("changling.supervisor", "selfie", pdf, "x.pdf");
    expect(kind.statusCode).toBe(400);
    expect(JSON.stringify(kind.json().error.details)).toContain("kind");

    const noFile = await h.app.inject({
      method: "POST",
      url: `/api/v1/children/${childId}/attachments?kind=photo`,
      headers: { ...(await h.as("changling.supervisor")), ...multipart(pdf, "x.pdf", "other").headers },
      payload: multipart(pdf, "x.pdf", "other").payload,
    });
    expect(noFile.statusCode).toBe(400);
    expect(noFile.json().error.details[0].field).toBe("file");

    expect(await objectKeys()).toEqual(before);
    expect(await h.prisma.childAttachment.count()).toBe(rows);
  });
});

describe("who sees what (need-to-know, jurisdiction)", () => {
  it("answers 404 outside the caller's jurisdiction, for reads and uploads", async () => {
    const list = await get("shimen.supervisor", `/api/v1/children/${childId}/attachments`);
    expect(list.statusCode).toBe(404);
    const file = await get("shimen.supervisor", `/api/v1/children/${childId}/attachments/${consentId}/file`);
    expect(file.statusCode).toBe(404);
    expect(file.payload).not.toContain("%PDF");
    expect((await upload("shimen.supervisor", "photo", gpsPhoto, "a.jpg")).statusCode).toBe(404);
  });

  it("health workers see consent forms only; inspectors none; a teacher only the children paired to them", async () => {
    const doctor = await get("changling.doctor", `/api/v1/children/${childId}/attachments`);
    expect(doctor.json().items.map((a: { kind: string }) => a.kind)).toEqual(["consent-form"]);
    expect((await get("changling.doctor", `/api/v1/children/${childId}/attachments/${photoId}/file`)).statusCode).toBe(404);
    expect((await get("changling.doctor", `/api/v1/children/${childId}/attachments/${consentId}/file`)).statusCode).toBe(200);

    const inspector = await get("county.inspector", `/api/v1/children/${childId}/attachments`);
    expect(inspector.json()).toMatchObject({ items: [], kinds: [] });
    expect((await get("county.inspector", `/api/v1/children/${childId}/attachments/${consentId}/file`)).statusCode).toBe(404);

    // The child's school's teacher, not paired: sees the child, none of its evidence, may add none.
    const teacher = await get("changling.teacher", `/api/v1/children/${childId}/attachments`);
    expect(teacher.json()).toMatchObject({ items: [], kinds: [] });
    expect((await upload("changling.teacher", "photo", gpsPhoto, "a.jpg")).statusCode).toBe(403);

    await h.prisma.currentPairing.create({
      data: {
        childId,
        kind: "mentor",
        pairingId: "0190f000-0000-7000-8000-000000000031",
        helperId: "0190f000-0000-7000-8000-000000000032",
        helperKind: "teacher",
        name: "张敏",
        username: "changling.teacher",
        since: new Date("2026-09-01"),
        startedAt: new Date("2026-09-01T00:00:00Z"),
      },
    });
    const paired = await get("changling.teacher", `/api/v1/children/${childId}/attachments`);
    expect(
      paired
        .json()
        .items.map((a: { id: string }) => a.id)
        .sort(),
    ).toEqual([consentId, photoId].sort());
    const own = await upload("changling.teacher", "photo", gpsPhoto, "结对走访.jpg");
    expect(own.statusCode).toBe(201);
    // A teacher removes what they uploaded, not what others did.
    const notTheirs = await h.app.inject({
      method: "DELETE",
      url: `/api/v1/children/${childId}/attachments/${photoId}`,
      headers: await h.as("changling.teacher"),
    });
    expect(notTheirs.statusCode).toBe(403);
    const theirs = await h.app.inject({
      method: "DELETE",
      url: `/api/v1/children/${childId}/attachments/${own.json().id}`,
      headers: await h.as("changling.teacher"),
    });
    expect(theirs.statusCode).toBe(200);
  });
});

describe("deleting and retention", () => {
  it("deletes softly (the file's history keeps who and why); the retention job removes objects and rows at expiry", async () => {
    const del = await h.app.inject({
      method: "DELETE",
      url: `/api/v1/children/${childId}/attachments/${photoId}`,
      headers: await h.as("changling.supervisor"),
      payload: { reason: "拍错了儿童" },
    });
    expect(del.statusCode).toBe(200);
    expect(del.json().deleted).toMatchObject({ by: expect.any(String), reason: "拍错了儿童" });
    expect(audit(del)).toEqual({ action: "attachment-delete", childIds: [childId] });
    const list = await get("changling.supervisor", `/api/v1/children/${childId}/attachments`);
    expect(list.json().items.map((a: { id: string }) => a.id)).not.toContain(photoId);
    const history = await get("changling.supervisor", `/api/v1/children/${childId}/attachments?deleted=true`);
    expect(history.json().items.find((a: { id: string }) => a.id === photoId).deleted.reason).toBe("拍错了儿童");
    expect((await get("changling.supervisor", `/api/v1/children/${childId}/attachments/${photoId}/file`)).statusCode).toBe(404);
    const again = await h.app.inject({
      method: "DELETE",
      url: `/api/v1/children/${childId}/attachments/${photoId}`,
      headers: await h.as("changling.supervisor"),
    });
    expect(again.statusCode).toBe(400);

    // Retention: nothing has expired yet, then the photos' two years pass.
    expect(await purgeExpiredAttachments(h.prisma, h.attachments!, new Date())).toBe(0);
    const keysBefore = await objectKeys();
    expect(keysBefore.length).toBeGreaterThanOrEqual(5); // consent form, 2 photos + thumbnails
    const threeYears = new Date(Date.now() + 3 * 365 * 86_400_000);
    expect(await purgeExpiredAttachments(h.prisma, h.attachments!, threeYears)).toBe(2);
    const remaining = await h.prisma.childAttachment.findMany({ where: { childId } });
    expect(remaining.map((a) => a.kind)).toEqual(["consent-form"]);
    expect(await objectKeys()).toEqual([remaining[0]!.objectKey]);
  });
});
