import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import type { Job, Queue, Worker } from "bullmq";
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createLogger, loadConfig, type ServiceApp } from "@shouhu/kit";
import { jobQueues, type ChildSnapshot, type Envelope, type EventData, type EventType } from "@shouhu/contracts";
import { buildEvent, consumeEvent, createJobQueue, inPgTransaction, type SqlTx } from "@shouhu/messaging";
import { childSnapshot, type TestIssuer } from "@shouhu/testing";
import type { Redis } from "ioredis";
import type pg from "pg";
import type { PrismaClient } from "../src/data/db.js";
import { notificationHandlers } from "../src/events/handlers.js";
import { dispatchQueued } from "../src/data/dispatch.js";
import { deliveryProcessor, markFailed } from "../src/data/delivery.js";
import { ChannelError } from "../src/channels/types.js";
import { remindBirthdays } from "../src/data/birthdays.js";
import { parseQuietHours } from "../src/domain/quiet-hours.js";
import { emailChannel } from "../src/channels/email.js";
import { channelsFromConfig } from "../src/channels/index.js";
import { notificationsConfigSchema } from "../src/config.js";
import { aliyunSignature, aliyunSmsChannel } from "../src/channels/sms-aliyun.js";
import { dingtalkChannel, dingtalkSign, wecomChannel } from "../src/channels/robots.js";
import { BIRTHDAY_JOB, createDeliveryQueue, startBirthdayWorker, startDeliveryWorker } from "../src/jobs/workers.js";
import { notificationsTest } from "./fixtures.js";

const quiet = parseQuietHours("21:00-08:00");
const SECRET = "test-secret";

let prisma: PrismaClient;
let pool: pg.Pool;
let issuer: TestIssuer;
let app: ServiceApp;
let redis: Redis;
let queue: Queue;
let worker: Worker;
let prefix: string;
const clock = { now: new Date("2026-11-22T02:00:00Z") }; // 10:00 in China
const handlers = notificationHandlers({ now: () => clock.now, quiet });

// Real receivers: an SMTP server, an SMS provider endpoint, two group robots.
let smtp: SMTPServer;
const mails: { from: string; to: string[]; raw: string }[] = [];
let smsServer: Server;
let smsUrl: string;
let smtpUrl: string;
const sms: Record<string, string>[] = [];
const smsAnswers: { status: number; body: object }[] = [];
let robotServer: Server;
const robots: { path: string; query: URLSearchParams; contentType: string | undefined; body: { msgtype: string; text: { content: string } } }[] = [];

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => resolve(data));
  });
/** Just enough MIME to read what nodemailer wrote: headers, RFC 2047 subject, base64 / quoted-printable text. */
function parseMail(raw: string): { headers: Record<string, string>; subject: string; text: string } {
  const [head, ...rest] = raw.split("\r\n\r\n");
  const headers: Record<string, string> = {};
  for (const line of head!.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const i = line.indexOf(":");
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const words = (v: string) =>
    v.replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=\s*/gi, (_, enc: string, text: string) =>
      enc.toUpperCase() === "B" ? Buffer.from(text, "base64").toString("utf8") : qp(text.replaceAll("_", " ")),
    );
  const qp = (v: string) =>
    Buffer.from(
      v.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
      "latin1",
    ).toString("utf8");
  const body = rest.join("\r\n\r\n");
  const encoding = (headers["content-transfer-encoding"] ?? "7bit").toLowerCase();
  const text = encoding === "base64" ? Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8") : encoding === "quoted-printable" ? qp(body) : body;
  return { headers, subject: words(headers.subject ?? ""), text };
}

const listen = (server: Server) =>
  new Promise<string>((resolve) => server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));

notificationsTest("notifications").beforeAll(async ({ notifications }) => {
  ({ prisma, pool, issuer, app, prefix, redis } = notifications);

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
        mails.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((r) => r.address), raw });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  smtpUrl = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;

  smsServer = createServer(async (req, res) => {
    const form = Object.fromEntries(new URLSearchParams(await readBody(req)));
    const { Signature, ...params } = form;
    const valid = Signature === aliyunSignature("POST", params as Record<string, string>, SECRET);
    sms.push({ ...form, signatureValid: String(valid) });
    const answer = !valid
      ? { status: 400, body: { Code: "SignatureDoesNotMatch" } }
      : (smsAnswers.shift() ?? { status: 200, body: { Code: "OK", Message: "OK", BizId: `biz-${sms.length}` } });
    res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
  });
  smsUrl = await listen(smsServer);

  robotServer = createServer(async (req, res) => {
    const url = new URL(req.url!, "http://x");
    robots.push({ path: url.pathname, query: url.searchParams, contentType: req.headers["content-type"], body: JSON.parse(await readBody(req)) });
    if (url.pathname === "/dingtalk" && url.searchParams.has("sign")) {
      const ts = Number(url.searchParams.get("timestamp"));
      if (url.searchParams.get("sign") !== dingtalkSign(ts, "ding-secret"))
        return res.writeHead(200).end(JSON.stringify({ errcode: 310000, errmsg: "sign not match" }));
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ errcode: 0, errmsg: "ok" }));
  });
  const robotUrl = await listen(robotServer);
  await prisma.officeChannel.createMany({
    data: [
      { orgUnit: "360999101", kind: "wecom", url: `${robotUrl}/wecom?key=abc` },
      { orgUnit: "360999101", kind: "dingtalk", url: `${robotUrl}/dingtalk?access_token=t`, secret: "ding-secret" },
      // Shimen's robot has no 加签 secret: the URL carries no signature.
      { orgUnit: "360999102", kind: "dingtalk", url: `${robotUrl}/dingtalk?access_token=shimen` },
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
      email: emailChannel({ smtpUrl, from: "守护 <noreply@shouhu.test>" }),
      sms: aliyunSmsChannel({
        endpoint: smsUrl,
        accessKeyId: "test-id",
        accessKeySecret: SECRET,
        signName: "守护",
        templateCodes: {
          concern_raised: "SMS_1",
          visit_overdue: "SMS_2",
          pairing_started_helper: "SMS_3",
          pairing_started_guardian: "SMS_4",
          checkup_flagged_guardian: "SMS_5",
          checkup_flagged_parent: "SMS_6",
          birthday_parent: "SMS_7",
        },
      }),
      // The fake robots listen on 127.0.0.1: allowed for tests only (WEBHOOK_ALLOWED_HOSTS).
      wecom: wecomChannel({ allowedHosts: ["127.0.0.1"] }),
      dingtalk: dingtalkChannel(() => clock.now, { allowedHosts: ["127.0.0.1"] }),
    },
  });
});

afterAll(async () => {
  await worker?.close();
  await queue?.obliterate({ force: true }).catch(() => undefined);
  await queue?.close();
  const dead = createDeliveryQueue(redis, prefix, { attempts: 1, backoffMs: 10 });
  await dead.close();
  smtp?.close();
  smsServer?.close();
  robotServer?.close();
});

beforeEach(() => {
  clock.now = new Date("2026-11-22T02:00:00Z");
});

// As the worker runs it: the consumer's transaction on a plain pg client.
const deliver = (event: Envelope) => consumeEvent<SqlTx>(event, handlers, (fn) => inPgTransaction(pool, fn));
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
    {
      concernId: randomUUID(),
      recordId: null,
      category: "abuse_suspected",
      description: "手臂有多处淤青",
      child,
      raisedBy: { userId: "u1", name: "周主任" },
      ownerOrgUnit: "360999101",
      urgent: true,
    },
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

    // The SMTP server really received it: envelope, decoded subject and body, our message id.
    const emailMessage = all.find((m) => m.channel === "email")!;
    const mail = mails.find((m) => m.to.includes("changling.supervisor@example.org"))!;
    expect(mail).toBeDefined();
    const parsed = parseMail(mail.raw);
    expect(parsed.headers["x-shouhu-message-id"]).toBe(emailMessage.id);
    expect(parsed.subject).toBe("【守护】紧急：儿童关注事项");
    expect(parsed.text).toContain("陈小雨：疑似遭受侵害。手臂有多处淤青（报告人：周主任）请立即核实处置。");
    expect(mail.from).toBe("noreply@shouhu.test");

    // SendSms as Alibaba Cloud's RPC API takes it: every common and API parameter, signature checked by the receiver.
    const smsSent = sms.find((s) => s.OutId === all.find((m) => m.channel === "sms")!.id)!;
    expect(smsSent).toMatchObject({
      Action: "SendSms",
      Version: "2017-05-25",
      Format: "JSON",
      RegionId: "cn-hangzhou",
      AccessKeyId: "test-id",
      SignatureMethod: "HMAC-SHA1",
      SignatureVersion: "1.0",
      PhoneNumbers: "13907300101",
      TemplateCode: "SMS_1",
      SignName: "守护",
      signatureValid: "true",
    });
    expect(smsSent.Timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(smsSent.SignatureNonce).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(smsSent.TemplateParam!)).toMatchObject({ child: "陈小雨", category: "疑似遭受侵害" });
    expect(all.find((m) => m.channel === "sms")!.providerId).toMatch(/^biz-/);

    // Group robots: the text message shape both take; DingTalk signed with the robot's secret.
    const wecom = robots.find((r) => r.path === "/wecom" && r.body.text.content.includes("手臂有多处淤青"))!;
    expect(wecom).toMatchObject({ contentType: "application/json", body: { msgtype: "text" } });
    expect(wecom.query.get("key")).toBe("abc");
    const ding = robots.find((r) => r.path === "/dingtalk" && r.query.get("access_token") === "t" && r.body.text.content.includes("手臂有多处淤青"))!;
    expect(ding.body.msgtype).toBe("text");
    expect(ding.query.get("timestamp")).toBe(String(clock.now.getTime()));
    expect(ding.query.get("sign")).toBe(dingtalkSign(clock.now.getTime(), "ding-secret"));
    // Delivered messages are published for reporting.
    expect(await prisma.outboxEvent.count({ where: { type: "notification.delivered", subject: e.subject } })).toBe(
      all.filter((m) => m.channel !== "inapp").length,
    );
  });

  it("a DingTalk robot without a secret gets the message unsigned", async () => {
    const e = concern({ id: randomUUID(), name: "赵小川", villageCode: "360999102201", townshipCode: "360999102" });
    (e.data as EventData<"concern.raised">).ownerOrgUnit = "360999102";
    await deliver(e);
    const office = await settle(e.id, (ms) => ms.find((m) => m.channel === "dingtalk")?.status === "sent");
    expect(office.filter((m) => m.channel === "dingtalk" || m.channel === "wecom").map((m) => m.channel)).toEqual(["dingtalk"]); // Shimen has no WeCom robot
    const got = robots.find((r) => r.query.get("access_token") === "shimen" && r.body.text.content.includes("赵小川"))!;
    expect(got.body).toEqual({
      msgtype: "text",
      text: { content: "【守护】紧急：儿童关注事项\n赵小川：疑似遭受侵害。手臂有多处淤青（报告人：周主任）请立即核实处置。" },
    });
    expect(got.query.has("sign")).toBe(false);
    expect(got.query.has("timestamp")).toBe(false);
  });

  it("channels come from env: SendSms and SMTP configured by variables, bad values named at start", async () => {
    const env = {
      SMS_ENDPOINT: smsUrl,
      SMS_ACCESS_KEY_ID: "test-id",
      SMS_ACCESS_KEY_SECRET: SECRET,
      SMS_SIGN_NAME: "长岭乡",
      SMS_TEMPLATE_CODES: JSON.stringify({ concern_raised: "SMS_9" }),
      SMTP_URL: smtpUrl,
      MAIL_FROM: "长岭乡 <changling@shouhu.test>",
    };
    const { channels, close } = channelsFromConfig(loadConfig(notificationsConfigSchema, env));
    try {
      const id = randomUUID();
      const description = "孩子反映晚上经常一个人在家，爷爷外出打工未归，邻居说已经有三天没有见到大人回来，家里没有吃的东西";
      await channels.sms!.send({
        id,
        channel: "sms",
        address: "13900001111",
        recipientName: null,
        template: "concern_raised",
        title: "t",
        body: "b",
        vars: { child: "陈小雨", description },
      });
      const got = sms.find((s) => s.OutId === id)!;
      expect(got).toMatchObject({ SignName: "长岭乡", TemplateCode: "SMS_9", signatureValid: "true" });
      // Longer than a SendSms variable may be: cut with an ellipsis rather than refused for good.
      const sent = JSON.parse(got.TemplateParam!) as Record<string, string>;
      expect([...sent.description!]).toHaveLength(35);
      expect(sent.description).toBe(description.slice(0, 34) + "…");
      expect(sent.child).toBe("陈小雨");
      await channels.email!.send({
        id,
        channel: "email",
        address: "someone@example.org",
        recipientName: "某人",
        template: "concern_raised",
        title: "测试",
        body: "正文",
        vars: {},
      });
      expect(mails.find((m) => m.to.includes("someone@example.org"))!.from).toBe("changling@shouhu.test");
    } finally {
      close();
    }
    expect(() => loadConfig(notificationsConfigSchema, { SMS_ENDPOINT: smsUrl })).toThrow(/SMS_ACCESS_KEY_ID/);
    expect(() => loadConfig(notificationsConfigSchema, { SMS_TEMPLATE_CODES: "{not json" })).toThrow(/SMS_TEMPLATE_CODES/);
    expect(() => loadConfig(notificationsConfigSchema, { QUIET_HOURS: "night" })).toThrow(/QUIET_HOURS/);
    // Without an SMTP server or SMS endpoint those channels are absent: their messages fail with the reason.
    const none = channelsFromConfig(loadConfig(notificationsConfigSchema, {}));
    expect(Object.keys(none.channels).sort()).toEqual(["dingtalk", "wecom"]);
  });

  it("office robots are set by county admins or the township's own supervisor", async () => {
    const put = async (user: string, orgUnit: string, body: object, kind = "wecom") =>
      app.inject({ method: "PUT", url: `/api/v1/notifications/offices/${orgUnit}/${kind}`, headers: await issuer.as(user), payload: body });
    const url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=new";
    expect((await put("changling.supervisor", "360999102", { url })).statusCode).toBe(403); // not their township
    expect((await put("changling.teacher", "360999101", { url })).statusCode).toBe(403);
    // Server-side request forgery: only the providers' own HTTPS hosts.
    for (const [target, kind] of [
      ["http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x", "wecom"],
      ["https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send", "wecom"],
      ["https://oapi.dingtalk.com/robot/send?access_token=x", "wecom"],
      ["https://qyapi.weixin.qq.com:8443/cgi-bin/webhook/send", "wecom"],
      ["https://admin:pw@qyapi.weixin.qq.com/cgi-bin/webhook/send", "wecom"],
      ["http://127.0.0.1:3001/api/v1/children", "dingtalk"],
      ["http://169.254.169.254/latest/meta-data/", "dingtalk"],
      ["https://registry:3001/api/v1/children", "dingtalk"],
    ] as const) {
      const refused = await put("county.admin", "360999103", { url: target }, kind);
      expect(refused.statusCode, target).toBe(400);
      expect(refused.json().error.details[0].field).toBe("url");
    }
    expect(await prisma.officeChannel.findUnique({ where: { orgUnit_kind: { orgUnit: "360999103", kind: "dingtalk" } } })).toBeNull();
    expect((await put("county.admin", "360999103", { url: "https://oapi.dingtalk.com/robot/send?access_token=x" }, "dingtalk")).statusCode).toBe(200);
    const bad = await put("county.admin", "360999103", { url: "not a url" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0]).toMatchObject({ field: "url", message: "应为群机器人的 Webhook 地址" });
    expect((await put("county.admin", "360999103", { url }, "telegram")).statusCode).toBe(400);
    expect((await put("county.admin", "360999103", { url })).json()).toEqual({ orgUnit: "360999103", kind: "wecom", configured: true });
    expect(await prisma.officeChannel.findUnique({ where: { orgUnit_kind: { orgUnit: "360999103", kind: "wecom" } } })).toMatchObject({ url, secret: null });
  });

  it("a channel this deployment has not configured fails the message for good, with the reason", async () => {
    const e = overdue(2);
    await deliver(e);
    const mail = (await messagesOf(e.id)).find((m) => m.channel === "email")!;
    const process = deliveryProcessor({ prisma, redis, keyPrefix: prefix, quiet, now: () => clock.now, channels: {} });
    await expect(process({ id: mail.id, data: { messageId: mail.id } } as unknown as Job)).rejects.toMatchObject({
      name: "UnrecoverableError",
      message: "渠道未配置：email",
    });
    await markFailed(prisma, mail.id, "渠道未配置：email");
    expect(await prisma.message.findUnique({ where: { id: mail.id } })).toMatchObject({ status: "failed", lastError: "渠道未配置：email", attempts: 0 });
    expect(await prisma.outboxEvent.count({ where: { type: "notification.failed", subject: e.subject } })).toBe(1);
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
    expect(sms.some((s) => s.OutId === text.id)).toBe(false);

    // Morning comes (on the test's clock): the job runs and the SMS goes out.
    clock.now = new Date("2026-11-23T00:00:00Z");
    await job!.promote();
    await expect.poll(async () => (await prisma.message.findUnique({ where: { id: text.id } }))!.status, { timeout: 10_000 }).toBe("sent");
    expect(sms.filter((s) => s.OutId === text.id)).toHaveLength(1);
  });

  it("a job that comes up inside quiet hours (a retry, a held message) waits for the morning again", async () => {
    const e = overdue(1, "13911110004");
    await deliver(e); // created at 10:00: not held
    clock.now = new Date("2026-11-22T13:30:00Z"); // 21:30 China before it runs
    await dispatchQueued(prisma, queue, clock.now);
    const text = (await messagesOf(e.id)).find((m) => m.channel === "sms")!;
    await expect.poll(async () => (await queue.getJob(text.id))!.getState(), { timeout: 5_000 }).toBe("delayed");
    // Delayed by the distance to 08:00 China on the test clock (10.5 h); the delayed set's score is the due time × 4096.
    const score = Number(await redis.zscore(`${prefix}:notifications.deliver:delayed`, text.id));
    const dueIn = Math.floor(score / 4096) - Date.now();
    expect(dueIn).toBeGreaterThan(10.4 * 3600_000);
    expect(dueIn).toBeLessThanOrEqual(10.5 * 3600_000);
    expect((await prisma.message.findUnique({ where: { id: text.id } }))!.status).toBe("queued");
    await (await queue.getJob(text.id))!.remove();
  });

  it("urgent concerns bypass quiet hours and the rate limit", async () => {
    clock.now = new Date("2026-11-22T18:00:00Z"); // 02:00 China
    const events = Array.from({ length: 7 }, () => concern());
    for (const e of events) await deliver(e);
    await dispatchQueued(prisma, queue, clock.now);
    const texts = await prisma.message.findMany({ where: { sourceEventId: { in: events.map((e) => e.id) }, channel: "sms" } });
    expect(texts).toHaveLength(7); // seven to one supervisor's phone within the hour, at night
    for (const t of texts) expect(t.notBefore.getTime()).toBe(clock.now.getTime());
    await expect.poll(async () => prisma.message.count({ where: { id: { in: texts.map((t) => t.id) }, status: "sent" } }), { timeout: 10_000 }).toBe(7);
  });

  it("retries a failing provider with backoff and succeeds", async () => {
    smsAnswers.push(
      { status: 500, body: { Code: "isp.SYSTEM_ERROR", Message: "busy" } },
      { status: 200, body: { Code: "isv.BUSINESS_LIMIT_CONTROL", Message: "flow control" } },
    );
    const e = overdue(1, "13911110001");
    await deliver(e);
    const [sent] = (await settle(e.id, (ms) => ms.find((m) => m.address === "13911110001")?.status === "sent")).filter((m) => m.channel === "sms");
    expect(sent).toMatchObject({ status: "sent", attempts: 3, lastError: null });
    const job = (await queue.getJob(sent!.id))!;
    expect(job.opts.backoff).toMatchObject({ type: "exponential", delay: 50 });
    expect(job.attemptsMade).toBe(3);
    expect(sms.filter((s) => s.OutId === sent!.id)).toHaveLength(3);
  });

  it("dead-letters a message after its last attempt, shows why, and replays it once the cause is fixed", async () => {
    smsAnswers.push(...Array.from({ length: 3 }, () => ({ status: 500, body: { Code: "isp.SYSTEM_ERROR", Message: "down" } })));
    const e = overdue(1, "13911110002");
    await deliver(e);
    const failed = (await settle(e.id, (ms) => ms.find((m) => m.channel === "sms")?.status === "failed")).find((m) => m.channel === "sms")!;
    expect(failed.lastError).toContain("isp.SYSTEM_ERROR");
    expect(await prisma.outboxEvent.count({ where: { type: "notification.failed", subject: e.subject } })).toBe(1);

    const admin = await issuer.as("county.admin");
    const letters = (await app.inject({ url: "/api/v1/notifications/dead-letters", headers: admin })).json().items as {
      id: string;
      messageId: string;
      reason: string;
    }[];
    const letter = letters.find((l) => l.messageId === failed.id)!;
    expect(letter.reason).toContain("isp.SYSTEM_ERROR");
    expect((await app.inject({ url: "/api/v1/notifications/dead-letters", headers: await issuer.as("changling.supervisor") })).statusCode).toBe(403);
    const failedList = (await app.inject({ url: "/api/v1/notifications/messages?status=failed&channel=sms", headers: admin })).json().items as {
      id: string;
      status: string;
      lastError: string;
      attempts: number;
    }[];
    expect(failedList.find((m) => m.id === failed.id)).toMatchObject({ status: "failed", attempts: 3 });
    expect(failedList.find((m) => m.id === failed.id)!.lastError).toContain("isp.SYSTEM_ERROR");
    expect(failedList.every((m) => m.status === "failed")).toBe(true);

    // Another county's admin neither sees nor replays this county's dead letters.
    const elsewhere = {
      authorization: `Bearer ${await issuer.server.issueToken("county.admin", "shouhu-web", { issuer: issuer.issuerUrl, overrides: { org_unit: "360888" } })}`,
    };
    const theirs = (await app.inject({ url: "/api/v1/notifications/dead-letters", headers: elsewhere })).json().items as { messageId: string }[];
    expect(theirs.find((l) => l.messageId === failed.id)).toBeUndefined();
    expect(
      (await app.inject({ method: "POST", url: "/api/v1/notifications/dead-letters/replay", headers: elsewhere, payload: { ids: [letter.id] } })).json(),
    ).toEqual({ replayed: 0 });
    expect((await prisma.message.findUnique({ where: { id: failed.id } }))!.status).toBe("failed");

    const replay = await app.inject({ method: "POST", url: "/api/v1/notifications/dead-letters/replay", headers: admin, payload: { ids: [letter.id] } });
    expect(replay.json()).toEqual({ replayed: 1 });
    await expect.poll(async () => (await prisma.message.findUnique({ where: { id: failed.id } }))!.status, { timeout: 10_000 }).toBe("sent");
    const letters2 = (await app.inject({ url: "/api/v1/notifications/dead-letters", headers: admin })).json().items as { messageId: string }[];
    expect(letters2.find((l) => l.messageId === failed.id)).toBeUndefined();
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

  it("the same event delivered concurrently — and two jobs for one message at once — still one message, one SMS", async () => {
    const e = overdue(1, "13911110005");
    const outcomes = await Promise.all([deliver(e), deliver(e), deliver(e)]);
    expect(outcomes.sort()).toEqual(["applied", "duplicate", "duplicate"]);
    expect((await messagesOf(e.id)).map((m) => m.channel)).toEqual(["inapp", "sms"]);

    // Past the inbox too: two transactions storing the same event's messages at once.
    await Promise.all([0, 1].map(() => inPgTransaction(pool, (tx) => handlers["visit.overdue"](e, tx))));
    const text = (await messagesOf(e.id)).find((m) => m.channel === "sms")!;
    expect(await messagesOf(e.id)).toHaveLength(2);

    // A replay racing the original: two jobs under different ids for the same message, two dispatchers.
    await Promise.all([
      dispatchQueued(prisma, queue, clock.now),
      dispatchQueued(prisma, queue, clock.now),
      queue.add("deliver", { messageId: text.id }, { jobId: `${text.id}-replay-1` }),
      queue.add("deliver", { messageId: text.id }, { jobId: `${text.id}-replay-2` }),
    ]);
    await expect.poll(async () => (await prisma.message.findUnique({ where: { id: text.id } }))!.status, { timeout: 10_000 }).toBe("sent");
    // Let the jobs that found the send lock taken come back and find the message sent.
    await expect
      .poll(
        async () =>
          (await Promise.all([text.id, `${text.id}-replay-1`, `${text.id}-replay-2`].map(async (id) => (await queue.getJob(id))?.getState()))).every(
            (s) => s === "completed",
          ),
        { timeout: 10_000 },
      )
      .toBe(true);
    expect(sms.filter((s) => s.OutId === text.id)).toHaveLength(1);
    expect((await prisma.message.findUnique({ where: { id: text.id } }))!.attempts).toBe(1);
  });

  it("holds back the sixth SMS to one phone within the hour", async () => {
    const events = Array.from({ length: 6 }, () => overdue(1, "13911110009"));
    for (const e of events) await deliver(e);
    await dispatchQueued(prisma, queue, clock.now);
    await expect.poll(async () => prisma.message.count({ where: { address: "13911110009", status: "sent" } }), { timeout: 10_000 }).toBe(5);
    await new Promise((r) => setTimeout(r, 300));
    expect(await prisma.message.count({ where: { address: "13911110009", status: "queued" } })).toBe(1);
    const held = await prisma.message.findFirst({ where: { address: "13911110009", status: "queued" } });
    await expect.poll(async () => (await queue.getJob(held!.id))!.getState(), { timeout: 5_000 }).toBe("delayed");
  });
});

describe("at most once per intent: a send whose outcome is unknown is never repeated blindly", () => {
  const stored = async (status: string, orgUnit = "360999101201") =>
    prisma.message.create({
      data: {
        id: randomUUID(),
        dedupKey: randomUUID(),
        sourceEventId: randomUUID(),
        sourceEventType: "visit.overdue",
        rule: "test",
        channel: "sms",
        template: "visit_overdue",
        urgent: true,
        address: "13900009999",
        orgUnit,
        title: "走访逾期",
        body: "请尽快走访",
        vars: {},
        status,
        notBefore: clock.now,
        enqueuedAt: clock.now,
      },
    });
  const counting = () => {
    const calls: string[] = [];
    return {
      calls,
      ok: { send: async (m: { id: string }) => (calls.push(m.id), { providerId: "biz-1" }) },
      // The provider took it, then the answer never came (a timeout): it may well be on the phone.
      timeout: {
        send: async (m: { id: string }) => {
          calls.push(m.id);
          throw new ChannelError("连接失败：timeout", false, "unknown");
        },
      },
      refused: {
        send: async (m: { id: string }) => {
          calls.push(m.id);
          throw new ChannelError("连接失败：ECONNREFUSED", false, "no");
        },
      },
    };
  };
  const run = (adapter: object, id: string) =>
    deliveryProcessor({ prisma, redis, keyPrefix: prefix, quiet, now: () => clock.now, channels: { sms: adapter as never } })(
      { id, data: { messageId: id } } as unknown as Job,
      "token",
    );

  it("a send interrupted mid-way (the process died: the row says 'sending') is marked unknown, not sent again", async () => {
    const c = counting();
    const m = await stored("sending");
    expect(await run(c.ok, m.id)).toBe("unknown");
    expect(c.calls).toEqual([]);
    expect(await prisma.message.findUnique({ where: { id: m.id } })).toMatchObject({ status: "unknown", lastError: expect.stringMatching(/无法确认/) });
  });

  it("a provider timeout is unknown and not retried; a refused connection is retried", async () => {
    const c = counting();
    const m = await stored("queued");
    expect(await run(c.timeout, m.id)).toBe("unknown");
    expect(await run(c.ok, m.id)).toBe("skipped"); // the job again (a retry, a stall): nothing sent
    expect(c.calls).toEqual([m.id]);
    expect(await prisma.message.findUnique({ where: { id: m.id } })).toMatchObject({ status: "unknown", attempts: 1 });

    const n = await stored("queued");
    await expect(run(c.refused, n.id)).rejects.toThrow(/ECONNREFUSED/);
    expect(await prisma.message.findUnique({ where: { id: n.id } })).toMatchObject({ status: "queued" });
    expect(await run(c.ok, n.id)).toBe("sent");
  });

  it("the county admin sees unknown messages and decides: mark sent, or resend; other counties and other states are refused", async () => {
    const admin = await issuer.as("county.admin");
    const a = await stored("unknown");
    const b = await stored("unknown");
    const listed = (await app.inject({ url: "/api/v1/notifications/messages?status=unknown", headers: admin })).json().items as { id: string }[];
    expect(listed.map((x) => x.id)).toEqual(expect.arrayContaining([a.id, b.id]));
    const decide = async (id: string, decision: string, headers = admin) =>
      app.inject({ method: "POST", url: `/api/v1/notifications/messages/${id}/decision`, headers, payload: { decision } });
    const elsewhere = {
      authorization: `Bearer ${await issuer.server.issueToken("county.admin", "shouhu-web", { issuer: issuer.issuerUrl, overrides: { org_unit: "360888" } })}`,
    };
    expect((await decide(a.id, "mark-sent", elsewhere)).statusCode).toBe(404);
    expect((await decide(a.id, "maybe")).statusCode).toBe(400);
    expect((await decide(a.id, "mark-sent")).json()).toEqual({ id: a.id, status: "sent" });
    expect(await prisma.message.findUnique({ where: { id: a.id } })).toMatchObject({ status: "sent" });
    expect(await prisma.outboxEvent.count({ where: { type: "notification.delivered", envelope: { path: ["data", "messageId"], equals: a.id } } })).toBe(1);
    expect((await decide(a.id, "resend")).statusCode).toBe(409);
    expect((await decide(b.id, "resend")).json()).toEqual({ id: b.id, status: "queued" });
    expect(await prisma.message.findUnique({ where: { id: b.id } })).toMatchObject({ status: "queued", enqueuedAt: null });
    expect((await decide(b.id, "resend", await issuer.as("changling.supervisor"))).statusCode).toBe(403);
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
    expect((await app.inject({ url: "/api/v1/notifications/messages" })).statusCode).toBe(401);
    // The county's inspector reads reports, not delivery status.
    expect((await app.inject({ url: "/api/v1/notifications/messages", headers: await issuer.as("county.inspector") })).statusCode).toBe(403);
  });

  it("marks all of one user's messages read, and nobody else's", async () => {
    const e = concern();
    await deliver(e);
    const director = await issuer.as("changling.director");
    const supervisorUnreadBefore = (await app.inject({ url: "/api/v1/inbox", headers: await issuer.as("changling.supervisor") })).json().unread as number;
    expect(supervisorUnreadBefore).toBeGreaterThan(0);
    const marked = (await app.inject({ method: "POST", url: "/api/v1/inbox/read-all", headers: director })).json().marked as number;
    expect(marked).toBeGreaterThan(0);
    const after = (await app.inject({ url: "/api/v1/inbox", headers: director })).json();
    expect(after.unread).toBe(0);
    expect(after.items.every((m: { readAt: string | null; status: string }) => m.readAt !== null && m.status === "read")).toBe(true);
    expect((await app.inject({ url: "/api/v1/inbox", headers: await issuer.as("changling.supervisor") })).json().unread).toBe(supervisorUnreadBefore);
    expect((await app.inject({ url: "/api/v1/inbox" })).statusCode).toBe(401);
  });

  it("rejects bad input with 400 naming the field", async () => {
    const teacher = await issuer.as("changling.teacher");
    const bad = await app.inject({ method: "POST", url: "/api/v1/inbox/not-an-id/read", headers: teacher });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details).toEqual([expect.objectContaining({ field: "id", message: "消息编号格式不正确" })]);
    const limit = await app.inject({ url: "/api/v1/inbox?limit=0", headers: teacher });
    expect(limit.statusCode).toBe(400);
    expect(limit.json().error.details[0].field).toBe("limit");
    const status = await app.inject({ url: "/api/v1/notifications/messages?status=lost", headers: await issuer.as("county.admin") });
    expect(status.statusCode).toBe(400);
    expect(status.json().error.details[0].field).toBe("status");
  });
});

/** 张小明 of 长岭村, not at school, with his grandmother as guardian; `overrides` as the test needs. */
const demoChild = (overrides: Partial<ChildSnapshot>): ChildSnapshot =>
  childSnapshot({
    name: "张小明",
    sex: "male",
    birthDate: "2016-03-01",
    schoolId: null,
    schoolName: null,
    riskLevel: "low",
    guardian: { name: "张奶奶", relation: "祖母", phone: "13977778888" },
    ...overrides,
  });

describe("check-up results", () => {
  const finding = (kind: string, severity: "mild" | "moderate" | "severe" | null, label: string, followUpOpened = true) => ({
    kind,
    severity,
    label,
    followUpId: randomUUID(),
    followUpOpened,
  });
  // Reduced vision, anaemia and overweight found in one exam.
  const threeFindings = () => [
    finding("low_vision", "moderate", "视力低下（中度）"),
    finding("anaemia", "mild", "贫血（轻度）"),
    finding("overweight", null, "超重"),
  ];

  it("one exam with three findings: one SMS to the guardian, one to the parent away, one in-app message to the mentor, each naming all three; redelivery sends nothing more", async () => {
    // The registry's child event gives notifications the parents' phones (health's payload has only the guardian).
    const snapshot = demoChild({
      parents: [
        { role: "father", name: "张大军", phone: "13966660001" },
        // The mother is also the guardian here: she hears it once, as the guardian.
        { role: "mother", name: "李芳", phone: "13977778888" },
      ],
    });
    await deliver(event("child.registered", { child: snapshot }, snapshot.id));
    const child = { id: snapshot.id, name: snapshot.name, villageCode: snapshot.villageCode, townshipCode: snapshot.townshipCode };
    const flagged = (guardian: EventData<"checkup.flagged">["guardian"]) =>
      event(
        "checkup.flagged",
        {
          examId: randomUUID(),
          campaignId: null,
          date: "2026-11-20",
          child,
          findings: threeFindings(),
          guardian,
          helper: { name: "王老师", phone: "13907300301", username: "changling.teacher" },
        },
        child.id,
      );
    const e = flagged({ name: "张奶奶", phone: "13977778888" });
    expect(await deliver(e)).toBe("applied");
    const ms = await messagesOf(e.id);
    expect(ms.map((m) => `${m.rule}:${m.channel}:${m.address}`).sort()).toEqual([
      "checkup-guardian:sms:13977778888",
      "checkup-helper:inapp:changling.teacher",
      "checkup-parent:sms:13966660001",
    ]);
    expect(ms.find((m) => m.rule === "checkup-guardian")!.body).toBe(
      "张小明在2026-11-20的体检中发现：视力低下（中度）、贫血（轻度）、超重。请带孩子到乡镇卫生院复查或就医。",
    );
    expect(ms.find((m) => m.rule === "checkup-parent")!.body).toBe(
      "您的孩子张小明在2026-11-20的体检中发现：视力低下（中度）、贫血（轻度）、超重。已通知监护人带孩子复查，请多打电话关心孩子。",
    );

    // The mentor's inbox: one message for the exam, naming all three.
    const inbox = await app.inject({ url: "/api/v1/inbox", headers: await issuer.as("changling.teacher") });
    const mine = (inbox.json() as { items: { title: string; body: string }[] }).items.filter((m) => m.body.startsWith("张小明体检发现"));
    expect(mine).toEqual([
      expect.objectContaining({ title: "体检异常跟进", body: "张小明体检发现：视力低下（中度）、贫血（轻度）、超重。请督促监护人带孩子复查，并跟进结果。" }),
    ]);

    // Through the SMS provider, with the templates registered for them: one text per phone, the findings as one variable.
    await settle(e.id, (all) => all.every((m) => m.status === "sent"));
    const textsOf = () => sms.filter((s) => ms.some((m) => m.id === s.OutId));
    const texts = textsOf();
    expect(texts.map((t) => `${t.PhoneNumbers}:${t.TemplateCode}`).sort()).toEqual(["13966660001:SMS_6", "13977778888:SMS_5"]);
    for (const t of texts)
      expect(JSON.parse(t.TemplateParam!)).toEqual({ child: "张小明", date: "2026-11-20", findings: "视力低下（中度）、贫血（轻度）、超重" });

    // The same event delivered again (a retried relay, a redelivered job): nothing new stored, queued or sent.
    expect(await deliver(e)).toBe("duplicate");
    expect(await dispatchQueued(prisma, queue, clock.now)).toBe(0);
    expect((await messagesOf(e.id)).map((m) => m.id).sort()).toEqual(ms.map((m) => m.id).sort());
    const smsBefore = sms.length;
    await new Promise((resolve) => setTimeout(resolve, 300)); // a late second send would land here
    expect(sms.length).toBe(smsBefore);
    expect(textsOf()).toHaveLength(2);
    const inboxAgain = await app.inject({ url: "/api/v1/inbox", headers: await issuer.as("changling.teacher") });
    expect((inboxAgain.json() as { items: { body: string }[] }).items.filter((m) => m.body.startsWith("张小明体检发现"))).toHaveLength(1);

    // Even past the consumer's inbox (its row lost, the handler run twice): the messages' keys hold.
    await pool.query(`DELETE FROM inbox WHERE event_id = $1`, [e.id]);
    expect(await deliver(e)).toBe("applied");
    expect(await messagesOf(e.id)).toHaveLength(3);

    // Health had no guardian on file: the registry's guardian is told.
    const noGuardian = flagged(null);
    await deliver(noGuardian);
    expect((await messagesOf(noGuardian.id)).filter((m) => m.rule === "checkup-guardian").map((m) => m.address)).toEqual(["13977778888"]);
  });

  it("findings longer than an SMS variable may be are cut at a whole finding, with the count (SMS_MAX_VAR_LENGTH)", async () => {
    const child = { id: randomUUID(), name: "周小林", villageCode: "360999101201", townshipCode: "360999101" };
    const e = event(
      "checkup.flagged",
      {
        examId: randomUUID(),
        campaignId: null,
        date: "2026-11-20",
        child,
        findings: [
          finding("wasting_moderate_severe", "moderate", "中重度消瘦"),
          finding("stunting", null, "生长迟缓"),
          finding("low_vision", "severe", "视力低下（重度）"),
          finding("anaemia", "severe", "贫血（重度）"),
        ],
        guardian: { name: "周爷爷", phone: "13955557777" },
        helper: null,
      },
      child.id,
    );
    await deliver(e);
    const text = (await messagesOf(e.id)).find((m) => m.channel === "sms")!;
    // Stored whole (the in-app and e-mail body, what staff read in the status list) ...
    expect(text.body).toBe("周小林在2026-11-20的体检中发现：中重度消瘦、生长迟缓、视力低下（重度）、贫血（重度）。请带孩子到乡镇卫生院复查或就医。");
    // ... and cut by the SMS channel as configured, here to 16 characters a variable.
    const env = {
      SMS_ENDPOINT: smsUrl,
      SMS_ACCESS_KEY_ID: "test-id",
      SMS_ACCESS_KEY_SECRET: SECRET,
      SMS_TEMPLATE_CODES: JSON.stringify({ checkup_flagged_guardian: "SMS_5" }),
      SMS_MAX_VAR_LENGTH: "16",
    };
    const { channels, close } = channelsFromConfig(loadConfig(notificationsConfigSchema, env));
    try {
      await channels.sms!.send({
        id: text.id,
        channel: "sms",
        address: text.address,
        recipientName: null,
        template: text.template,
        title: text.title,
        body: text.body,
        vars: text.vars as Record<string, string>,
      });
    } finally {
      close();
    }
    const got = sms.find((s) => s.OutId === text.id)!;
    expect(got).toMatchObject({ PhoneNumbers: "13955557777", TemplateCode: "SMS_5", signatureValid: "true" });
    expect(JSON.parse(got.TemplateParam!)).toEqual({ child: "周小林", date: "2026-11-20", findings: "中重度消瘦、生长迟缓等4项" });
  });

  it("a child without a mentor: the village director is told in-app", async () => {
    const child = { id: randomUUID(), name: "孙小雨", villageCode: "360999101201", townshipCode: "360999101" };
    const e = event(
      "checkup.flagged",
      {
        examId: randomUUID(),
        campaignId: null,
        date: "2026-11-20",
        child,
        findings: [finding("low_vision", "mild", "视力低下（轻度）")],
        guardian: null,
        helper: null,
      },
      child.id,
    );
    await deliver(e);
    const ms = await messagesOf(e.id);
    expect(ms.map((m) => `${m.rule}:${m.channel}:${m.address}`)).toEqual(["checkup-helper:inapp:changling.director"]);
    expect(ms[0]!.body).toBe("孙小雨体检发现：视力低下（轻度）。请督促监护人带孩子复查，并跟进结果。");
  });
});

describe("birthdays", () => {
  it("reminds the mentor of a birthday this week, once however often the job runs", async () => {
    const child = demoChild({
      name: "刘小寿",
      birthDate: "2016-11-25",
      guardian: { name: "刘奶奶", relation: "祖母", phone: "13955556666" },
      parents: [
        { role: "father", name: "刘大山", phone: "13966660011" },
        { role: "mother", name: "陈梅", phone: null },
      ],
    });
    await deliver(event("child.registered", { child }, child.id));
    const started = event(
      "pairing.started",
      {
        pairingId: randomUUID(),
        kind: "mentor",
        child: { id: child.id, name: child.name, villageCode: child.villageCode, townshipCode: child.townshipCode, schoolId: null },
        helper: {
          id: randomUUID(),
          kind: "teacher",
          name: "王老师",
          phone: "13907300301",
          username: "changling.teacher",
          orgUnitCode: "360999101",
          schoolId: "S360999101001",
        },
        startDate: "2026-11-22",
        approvedBy: "督导员",
      },
      child.id,
    );
    await deliver(started);
    // The guardian hears who the mentor is (SMS), the mentor is told in-app and by SMS.
    expect((await messagesOf(started.id)).map((m) => `${m.rule}:${m.channel}`).sort()).toEqual([
      "pairing-guardian:sms",
      "pairing-helper:inapp",
      "pairing-helper:sms",
    ]);

    expect(await remindBirthdays(prisma, "2026-11-17", { now: clock.now, quiet })).toBe(0); // 8 days ahead: not yet
    expect(await remindBirthdays(prisma, "2026-11-22", { now: clock.now, quiet })).toBe(2);
    expect(await remindBirthdays(prisma, "2026-11-23", { now: clock.now, quiet })).toBe(0);
    const [wish] = await prisma.message.findMany({ where: { rule: "birthday-helper", childId: child.id } });
    expect(wish).toMatchObject({ recipientUsername: "changling.teacher", channel: "inapp", body: "刘小寿将于2026-11-25（星期三）过10岁生日，记得送上祝福。" });
    // The father working away gets an SMS to call home; the mother has no phone on file.
    const home = await prisma.message.findMany({ where: { rule: "birthday-parent", childId: child.id } });
    expect(home.map((m) => `${m.channel}:${m.address}:${m.body}`)).toEqual(["sms:13966660011:刘小寿将于2026-11-25（星期三）过10岁生日，记得给孩子打个电话。"]);
    // The mentor's inbox shows it.
    const inbox = (await app.inject({ url: "/api/v1/inbox", headers: await issuer.as("changling.teacher") })).json();
    expect(inbox.items.some((m: { id: string }) => m.id === wish!.id)).toBe(true);
  });

  it("runs daily as a BullMQ job scheduler (08:00 China time), and the job stores the reminders", async () => {
    const scheduleQueue = createJobQueue(jobQueues.notificationsSchedule, redis, prefix);
    const birthdayWorker = await startBirthdayWorker({
      prisma,
      connection: redis,
      prefix,
      queue: scheduleQueue,
      cron: "0 8 * * *",
      quiet,
      logger: createLogger("birthdays", "silent"),
      now: () => clock.now,
    });
    try {
      const schedulers = await scheduleQueue.getJobSchedulers();
      expect(schedulers).toEqual([expect.objectContaining({ key: BIRTHDAY_JOB, pattern: "0 8 * * *", tz: "Asia/Shanghai" })]);

      const child = childSnapshot({ name: "黄小晴", birthDate: "2015-11-28", parents: [{ role: "mother", name: "黄丽", phone: "13966660021" }] });
      await deliver(event("child.registered", { child }, child.id));
      const job = await scheduleQueue.add(BIRTHDAY_JOB, {});
      await expect.poll(async () => (await scheduleQueue.getJob(job.id!))?.getState(), { timeout: 10_000 }).toBe("completed");
      expect((await scheduleQueue.getJob(job.id!))!.returnvalue).toBeGreaterThanOrEqual(1);
      // No mentor yet: the mother is told, nobody in-app.
      expect((await prisma.message.findMany({ where: { childId: child.id } })).map((m) => `${m.rule}:${m.address}`)).toEqual(["birthday-parent:13966660021"]);
    } finally {
      await birthdayWorker.close();
      await scheduleQueue.obliterate({ force: true }).catch(() => undefined);
      await scheduleQueue.close();
    }
  });
});
