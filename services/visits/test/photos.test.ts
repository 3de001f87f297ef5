import sharp from "sharp";
import { expect, it } from "vitest";
import type { ServiceApp } from "@shouhu/kit";
import { buildEvent, consumeEvent } from "@shouhu/messaging";
import { childSnapshot, type TestIssuer } from "@shouhu/testing";
import type { AttachmentStore } from "@shouhu/attachments";
import type { PrismaClient, Tx } from "../src/data/db.js";
import { visitEventHandlers } from "../src/events/handlers.js";
import { purgeExpiredPhotos } from "../src/data/photos.js";
import { visitsTest } from "./fixtures.js";

/** Photos of a home visit (issue 21.1) through @shouhu/attachments: who sees them follows the visit records' row of the need-to-know table. */
let prisma: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;
let store: AttachmentStore;
const now = new Date("2026-11-22T02:00:00Z");

visitsTest("visit-photos", { now: () => now, attachments: true }).beforeAll(async ({ visits }) => {
  ({ prisma, issuer, app } = visits);
  store = visits.attachments!;
});

function multipart(content: Buffer, fileName: string) {
  const boundary = "----visit-photo";
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: image/jpeg\r\n\r\n`),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

it("the visitor adds photos (EXIF/GPS removed); case workers see them, inspectors, health workers and other townships do not", async () => {
  const child = childSnapshot({});
  const handlers = visitEventHandlers(() => now);
  await consumeEvent<Tx>(
    buildEvent(
      "child.registered",
      { subject: child.id, orgUnit: child.villageCode, actor: { kind: "user", id: "r", name: "r" }, data: { child } },
      { producer: "registry", now },
    ),
    handlers,
    (fn) => prisma.$transaction(fn),
  );
  const rec = await app.inject({
    method: "POST",
    url: "/api/v1/visit-records",
    headers: await issuer.as("changling.director"),
    payload: { childId: child.id, kind: "home_visit", date: "2026-11-21", findings: { mood: "开朗" } },
  });
  expect(rec.statusCode, rec.body).toBe(201);
  const recordId = rec.json().id as string;
  const base = `/api/v1/visit-records/${recordId}/photos`;
  const photo = await sharp({ create: { width: 800, height: 600, channels: 3, background: "#789" } })
    .jpeg()
    .withExif({ IFD0: { Make: "PhoneCo" }, IFD3: { GPSLatitudeRef: "N", GPSLatitude: "28/1 12/1 30/1" } })
    .toBuffer();
  const upload = async (user: string, content: Buffer, name: string) => {
    const body = multipart(content, name);
    return app.inject({ method: "POST", url: base, headers: { ...(await issuer.as(user)), ...body.headers }, payload: body.payload });
  };

  const up = await upload("changling.director", photo, "家访.jpg");
  expect(up.statusCode, up.body).toBe(201);
  expect(JSON.parse(up.headers["x-shouhu-audit"] as string)).toEqual({ action: "attachment-upload", childIds: [child.id] });
  const photoId = up.json().id as string;

  const file = await app.inject({ url: `${base}/${photoId}/file`, headers: await issuer.as("changling.supervisor") });
  expect(file.statusCode).toBe(200);
  expect((await sharp(file.rawPayload).metadata()).exif).toBeUndefined();
  expect(JSON.parse(file.headers["x-shouhu-audit"] as string)).toEqual({ action: "attachment-read", childIds: [child.id] });
  const thumb = await app.inject({ url: `${base}/${photoId}/thumbnail`, headers: await issuer.as("changling.director") });
  expect(thumb.headers["content-type"]).toBe("image/webp");

  // Not a photo: refused by its bytes, nothing kept.
  const pdf = await upload("changling.director", Buffer.from("%PDF-1.4\n" + " ".repeat(5000)), "家访.jpg");
  expect(pdf.statusCode).toBe(400);
  expect(pdf.json().error.details[0].field).toBe("file");
  expect(await prisma.visitPhoto.count()).toBe(1);

  for (const user of ["county.inspector", "changling.doctor", "shimen.supervisor", "changling.teacher"]) {
    const list = await app.inject({ url: base, headers: await issuer.as(user) });
    expect(list.statusCode, user).toBe(404);
    expect((await app.inject({ url: `${base}/${photoId}/file`, headers: await issuer.as(user) })).statusCode, user).toBe(404);
  }
  expect((await upload("shimen.supervisor", photo, "x.jpg")).statusCode).toBe(404);

  const list = await app.inject({ url: base, headers: await issuer.as("county.admin") });
  expect(list.json().items.map((p: { id: string }) => p.id)).toEqual([photoId]);

  // Retention: two years on, the daily scan's purge removes object, thumbnail and row.
  expect(await purgeExpiredPhotos(prisma, store, new Date(now.getTime() + 3 * 365 * 86_400_000))).toBe(1);
  expect(await prisma.visitPhoto.count()).toBe(0);
  expect((await app.inject({ url: `${base}/${photoId}/file`, headers: await issuer.as("changling.director") })).statusCode).toBe(404);
});
