import { fileURLToPath } from "node:url";
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import type { Queue, Worker } from "bullmq";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger, type ServiceApp } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { migrate } from "@shouhu/db";
import { type ChildSnapshot, type Envelope, type EventData, type EventType } from "@shouhu/contracts";
import { buildEvent, consumeEvent, createRedisConnection } from "@shouhu/messaging";
import { createTestDatabase, realmFile, startTestIssuer, testPrefix, type TestDatabase, type TestIssuer } from "@shouhu/testing";
import type { Redis } from "ioredis";
import { createPrisma, type PrismaClient, type Tx } from "../src/data/db.js";
import { buildNotificationsApp } from "../src/app.js";
import { notificationHandlers } from "../src/events/handlers.js";
import { syncDirectoryFromRealm } from "../src/data/directory.js";
import { dispatchQueued } from "../src/data/dispatch.js";
import { remindBirthdays } from "../src/data/birthdays.js";
import { parseQuietHours } from "../src/domain/quiet-hours.js";
import { emailChannel } from "../src/channels/email.js";
import { aliyunSignature, aliyunSmsChannel } from "../src/channels/sms-aliyun.js";
import { dingtalkChannel, dingtalkSign, wecomChannel } from "../src/channels/robots.js";
import { createDeliveryQueue, startDeliveryWorker } from "../src/jobs/workers.js";

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const quiet = parseQuietHours("21:00-08:00");
const SECRET = "test-secret";

let db: TestDatabase;
let prisma: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;
let redis: Redis;
let queue: Queue;
let worker: Worker;
const prefix = testPrefix("notify");
const clock = { now: new Date("2026-11-22T02:00:00Z") }; // 10:00 in China
const handlers = notificationHandlers({ now: () => clock.now, quiet });

// Real receivers: an SMTP server, an SMS provider endpoint, two group robots.
let smtp: SMTPServer;
const mails: { to: string[]; raw: string }[] = [];
let smsServer: Server;
const sms: Record<string, string>[] = [];
const smsAnswers: { status: number; body: object }[] = [];
let robotServer: Server;
const robots: { path: string; query: URLSearchParams; body: { text: { content: string } } }[] = [];

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => resolve(data));
  });
const listen = (server: Server) => new Promise<string>((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

beforeAll(async () => {
  db = await createTestDatabase("notifications");
  await migrate({ databaseUrl: db.url, migrationsDir });
  prisma = createPrisma(db.url);
  await syncDirectoryFromRealm(prisma, realmFile);
  issuer = await startTestIssuer();
  redis = createRedisConnection(REDIS_URL, { role: "worker" });
  app = await buildNotificationsApp({
    prisma,
    verifier: createTokenVerifier({ issuerUrl: issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] }),
    logger: createLogger("notifications-test", "silent"),
    deadLetters: { connection: redis, prefix },
  });
  await app.ready();

  smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onRcptTo(address, _session, cb) {
      // A mailbox that does not exist: a permanent 550.
      if (address.address.startsWith("nobody@")) return cb(Object.assign(new Error("No such mailbox"), { responseCode: 550 }));
      cb();
    },
    onData(stream, session, cb) {
      let raw = "";
      stream.on("data", (c: Buffer) => (raw += c.toString("utf8")));
      stream.on("end", () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  const smtpPort = (smtp.server.address() as AddressInfo).port;

  smsServer = createServer(async (req, res) => {
    const form = Object.fromEntries(new URLSearchParams(await readBody(req)));
    const { Signature, ...params } = form;
    const valid = Signature === aliyunSignature("POST", params as Record<string, string>, SECRET);
    sms.push(form);
    const answer = !valid ? { status: 400, body: { Code: "SignatureDoesNotMatch" } } : (smsAnswers.shift() ?? { status: 200, body: { Code: "OK", Message: "OK", BizId: `biz-${sms.length}` } });
    res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
  });
  const smsUrl = await listen(smsServer);

  robotServer = createServer(async (req, res) => {
    const url = new URL(req.url!, "http://x");
    robots.push({ path: url.pathname, query: url.searchParams, body: JSON.parse(await readBody(req)) });
    if (url.pathname === "/dingtalk") {
      const ts = Number(url.searchParams.get("timestamp"));
      if (url.searchParams.get("sign") !== dingtalkSign(ts, "ding-secret")) return res.writeHead(200).end(JSON.stringify({ errcode: 310000, errmsg: "sign not match" }));
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ errcode: 0, errmsg: "ok" }));
  });
  const robotUrl = await listen(robotServer);
  await prisma.officeChannel.createMany({
    data: [
      { orgUnit: "360999101", kind: "wecom", url: `${robotUrl}/wecom?key=abc` },
      { orgUnit: "360999101", kind: "dingtalk", url: `${robotUrl}/dingtalk?access_token=t`, secret: "ding-secret" },
    ],
  });

  queue = createDeliveryQueue(redis, prefix, { attempts: 3, backoffMs: 50 });
  worker = startDeliveryWorker({
    prisma,
    redis,
    keyPrefix: prefix,
    quiet,
    now: () => clock.now,
    connection: redis,
    prefix,
    logger: createLogger("delivery", "silent"),
    channels: {
      email: emailChannel({ smtpUrl: `smtp://127.0.0.1:${smtpPort}`, from: "守护 <noreply@shouhu.test>" }),
      sms: aliyunSmsChannel({ endpoint: smsUrl, accessKeyId: "test-id", accessKeySecret: SECRET, signName: "守护", templateCodes: { concern_raised: "SMS_1", visit_overdue: "SMS_2", pairing_started_helper: "SMS_3", pairing_started_guardian: "SMS_4" } }),
      wecom: wecomChannel(),
      dingtalk: dingtalkChannel(() => clock.now),
    },
  });
});

afterAll(async () => {
  await worker?.close();
  await queue?.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  const dead = createDeliveryQueue(redis, prefix, { attempts: 1, backoffMs: 10 });
  await dead.close();
  redis?.disconnect();
  await app?.close();
  await issuer?.close();
  smtp?.close();
  smsServer?.close();
  robotServer?.close();
  await prisma?.$disconnect();
  await db?.drop();
});

beforeEach(() => {
  clock.now = new Date("2026-11-22T02:00:00Z");
});

const deliver = (event: Envelope) => consumeEvent<Tx>(event, handlers, (fn) => prisma.$transaction(fn));
const event = <T extends EventType>(type: T, data: EventData<T>, subject: string = randomUUID(), orgUnit = "360999101201") =>
  buildEvent(type, { subject, orgUnit, actor: { kind: "system", id: "test" }, data }, { producer: "test", now: clock.now });

async function messagesOf(sourceEventId: string) {
  return prisma.message.findMany({ where: { sourceEventId }, orderBy: [{ channel: "asc" }, { address: "asc" }] });
}
type Stored = Awaited<ReturnType<typeof messagesOf>>;
async function settle(sourceEventId: string, done: (m: Stored) => boolean, timeout = 10_000) {
  await dispatchQueued(prisma, queue, clock.now);
  await expect.poll(async () => done(await messagesOf(sourceEventId)), { timeout, interval: 50 }).toBe(true);
  return messagesOf(sourceEventId);
}

function concern(child = { id: randomUUID(), name: "陈小雨", villageCode: "360999101201", townshipCode: "360999101" }) {
  return event(
    "concern.raised",
    { concernId: randomUUID(), recordId: null, category: "abuse_suspected", description: "手臂有多处淤青", child, raisedBy: { userId: "u1", name: "周主任" }, ownerOrgUnit: "360999101", urgent: true },
    child.id,
  );
}

function overdue(level: 1 | 2, phone = "13912345678") {
  const child = { id: randomUUID(), name: "李小花", villageCode: "360999101201", townshipCode: "360999101" };
  return event(
    "visit.overdue",
    {
      itemId: randomUUID(),
      kind: "parent_call",
      period: "2026-11",
      dueDate: "2026-12-05",
      child,
      responsible: { kind: "helper", helperId: randomUUID(), name: "王老师", phone, username: "changling.teacher", villageCode: "360999101201" },
      daysOverdue: level === 1 ? 1 : 8,
      level,
    },
    child.id,
  );
}

describe("channels against real receivers", () => {
  it("a concern reaches the township supervisor in-app, by SMS and e-mail, the office robots, and the village director — at once, even at night", async () => {
    clock.now = new Date("2026-11-22T14:30:00Z"); // 22:30 in China: quiet hours, but concerns are urgent
    const e = concern();
    expect(await deliver(e)).toBe("applied");
    const all = await settle(e.id, (ms) => ms.every((m) => m.status === "sent"));
    expect(all.map((m) => `${m.channel}:${m.recipientUsername ?? "office"}`).sort()).toEqual([
      "dingtalk:office",
      "email:changling.supervisor",
      "inapp:changling.director",
      "inapp:changling.supervisor",
      "sms:changling.supervisor",
      "wecom:office",
    ]);
    expect(all.filter((m) => m.channel === "wecom" || m.channel === "dingtalk")).toHaveLength(2);

    const mail = mails.find((m) => m.to.includes("changling.supervisor@example.org"))!;
    expect(mail.raw).toContain("Subject: =?UTF-8?");
    const smsSent = sms.find((s) => s.OutId === all.find((m) => m.channel === "sms")!.id)!;
    expect(smsSent).toMatchObject({ Action: "SendSms", PhoneNumbers: "13907300101", TemplateCode: "SMS_1", SignName: "守护" });
    expect(JSON.parse(smsSent.TemplateParam!)).toMatchObject({ child: "陈小雨", category: "疑似遭受侵害" });
    expect(robots.find((r) => r.path === "/wecom")!.body.text.content).toContain("陈小雨");
    expect(robots.find((r) => r.path === "/dingtalk")!.query.get("sign")).toBeTruthy();
    // Delivered messages are published for reporting.
    expect(await prisma.outboxEvent.count({ where: { type: "notification.delivered", subject: e.subject } })).toBe(all.filter((m) => m.channel !== "inapp").length);
  });

  it("signs SMS requests as Alibaba Cloud documents (published example)", () => {
    const params = {
      AccessKeyId: "testId",
      Action: "SendSms",
      Format: "XML",
      OutId: "123",
      PhoneNumbers: "15300000001",
      RegionId: "cn-hangzhou",
      SignName: "阿里云短信测试专用",
      SignatureMethod: "HMAC-SHA1",
      SignatureNonce: "45e25e9b-0a6f-4070-8c85-2956eda1b466",
      SignatureVersion: "1.0",
      TemplateCode: "SMS_71390007",
      TemplateParam: '{"customer":"test"}',
      Timestamp: "2017-07-12T02:42:19Z",
      Version: "2017-05-25",
    };
    expect(aliyunSignature("GET", params, "testSecret")).toBe("zJDF+Lrzhj/ThnlvIToysFRq6t4=");
  });
});

describe("quiet hours, retries and dead letters", () => {
  it("holds a non-urgent SMS until 08:00 China time, while the in-app message is there at once", async () => {
    clock.now = new Date("2026-11-22T14:30:00Z"); // 22:30 China
    const e = overdue(1);
    await deliver(e);
    const ms = await messagesOf(e.id);
    const text = ms.find((m) => m.channel === "sms")!;
    expect(text.notBefore.toISOString()).toBe("2026-11-23T00:00:00.000Z"); // 08:00 China
    expect(ms.find((m) => m.channel === "inapp")).toMatchObject({ status: "sent", recipientUsername: "changling.teacher" });
    await dispatchQueued(prisma, queue, clock.now);
    const job = await queue.getJob(text.id);
    expect(job!.opts.delay).toBe(9.5 * 3600_000);
    expect(await job!.getState()).toBe("delayed");
    await job!.remove();
  });

  it("retries a failing provider with backoff and succeeds", async () => {
    smsAnswers.push({ status: 500, body: { Code: "isp.SYSTEM_ERROR", Message: "busy" } }, { status: 200, body: { Code: "isv.BUSINESS_LIMIT_CONTROL", Message: "flow control" } });
    const e = overdue(1, "13911110001");
    await deliver(e);
    const [sent] = (await settle(e.id, (ms) => ms.find((m) => m.address === "13911110001")?.status === "sent")).filter((m) => m.channel === "sms");
    expect(sent).toMatchObject({ status: "sent", attempts: 3, lastError: null });
  });

  it("dead-letters a message after its last attempt, shows why, and replays it once the cause is fixed", async () => {
    smsAnswers.push(...Array.from({ length: 3 }, () => ({ status: 500, body: { Code: "isp.SYSTEM_ERROR", Message: "down" } })));
    const e = overdue(1, "13911110002");
    await deliver(e);
    const failed = (await settle(e.id, (ms) => ms.find((m) => m.channel === "sms")?.status === "failed")).find((m) => m.channel === "sms")!;
    expect(failed.lastError).toContain("isp.SYSTEM_ERROR");
    expect(await prisma.outboxEvent.count({ where: { type: "notification.failed", subject: e.subject } })).toBe(1);

    const admin = await issuer.as("county.admin");
    const letters = (await app.inject({ url: "/api/v1/notifications/dead-letters", headers: admin })).json().items as { id: string; messageId: string; reason: string }[];
    const letter = letters.find((l) => l.messageId === failed.id)!;
    expect(letter.reason).toContain("isp.SYSTEM_ERROR");
    expect((await app.inject({ url: "/api/v1/notifications/dead-letters", headers: await issuer.as("changling.supervisor") })).statusCode).toBe(403);

    const replay = await app.inject({ method: "POST", url: "/api/v1/notifications/dead-letters/replay", headers: admin, payload: { ids: [letter.id] } });
    expect(replay.json()).toEqual({ replayed: 1 });
    await expect.poll(async () => (await prisma.message.findUnique({ where: { id: failed.id } }))!.status, { timeout: 10_000 }).toBe("sent");
  });

  it("does not retry what the provider refuses for good (an invalid number)", async () => {
    smsAnswers.push({ status: 200, body: { Code: "isv.MOBILE_NUMBER_ILLEGAL", Message: "bad number" } });
    const e = overdue(1, "13911110003");
    await deliver(e);
    const text = (await settle(e.id, (ms) => ms.find((m) => m.channel === "sms")?.status === "failed")).find((m) => m.channel === "sms")!;
    expect(text.attempts).toBe(1);
  });

  it("a bounced e-mail (550) fails without retries", async () => {
    await prisma.staffUser.update({ where: { username: "shimen.supervisor" }, data: { email: "nobody@example.org" } });
    const e = overdue(2);
    // Level 2 goes to the township supervisor of the child's township; make it Shimen's.
    (e.data as EventData<"visit.overdue">).child.townshipCode = "360999102";
    await deliver(e);
    const mail = (await settle(e.id, (ms) => ms.find((m) => m.channel === "email")?.status === "failed")).find((m) => m.channel === "email")!;
    expect(mail).toMatchObject({ attempts: 1, address: "nobody@example.org" });
    expect(mail.lastError).toContain("550");
  });
});

describe("never twice, and not too many", () => {
  it("the same event delivered twice — and dispatched twice — sends each message once", async () => {
    const e = concern();
    expect(await deliver(e)).toBe("applied");
    expect(await deliver(e)).toBe("duplicate");
    // Even past the inbox (a replay under a new consumer), the message keys hold.
    await prisma.inboxEvent.delete({ where: { eventId: e.id } });
    expect(await deliver(e)).toBe("applied");
    const before = sms.length;
    await settle(e.id, (ms) => ms.every((m) => m.status === "sent"));
    await prisma.$executeRawUnsafe(`UPDATE messages SET enqueued_at = NULL WHERE source_event_id = $1`, e.id);
    await dispatchQueued(prisma, queue, clock.now);
    await new Promise((r) => setTimeout(r, 300));
    const messages = await messagesOf(e.id);
    expect(messages.filter((m) => m.channel === "sms")).toHaveLength(1);
    expect(sms.length - before).toBe(1);
  });

  it("holds back the sixth SMS to one phone within the hour", async () => {
    const events = Array.from({ length: 6 }, () => overdue(1, "13911110009"));
    for (const e of events) await deliver(e);
    await dispatchQueued(prisma, queue, clock.now);
    await expect
      .poll(async () => prisma.message.count({ where: { address: "13911110009", status: "sent" } }), { timeout: 10_000 })
      .toBe(5);
    await new Promise((r) => setTimeout(r, 300));
    expect(await prisma.message.count({ where: { address: "13911110009", status: "queued" } })).toBe(1);
    const held = await prisma.message.findFirst({ where: { address: "13911110009", status: "queued" } });
    await expect.poll(async () => (await queue.getJob(held!.id))!.getState(), { timeout: 5_000 }).toBe("delayed");
  });
});

describe("in-app inbox", () => {
  it("shows each user only their own messages, and marks them read", async () => {
    const e = concern();
    await deliver(e);
    const supervisor = await issuer.as("changling.supervisor");
    const inbox = (await app.inject({ url: "/api/v1/inbox?unread=true", headers: supervisor })).json();
    const mine = inbox.items.find((m: { sourceEventType: string; body: string }) => m.body.includes("手臂有多处淤青"));
    expect(mine).toMatchObject({ title: "紧急：儿童关注事项", urgent: true });
    expect(inbox.unread).toBeGreaterThan(0);

    const other = await issuer.as("shimen.supervisor");
    const theirs = (await app.inject({ url: "/api/v1/inbox", headers: other })).json();
    expect(theirs.items.find((m: { id: string }) => m.id === mine.id)).toBeUndefined();
    expect((await app.inject({ method: "POST", url: `/api/v1/inbox/${mine.id}/read`, headers: other })).statusCode).toBe(404);
    const read = await app.inject({ method: "POST", url: `/api/v1/inbox/${mine.id}/read`, headers: supervisor });
    expect(read.statusCode).toBe(200);
    expect((await prisma.message.findUnique({ where: { id: mine.id } }))!.status).toBe("read");

    const status = await app.inject({ url: `/api/v1/notifications/messages?childId=${e.subject}`, headers: await issuer.as("county.admin") });
    expect(status.json().items.map((m: { status: string }) => m.status)).toContain("read");
    expect((await app.inject({ url: "/api/v1/notifications/messages", headers: supervisor })).statusCode).toBe(403);
  });
});

describe("check-up results", () => {
  it("tells the guardian by SMS and the mentor in-app what the check-up found", async () => {
    const child = { id: randomUUID(), name: "张小明", villageCode: "360999101201", townshipCode: "360999101" };
    const e = event(
      "checkup.flagged",
      {
        examId: randomUUID(),
        followUpId: randomUUID(),
        campaignId: null,
        date: "2026-11-20",
        child,
        flag: { kind: "anaemia", severity: "moderate", label: "贫血（中度）" },
        guardian: { name: "张奶奶", phone: "13977778888" },
        helper: { name: "王老师", phone: "13907300301", username: "changling.teacher" },
      },
      child.id,
    );
    await deliver(e);
    const ms = await messagesOf(e.id);
    expect(ms.map((m) => `${m.rule}:${m.channel}:${m.address}`).sort()).toEqual(["checkup-guardian:sms:13977778888", "checkup-helper:inapp:changling.teacher"]);
    expect(ms.find((m) => m.channel === "sms")!.body).toBe("张小明在2026-11-20的体检中发现：贫血（中度）。请带孩子到乡镇卫生院复查或就医。");
  });
});

describe("birthdays", () => {
  it("reminds the mentor of a birthday this week, once however often the job runs", async () => {
    const child: ChildSnapshot = {
      id: randomUUID(),
      name: "刘小寿",
      sex: "male",
      birthDate: "2016-11-25",
      villageCode: "360999101201",
      townshipCode: "360999101",
      countyCode: "360999",
      schoolId: null,
      schoolName: null,
      grade: null,
      className: null,
      leftBehindType: "both_parents_away",
      difficultyCategories: [],
      riskLevel: "low",
      status: "active",
      exitReason: null,
      guardian: { name: "刘奶奶", relation: "祖母", phone: "13955556666" },
      parents: [],
      revision: 1,
    };
    await deliver(event("child.registered", { child }, child.id));
    const started = event(
      "pairing.started",
      {
        pairingId: randomUUID(),
        kind: "mentor",
        child: { id: child.id, name: child.name, villageCode: child.villageCode, townshipCode: child.townshipCode, schoolId: null },
        helper: { id: randomUUID(), kind: "teacher", name: "王老师", phone: "13907300301", username: "changling.teacher", orgUnitCode: "360999101", schoolId: "S360999101001" },
        startDate: "2026-11-22",
        approvedBy: "督导员",
      },
      child.id,
    );
    await deliver(started);
    // The guardian hears who the mentor is (SMS), the mentor is told in-app and by SMS.
    expect((await messagesOf(started.id)).map((m) => `${m.rule}:${m.channel}`).sort()).toEqual(["pairing-guardian:sms", "pairing-helper:inapp", "pairing-helper:sms"]);

    expect(await remindBirthdays(prisma, "2026-11-17", { now: clock.now, quiet })).toBe(0); // 8 days ahead: not yet
    expect(await remindBirthdays(prisma, "2026-11-22", { now: clock.now, quiet })).toBe(1);
    expect(await remindBirthdays(prisma, "2026-11-23", { now: clock.now, quiet })).toBe(0);
    const [wish] = await prisma.message.findMany({ where: { rule: "birthday-helper", childId: child.id } });
    expect(wish).toMatchObject({ recipientUsername: "changling.teacher", channel: "inapp", body: "刘小寿将于2026-11-25（星期三）过10岁生日，记得送上祝福。" });
  });
});

