import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Queue, type Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { migrate } from "@shouhu/db";
import { jobQueues } from "@shouhu/contracts";
import { createRedisConnection } from "@shouhu/messaging";
import { createTestDatabase, startTestIssuer, testPrefix, type TestDatabase, type TestIssuer } from "@shouhu/testing";
import type { Redis } from "ioredis";
import { createPrisma, type PrismaClient } from "../src/data/db.js";
import { buildNotificationsApp } from "../src/app.js";
import { deliveryProcessor, type DeliveryDeps } from "../src/data/delivery.js";
import { parseQuietHours } from "../src/domain/quiet-hours.js";
import { aliyunSmsChannel } from "../src/channels/sms-aliyun.js";
import type { ChannelAdapter } from "../src/channels/types.js";

/**
 * Issue 15.5: an SMS goes out at most once per intent. A real SendSms-shaped
 * receiver counts what reaches the provider; the delivery processor runs as the
 * worker runs it, against real PostgreSQL and Redis.
 */
const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = testPrefix("once");
const now = () => new Date("2026-11-22T02:00:00Z"); // 10:00 in China, outside quiet hours

let db: TestDatabase;
let prisma: PrismaClient;
let redis: Redis;
let issuer: TestIssuer;
let app: ServiceApp;
let smsServer: Server;
let smsUrl: string;
/** Every SendSms request that reached the provider, by OutId (our message id). */
const received: string[] = [];
/** OutIds the provider takes but answers too late (a stall after it accepted). */
const slow = new Set<string>();

const readBody = async (req: IncomingMessage) => {
  let raw = "";
  for await (const c of req) raw += c;
  return raw;
};

function sms(timeoutMs = 2_000): ChannelAdapter {
  return aliyunSmsChannel({ endpoint: smsUrl, accessKeyId: "id", accessKeySecret: "secret", signName: "守护", templateCodes: { visit_overdue: "SMS_2" }, timeoutMs, now });
}

function deps(adapter: ChannelAdapter): DeliveryDeps {
  return { prisma, channels: { sms: adapter }, redis, keyPrefix: prefix, quiet: parseQuietHours("21:00-08:00"), now };
}

/** What BullMQ hands the processor: the job's data and id (no delay is needed at 10:00, urgent). */
const jobFor = (messageId: string, id = messageId) => ({ id, data: { messageId }, moveToDelayed: async () => undefined }) as unknown as Job;

async function message(orgUnit = "360999101201"): Promise<string> {
  const id = randomUUID();
  await prisma.message.create({
    data: {
      id,
      dedupKey: id,
      sourceEventId: randomUUID(),
      sourceEventType: "visit.overdue",
      rule: "visit-overdue",
      channel: "sms",
      template: "visit_overdue",
      urgent: true,
      address: "13912345678",
      orgUnit,
      title: "走访逾期",
      body: "请尽快走访",
      vars: { child: "李小花" },
      status: "queued",
      notBefore: now(),
    },
  });
  return id;
}

const status = async (id: string) => (await prisma.message.findUnique({ where: { id } }))!;
const times = (id: string) => received.filter((r) => r === id).length;

beforeAll(async () => {
  db = await createTestDatabase("notifications");
  await migrate({ databaseUrl: db.url, migrationsDir });
  prisma = createPrisma(db.url);
  redis = createRedisConnection(REDIS_URL, { role: "worker" });
  issuer = await startTestIssuer();
  app = await buildNotificationsApp({
    prisma,
    verifier: createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] }),
    logger: createLogger("notifications-test", "silent"),
    deadLetters: { connection: redis, prefix },
  });
  await app.ready();
  smsServer = createServer(async (req, res) => {
    const form = Object.fromEntries(new URLSearchParams(await readBody(req)));
    received.push(form.OutId!);
    const answer = () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ Code: "OK", Message: "OK", BizId: `biz-${received.length}` }));
    if (slow.has(form.OutId!)) setTimeout(answer, 1_500);
    else answer();
  });
  smsUrl = await new Promise<string>((resolve) => smsServer.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(smsServer.address() as AddressInfo).port}`)));
});

afterAll(async () => {
  const queue = new Queue(jobQueues.notificationsDeliver, { connection: redis, prefix });
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await app?.close();
  redis?.disconnect();
  await issuer?.close();
  smsServer?.close();
  await prisma?.$disconnect();
  await db?.drop();
});

describe("at most once per intent", () => {
  it("a send that stalls after the provider accepted is not sent again: the message becomes unknown", async () => {
    const id = await message();
    slow.add(id);
    // The provider takes the message but answers after our timeout: we cannot know it went out.
    expect(await deliveryProcessor(deps(sms(300)))(jobFor(id))).toBe("unknown");
    expect(await status(id)).toMatchObject({ status: "unknown", attempts: 1, lastError: expect.stringContaining("连接失败") });
    // A retry of the job (BullMQ's, or a re-dispatch) sends nothing.
    expect(await deliveryProcessor(deps(sms()))(jobFor(id, `${id}-again`))).toBe("skipped");
    await new Promise((r) => setTimeout(r, 1_600)); // the provider's late answer arrives; still one request
    expect(times(id)).toBe(1);
    expect((await status(id)).status).toBe("unknown");
  });

  it("a worker that dies after the provider accepted (its job redelivered as stalled) sends no second SMS", async () => {
    const id = await message();
    const real = sms();
    // The process dies right after the provider accepted: the call never returns to us.
    const dying: ChannelAdapter = { send: async (m) => (await real.send(m), new Promise<never>(() => undefined)) };
    void deliveryProcessor(deps(dying))(jobFor(id));
    await expect.poll(() => times(id), { timeout: 5_000 }).toBe(1);
    // Its send lock expires with it (60 s; here at once), and BullMQ hands the stalled job to another worker.
    await redis.del(`${prefix}:notify-sending:${id}`);
    expect(await deliveryProcessor(deps(real))(jobFor(id))).toBe("unknown");
    expect(times(id)).toBe(1);
    expect(await status(id)).toMatchObject({ status: "unknown", attempts: 1, lastError: expect.stringContaining("未得到结果") });
  });

  it("a known 'not sent' (connection refused before anything went out) is retried and sent once", async () => {
    const id = await message();
    const closed = createServer();
    const port = await new Promise<number>((resolve) => closed.listen(0, "127.0.0.1", () => resolve((closed.address() as AddressInfo).port)));
    await new Promise((r) => closed.close(r));
    const refused = aliyunSmsChannel({ endpoint: `http://127.0.0.1:${port}`, accessKeyId: "id", accessKeySecret: "secret", signName: "守护", templateCodes: { visit_overdue: "SMS_2" }, now });
    await expect(deliveryProcessor(deps(refused))(jobFor(id))).rejects.toMatchObject({ name: "ChannelError", outcome: "not-sent" });
    expect(await status(id)).toMatchObject({ status: "queued", sendStartedAt: null, attempts: 1 });
    expect(await deliveryProcessor(deps(sms()))(jobFor(id))).toBe("sent");
    expect(times(id)).toBe(1);
    expect(await status(id)).toMatchObject({ status: "sent", attempts: 2, sendStartedAt: null });
  });

  it("a provider that drops repeats of the same key is simply asked again after an unknown outcome", async () => {
    const id = await message();
    slow.add(id);
    const accepted = new Set<string>();
    // A provider with an idempotency key: a second request with the same key is acknowledged, not sent.
    const keyed = (timeoutMs: number): ChannelAdapter => ({
      idempotent: true,
      send: async (m) => (accepted.has(m.id) ? { providerId: "dup" } : (accepted.add(m.id), sms(timeoutMs).send(m))),
    });
    await expect(deliveryProcessor(deps(keyed(300)))(jobFor(id))).rejects.toMatchObject({ outcome: "unknown" });
    expect((await status(id)).status).toBe("queued");
    expect(await deliveryProcessor(deps(keyed(2_000)))(jobFor(id))).toBe("sent");
    expect(times(id)).toBe(1);
  });
});

describe("a person decides an unknown outcome", () => {
  const as = async (username: string, overrides?: Record<string, unknown>) => ({
    authorization: `Bearer ${await issuer.server.issueToken(username, "shouhu-web", { issuer: issuer.issuerUrl, ...(overrides ? { overrides } : {}) })}`,
  });

  async function unknownMessage(): Promise<string> {
    const id = await message();
    await prisma.message.update({ where: { id }, data: { status: "unknown", attempts: 1, sendStartedAt: now(), lastError: "连接失败：timeout" } });
    return id;
  }

  it("the county admin sees it as 发送结果未知, and may mark it sent (published as delivered)", async () => {
    const id = await unknownMessage();
    const admin = await as("county.admin");
    const list = await app.inject({ url: "/api/v1/notifications/messages?status=unknown", headers: admin });
    expect(list.statusCode).toBe(200);
    expect(list.json().items).toContainEqual(expect.objectContaining({ id, status: "unknown", statusLabel: "发送结果未知" }));
    const res = await app.inject({ method: "POST", url: `/api/v1/notifications/messages/${id}/decision`, headers: admin, payload: { decision: "mark-sent" } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id, status: "sent", statusLabel: "已发送" });
    expect(await status(id)).toMatchObject({ status: "sent", sendStartedAt: null });
    expect(await prisma.outboxEvent.count({ where: { type: "notification.delivered", envelope: { path: ["data", "messageId"], equals: id } } })).toBe(1);
    // Decided once: a second decision is refused, naming the state.
    const again = await app.inject({ method: "POST", url: `/api/v1/notifications/messages/${id}/decision`, headers: admin, payload: { decision: "resend" } });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: "MESSAGE_NOT_UNKNOWN", message: expect.stringContaining("已发送") });
  });

  it("resend puts it back on the delivery queue under a fresh job id, and the worker sends it once", async () => {
    const id = await unknownMessage();
    const res = await app.inject({ method: "POST", url: `/api/v1/notifications/messages/${id}/decision`, headers: await as("county.admin"), payload: { decision: "resend" } });
    expect(res.json()).toEqual({ id, status: "queued", statusLabel: "排队中" });
    const queue = new Queue(jobQueues.notificationsDeliver, { connection: redis, prefix });
    try {
      const job = await queue.getJob(`${id}-resend-1`);
      expect(job?.data).toEqual({ messageId: id });
      expect(job?.opts.attempts).toBe(6);
      expect(await deliveryProcessor(deps(sms()))(job!)).toBe("sent");
      expect(times(id)).toBe(1);
      await job!.remove();
    } finally {
      await queue.close();
    }
  });

  it("only a county admin of the message's county decides; bad input is named", async () => {
    const id = await unknownMessage();
    const url = `/api/v1/notifications/messages/${id}/decision`;
    const other = await app.inject({ method: "POST", url, headers: await as("county.admin", { org_unit: "360888" }), payload: { decision: "mark-sent" } });
    expect(other.statusCode).toBe(404); // another county's message does not exist for them
    expect((await app.inject({ url: "/api/v1/notifications/messages?status=unknown", headers: await as("county.admin", { org_unit: "360888" }) })).json().items).toEqual([]);
    const supervisor = await app.inject({ method: "POST", url, headers: await as("changling.supervisor"), payload: { decision: "mark-sent" } });
    expect(supervisor.statusCode).toBe(403);
    const bad = await app.inject({ method: "POST", url, headers: await as("county.admin"), payload: { decision: "ignore" } });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain("decision");
    expect((await status(id)).status).toBe("unknown");
  });
});
