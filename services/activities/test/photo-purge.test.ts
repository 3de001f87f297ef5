import sharp from "sharp";
import { expect } from "vitest";
import { jobQueues } from "@shouhu/contracts";
import { createLogger } from "@shouhu/kit";
import { buildEvent, consumeEvent, createJobQueue, createRedisConnection } from "@shouhu/messaging";
import { childSnapshot, testPrefix } from "@shouhu/testing";
import type { Tx } from "../src/data/db.js";
import { activityHandlers } from "../src/events/handlers.js";
import { PURGE_PHOTOS_CRON, PURGE_PHOTOS_JOB, startScheduleWorker } from "../src/jobs/schedule-worker.js";
import { activitiesTest } from "./fixtures.js";

/** The purge of expired session photos is a job on activities.schedule: one scheduler however many workers, one run per job. */
const clock = { now: new Date("2026-11-22T02:00:00Z") };
const VILLAGE = "360999101201";
const test = activitiesTest("photo-purge", { now: () => clock.now, attachments: true });

test("the scheduled purge job deletes an expired photo's objects and row", async ({ activities }) => {
  const { prisma, issuer, app } = activities;
  const store = activities.attachments!;
  const child = childSnapshot({ villageCode: VILLAGE });
  await consumeEvent<Tx>(
    buildEvent(
      "child.registered",
      { subject: child.id, orgUnit: VILLAGE, actor: { kind: "user", id: "r", name: "r" }, data: { child } },
      { producer: "registry", now: clock.now },
    ),
    activityHandlers(),
    (fn) => prisma.$transaction(fn),
  );
  const headers = await issuer.as("changling.director");
  const site = await app.inject({
    method: "POST",
    url: "/api/v1/sites",
    headers,
    payload: { kind: "village", orgUnit: VILLAGE, name: "长岭村留守儿童之家", childIds: [child.id] },
  });
  expect(site.statusCode, site.body).toBe(201);
  const session = await app.inject({
    method: "POST",
    url: `/api/v1/sites/${site.json().id}/sessions`,
    headers,
    payload: { date: "2026-11-21", kind: "recreation", leader: "张主任", summary: "包饺子", attendance: [child.id] },
  });
  expect(session.statusCode, session.body).toBe(201);
  const boundary = "----purge";
  const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#975" } })
    .jpeg()
    .toBuffer();
  const up = await app.inject({
    method: "POST",
    url: `/api/v1/sites/${site.json().id}/sessions/${session.json().id}/photos`,
    headers: { ...headers, "content-type": `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
      jpeg,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
  });
  expect(up.statusCode, up.body).toBe(201);
  const row = await prisma.sessionPhoto.findUniqueOrThrow({ where: { id: up.json().id } });
  await expect(store.open(row.objectKey)).resolves.toBeTruthy();

  const prefix = testPrefix("activities_sched");
  const connection = createRedisConnection(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { role: "worker" });
  const queue = createJobQueue(jobQueues.activitiesSchedule, connection, prefix);
  const deps = { prisma, connection, prefix, queue, logger: createLogger("purge", "silent"), attachments: store, now: () => clock.now };
  // Two replicas start: still one schedule.
  const workers = [await startScheduleWorker(deps), await startScheduleWorker(deps)];
  try {
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: PURGE_PHOTOS_JOB, pattern: PURGE_PHOTOS_CRON, tz: "Asia/Shanghai" });
    const result = async (id: string) => (await queue.getJob(id))?.returnvalue ?? null;

    // Not yet expired: a run deletes nothing.
    const early = await queue.add(PURGE_PHOTOS_JOB, {});
    await expect.poll(() => result(early.id!), { timeout: 10_000 }).toEqual({ deleted: 0 });
    expect(await prisma.sessionPhoto.count()).toBe(1);

    // Three years on: the job removes the file, its thumbnail and the row.
    clock.now = new Date(clock.now.getTime() + 3 * 365 * 86_400_000);
    const late = await queue.add(PURGE_PHOTOS_JOB, {});
    await expect.poll(() => result(late.id!), { timeout: 10_000 }).toEqual({ deleted: 1 });
    expect(await prisma.sessionPhoto.count()).toBe(0);
    await expect(store.open(row.objectKey)).rejects.toThrow();
    await expect(store.open(row.thumbnailKey!)).rejects.toThrow();
  } finally {
    for (const w of workers) await w.close();
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
  }
});
