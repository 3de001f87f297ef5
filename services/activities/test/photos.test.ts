import sharp from "sharp";
import { expect, it } from "vitest";
import type { ServiceApp } from "@shouhu/kit";
import { buildEvent, consumeEvent } from "@shouhu/messaging";
import { childSnapshot, type TestIssuer } from "@shouhu/testing";
import type { AttachmentStore } from "@shouhu/attachments";
import type { PrismaClient, Tx } from "../src/data/db.js";
import { activityHandlers } from "../src/events/handlers.js";
import { purgeExpiredPhotos } from "../src/data/photos.js";
import { activitiesTest } from "./fixtures.js";

/** Photos of a session at a children's home (每次活动均有照片) through @shouhu/attachments: seen as the session's written record is. */
let prisma: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;
let store: AttachmentStore;
const now = new Date("2026-11-22T02:00:00Z");
const VILLAGE = "360999101201";

activitiesTest("session-photos", { now: () => now, attachments: true }).beforeAll(async ({ activities }) => {
  ({ prisma, issuer, app } = activities);
  store = activities.attachments!;
});

function multipart(content: Buffer, fileName: string) {
  const boundary = "----session-photo";
  const payload = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: image/jpeg\r\n\r\n`),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { payload, headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

it("a keeper adds photos to a session (EXIF/GPS removed); they come with the session for case workers, not for inspectors or health workers", async () => {
  const child = childSnapshot({ villageCode: VILLAGE });
  await consumeEvent<Tx>(
    buildEvent(
      "child.registered",
      { subject: child.id, orgUnit: VILLAGE, actor: { kind: "user", id: "r", name: "r" }, data: { child } },
      { producer: "registry", now },
    ),
    activityHandlers(),
    (fn) => prisma.$transaction(fn),
  );
  const as = async (user: string) => issuer.as(user);
  const site = await app.inject({
    method: "POST",
    url: "/api/v1/sites",
    headers: await as("changling.director"),
    payload: { kind: "village", orgUnit: VILLAGE, name: "长岭村留守儿童之家", childIds: [child.id] },
  });
  expect(site.statusCode, site.body).toBe(201);
  const siteId = site.json().id as string;
  const session = await app.inject({
    method: "POST",
    url: `/api/v1/sites/${siteId}/sessions`,
    headers: await as("changling.director"),
    payload: { date: "2026-11-21", kind: "recreation", leader: "张主任", summary: "包饺子", attendance: [child.id] },
  });
  expect(session.statusCode, session.body).toBe(201);
  const base = `/api/v1/sites/${siteId}/sessions/${session.json().id}/photos`;
  const photo = await sharp({ create: { width: 800, height: 600, channels: 3, background: "#975" } })
    .jpeg()
    .withExif({ IFD0: { Make: "PhoneCo" }, IFD3: { GPSLatitudeRef: "N", GPSLatitude: "28/1 12/1 30/1" } })
    .toBuffer();
  const upload = async (user: string, content: Buffer, name: string) => {
    const body = multipart(content, name);
    return app.inject({ method: "POST", url: base, headers: { ...(await as(user)), ...body.headers }, payload: body.payload });
  };

  const up = await upload("changling.director", photo, "包饺子.jpg");
  expect(up.statusCode, up.body).toBe(201);
  expect(JSON.parse(up.headers["x-shouhu-audit"] as string)).toEqual({ action: "attachment-upload", childIds: [child.id] });
  const photoId = up.json().id as string;

  const file = await app.inject({ url: `${base}/${photoId}/file`, headers: await as("changling.supervisor") });
  expect(file.statusCode).toBe(200);
  expect((await sharp(file.rawPayload).metadata()).exif).toBeUndefined();
  expect(JSON.parse(file.headers["x-shouhu-audit"] as string)).toEqual({ action: "attachment-read", childIds: [child.id] });
  const thumb = await app.inject({ url: `${base}/${photoId}/thumbnail`, headers: await as("changling.director") });
  expect(thumb.headers["content-type"]).toBe("image/webp");

  // The session list carries its photos for case workers; an inspector's has none and cannot fetch one.
  const sessions = async (user: string) =>
    (await app.inject({ url: `/api/v1/sites/${siteId}/sessions`, headers: await as(user) })).json().items[0].photos.map((p: { id: string }) => p.id);
  expect(await sessions("changling.supervisor")).toEqual([photoId]);
  expect(await sessions("county.inspector")).toEqual([]);
  expect((await app.inject({ url: `${base}/${photoId}/file`, headers: await as("county.inspector") })).statusCode).toBe(403);
  expect((await app.inject({ url: `${base}/${photoId}/file`, headers: await as("changling.doctor") })).statusCode).toBe(403);
  expect((await app.inject({ url: `${base}/${photoId}/file`, headers: await as("shimen.supervisor") })).statusCode).toBe(404);
  expect((await upload("shimen.supervisor", photo, "x.jpg")).statusCode).toBe(404);
  expect((await upload("county.inspector", photo, "x.jpg")).statusCode).toBe(403);

  // Not a photo: refused by its bytes, nothing kept.
  const pdf = await upload("changling.director", Buffer.from("%PDF-1.4\n" + " ".repeat(5000)), "活动.jpg");
  expect(pdf.statusCode).toBe(400);
  expect(pdf.json().error.details[0].field).toBe("file");
  expect(await prisma.sessionPhoto.count()).toBe(1);

  // Retention: two years on, the purge removes object, thumbnail and row.
  expect(await purgeExpiredPhotos(prisma, store, new Date(now.getTime() + 3 * 365 * 86_400_000))).toBe(1);
  expect(await prisma.sessionPhoto.count()).toBe(0);
  expect((await app.inject({ url: `${base}/${photoId}/file`, headers: await as("changling.director") })).statusCode).toBe(404);
});
