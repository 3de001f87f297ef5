import { describe, expect } from "vitest";
import { createLogger } from "@shouhu/kit";
import { createTokenVerifier } from "@shouhu/auth";
import { smsReceiptSignature } from "@shouhu/cn/aliyun";
import { childSnapshot } from "@shouhu/testing";
import { startDevSms } from "@shouhu/dev-sms";
import { buildNotificationsApp } from "../src/app.js";
import { applyChildren } from "../src/data/projections.js";
import { expandLetter } from "../src/data/letters.js";
import { aliyunSmsChannel, templateParam } from "../src/channels/sms-aliyun.js";
import { parseQuietHours } from "../src/domain/quiet-hours.js";
import { notificationsTest } from "./fixtures.js";

const SECRET = "receipt-secret";
const quiet = parseQuietHours("21:00-08:00");
const NOON = new Date("2026-12-07T04:00:00Z"); // 12:00 China
const NIGHT = new Date("2026-12-07T14:00:00Z"); // 22:00 China

/** The notifications API with letters on the file's database; sending is recorded, and the test runs the job itself. */
const test = notificationsTest("notify_letters").extend("svc", { scope: "file" }, async ({ notifications: n }, { onCleanup }) => {
  const queued: string[] = [];
  let clock = NOON;
  const app = await buildNotificationsApp({
    prisma: n.prisma,
    verifier: createTokenVerifier({ issuerUrl: n.issuer.issuerUrl, audience: "shouhu-api", allowedClients: ["shouhu-web", "shouhu-service"] }),
    logger: createLogger("letters-test", "silent"),
    deadLetters: { connection: n.redis, prefix: n.prefix },
    letters: { enqueue: async (id) => void queued.push(id), callbackSecret: SECRET, now: () => clock },
  });
  await app.ready();
  onCleanup(() => app.close());
  // Two schools in 长岭乡, one child in 石门乡; phones: a shared mother, a failing number, none.
  const a = childSnapshot({
    name: "张一",
    grade: "三年级",
    className: "1班",
    guardian: { name: "张爷爷", relation: "grandfather", phone: "13900000001" },
    parents: [
      { role: "father", name: "张父", phone: "13900000002" },
      { role: "mother", name: "李母", phone: "13900000003" },
    ],
  });
  const b = childSnapshot({
    name: "张二",
    grade: "五年级",
    className: "2班",
    guardian: { name: "张爷爷", relation: "grandfather", phone: "13900000001" },
    parents: [{ role: "mother", name: "李母", phone: "13900000003" }],
  });
  const c = childSnapshot({
    name: "王三",
    schoolId: "S360999101002",
    schoolName: "长岭乡二小",
    guardian: { name: "王奶奶", relation: "grandmother", phone: "0791-1234567" },
  });
  const d = childSnapshot({
    name: "赵四",
    schoolId: "S360999101002",
    schoolName: "长岭乡二小",
    guardian: { name: "赵母", relation: "mother", phone: "13900000000" },
  });
  const e = childSnapshot({
    villageCode: "360999102201",
    townshipCode: "360999102",
    name: "石五",
    guardian: { name: "石父", relation: "father", phone: "13900000009" },
  });
  await applyChildren(n.prisma, [a, b, c, d, e]);
  return {
    prisma: n.prisma,
    children: { a, b, c, d, e },
    queued,
    setClock: (t: Date) => void (clock = t),
    call: async (user: string, method: "GET" | "POST" | "PUT", url: string, payload?: object) =>
      app.inject({ method, url, headers: await n.issuer.as(user), ...(payload ? { payload } : {}) }),
    open: (code: string) => app.inject({ url: `/api/v1/public/letters/${code}` }),
    receipts: (body: string, headers: Record<string, string>) =>
      app.inject({ method: "POST", url: "/api/v1/public/sms-receipts", payload: body, headers: { "content-type": "application/json", ...headers } }),
  };
});

const letter = (over: object = {}) => ({
  title: "寒假安全告家长书",
  body: "尊敬的{监护人姓名}：您好！{学校}{班级}的{儿童姓名}即将放寒假，请注意防溺水、防火。",
  signature: "长岭乡人民政府",
  scope: { townshipCode: "360999101" },
  categories: ["guardian", "mother"],
  ...over,
});

const sign = (body: string, at = NOON) => {
  const ts = String(Math.floor(at.getTime() / 1000));
  return { "x-shouhu-timestamp": ts, "x-shouhu-signature": smsReceiptSignature(SECRET, ts, body) };
};

describe("致家长的一封信", () => {
  test("preview counts one SMS per phone, fills a sample, lists the children without a mobile; scope narrows by school and class", async ({ svc }) => {
    const made = await svc.call("changling.supervisor", "POST", "/api/v1/letters", letter());
    expect(made.statusCode).toBe(201);
    const preview = (await svc.call("changling.supervisor", "GET", `/api/v1/letters/${made.json().id}/preview`)).json();
    // 张爷爷 (both children) + 李母 (both) + 赵母; 王三's guardian has a landline only; 石五 is in another township.
    expect(preview.recipients).toBe(3);
    expect(preview.byCategory).toEqual({ guardian: 2, mother: 1 });
    expect(preview.sample.body).toBe("尊敬的张爷爷：您好！长岭乡中心小学三年级1班、五年级2班的张一、张二即将放寒假，请注意防溺水、防火。");
    expect(preview.unreachable).toEqual([expect.objectContaining({ childName: "王三", missing: ["guardian", "mother"] })]);

    const fathers = await svc.call(
      "changling.supervisor",
      "POST",
      "/api/v1/letters",
      letter({ categories: ["father"], scope: { townshipCode: "360999101", schoolId: "S360999101001", grade: "三年级", className: "1班" } }),
    );
    const p2 = (await svc.call("changling.supervisor", "GET", `/api/v1/letters/${fathers.json().id}/preview`)).json();
    expect(p2).toMatchObject({ recipients: 1, byCategory: { father: 1 }, sample: { to: "张父" }, unreachableTotal: 0 });

    const schools = (await svc.call("changling.supervisor", "GET", "/api/v1/letters/schools?townshipCode=360999101")).json();
    expect(schools.schools.map((s: { name: string }) => s.name)).toEqual(["长岭乡中心小学", "长岭乡二小"]);
  });

  test("only senders within their area: teachers 403, another township 403 on write and 404 on read; bad input names the field and stores nothing", async ({
    svc,
  }) => {
    const before = await svc.prisma.letter.count();
    expect((await svc.call("changling.teacher", "POST", "/api/v1/letters", letter())).statusCode).toBe(403);
    expect((await svc.call("changling.director", "GET", "/api/v1/letters")).statusCode).toBe(403);
    expect((await svc.call("shimen.supervisor", "POST", "/api/v1/letters", letter())).statusCode).toBe(403);
    for (const [bad, field, message] of [
      [{ title: "" }, "title", "请填写标题"],
      [{ body: "你好{地址}" }, "body", "不认识的变量：{地址}"],
      [{ categories: [] }, "categories", "请至少选择一类收信人"],
      [{ categories: ["uncle"] }, "categories.0", "应为 guardian"],
      [{ scope: { townshipCode: "360999101201" } }, "scope.townshipCode", "应为9位乡镇代码"],
      [{ scope: { townshipCode: "360999101", grade: "三年级" } }, "scope.schoolId", "请先选择学校"],
      [{ title: "x".repeat(41) }, "title", "不能超过40个字"],
    ] as const) {
      const res = await svc.call("county.admin", "POST", "/api/v1/letters", letter(bad));
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
      expect(res.json().error.details[0].field).toBe(field);
      expect(res.json().error.details[0].message).toContain(message);
    }
    expect(await svc.prisma.letter.count()).toBe(before);

    const mine = (await svc.call("changling.supervisor", "POST", "/api/v1/letters", letter())).json();
    for (const path of ["", "/preview", "/reach"])
      expect((await svc.call("shimen.supervisor", "GET", `/api/v1/letters/${mine.id}${path}`)).statusCode).toBe(404);
    expect((await svc.call("shimen.supervisor", "POST", `/api/v1/letters/${mine.id}/send`)).statusCode).toBe(404);
    expect((await svc.call("federation.officer", "GET", `/api/v1/letters/${mine.id}`)).statusCode).toBe(200);
    expect((await svc.call("county.admin", "GET", "/api/v1/letters/not-a-uuid")).json().error.details[0].field).toBe("id");
    expect(svc.queued).not.toContain(mine.id);
  });

  test("send: one recipient and one SMS each (link to /l/<code>, code stored hashed); quiet hours hold them; sent twice is 409", async ({ svc }) => {
    const made = (await svc.call("changling.supervisor", "POST", "/api/v1/letters", letter())).json();
    const sent = await svc.call("changling.supervisor", "POST", `/api/v1/letters/${made.id}/send`);
    expect(sent.statusCode).toBe(202);
    expect(sent.json().status).toBe("sending");
    expect(svc.queued).toContain(made.id);
    expect((await svc.call("changling.supervisor", "POST", `/api/v1/letters/${made.id}/send`)).statusCode).toBe(409);
    expect((await svc.call("changling.supervisor", "PUT", `/api/v1/letters/${made.id}`, letter({ title: "改" }))).statusCode).toBe(409);

    expect(await expandLetter(svc.prisma, made.id, { now: NIGHT, quiet, linkBase: "https://shouhu.example.cn/" })).toBe(3);
    expect(await expandLetter(svc.prisma, made.id, { now: NIGHT, quiet, linkBase: "https://shouhu.example.cn/" })).toBeNull(); // a retried job: nothing more
    const messages = await svc.prisma.message.findMany({ where: { sourceEventId: made.id } });
    expect(messages).toHaveLength(3);
    for (const m of messages) {
      expect(m).toMatchObject({ channel: "sms", template: "letter_home", status: "queued", urgent: false });
      expect((m.vars as { link: string }).link).toMatch(/^https:\/\/shouhu\.example\.cn\/l\/[A-Za-z0-9_-]{22}$/);
      // 22:00 China: held until 08:00.
      expect(m.notBefore.toISOString()).toBe("2026-12-08T00:00:00.000Z");
    }
    const recipients = await svc.prisma.letterRecipient.findMany({ where: { letterId: made.id } });
    const code = (messages[0]!.vars as { link: string }).link.split("/l/")[1]!;
    expect(recipients.every((r) => r.codeHash.length === 64 && !JSON.stringify(r).includes(code))).toBe(true);
    svc.setClock(NIGHT);
    const reach = (await svc.call("changling.supervisor", "GET", `/api/v1/letters/${made.id}/reach`)).json();
    expect(reach.total).toEqual({ recipients: 3, sent: 0, delivered: 0, failed: 0, read: 0, held: 3 });
    svc.setClock(NOON);
    // Withdrawn before the morning: the held SMS never go out.
    expect((await svc.call("changling.supervisor", "POST", `/api/v1/letters/${made.id}/withdraw`)).json().status).toBe("withdrawn");
    expect((await svc.prisma.message.findMany({ where: { sourceEventId: made.id } })).map((m) => m.status)).toEqual(["failed", "failed", "failed"]);
    expect((await svc.call("changling.supervisor", "POST", `/api/v1/letters/${made.id}/withdraw`)).statusCode).toBe(409);
    // The SMS adapter never cuts the link (a cut link opens nothing); other variables keep the provider's length.
    const param = JSON.parse(templateParam({ title: "很长的标题".repeat(10), link: `https://shouhu.example.cn/l/${"A".repeat(22)}` }, 35)) as Record<
      string,
      string
    >;
    expect(param.link).toBe(`https://shouhu.example.cn/l/${"A".repeat(22)}`);
    expect([...param.title!]).toHaveLength(35);
  });

  test("receipts: signed ones recorded once, a bad or stale signature 401 and nothing changes, unknown ids counted; the read page records 已阅", async ({
    svc,
  }) => {
    const made = (await svc.call("changling.supervisor", "POST", "/api/v1/letters", letter())).json();
    await svc.call("changling.supervisor", "POST", `/api/v1/letters/${made.id}/send`);
    await expandLetter(svc.prisma, made.id, { now: NOON, quiet, linkBase: "http://127.0.0.1:3000" });
    const messages = await svc.prisma.message.findMany({ where: { sourceEventId: made.id }, orderBy: { address: "asc" } });
    await svc.prisma.message.updateMany({ where: { sourceEventId: made.id }, data: { status: "sent", sentAt: NOON } });
    const item = (id: string, success: boolean) => ({
      phone_number: "13900000001",
      send_time: "2026-12-07 12:00:00",
      report_time: "2026-12-07 12:00:05",
      success,
      err_code: success ? "DELIVERED" : "IS_CLOSE",
      err_msg: success ? "用户接收成功" : "用户停机",
      biz_id: "1^1",
      out_id: id,
      sms_size: "1",
    });
    const body = JSON.stringify([
      item(messages[0]!.id, true),
      item(messages[1]!.id, false),
      item("0190f000-0000-7000-8000-00000000dead", true),
      item("x", true),
    ]);

    for (const headers of [
      {},
      sign(body.replace("true", "false")),
      sign(body, new Date(NOON.getTime() - 6 * 60_000)),
      { ...sign(body), "x-shouhu-signature": "0".repeat(64) },
    ]) {
      const refused = await svc.receipts(body, headers);
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error.message).toMatch(/回执签名无效/);
    }
    expect(await svc.prisma.message.count({ where: { sourceEventId: made.id, receipt: { not: null } } })).toBe(0);

    const ok = await svc.receipts(body, sign(body));
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ code: 0, recorded: 2, repeated: 0, unknown: 2 });
    const again = await svc.receipts(body.replace('"success":false', '"success":true'), sign(body.replace('"success":false', '"success":true')));
    expect(again.json()).toMatchObject({ recorded: 0, repeated: 2, unknown: 2 });
    expect(await svc.prisma.message.findUnique({ where: { id: messages[1]!.id } })).toMatchObject({ receipt: "failed", receiptError: "IS_CLOSE 用户停机" });
    const notArray = JSON.stringify({ out_id: "x" });
    expect((await svc.receipts(notArray, sign(notArray))).statusCode).toBe(400);
    const badItem = JSON.stringify([{ phone_number: "1", success: "yes" }]);
    expect((await svc.receipts(badItem, sign(badItem))).json().error.details[0].field).toBe("0.success");

    // The read page: unknown and malformed codes 404, the real one opens with names filled and the audit header.
    expect((await svc.open("AAAAAAAAAAAAAAAAAAAAAA")).statusCode).toBe(404);
    expect((await svc.open("short")).statusCode).toBe(404);
    const link = (messages.find((m) => m.address === "13900000001")!.vars as { link: string }).link;
    const code = link.split("/l/")[1]!;
    const read = await svc.open(code);
    expect(read.statusCode).toBe(200);
    expect(read.json()).toEqual({
      title: "寒假安全告家长书",
      body: "尊敬的张爷爷：您好！长岭乡中心小学三年级1班、五年级2班的张一、张二即将放寒假，请注意防溺水、防火。",
      signature: "长岭乡人民政府",
      date: "2026-12-07",
    });
    expect(read.body).not.toMatch(/139\d{8}/);
    expect(JSON.parse(read.headers["x-shouhu-audit"] as string)).toEqual({ action: "letter-read", childIds: [svc.children.a.id, svc.children.b.id] });
    await svc.open(code);
    const r = await svc.prisma.letterRecipient.findFirst({ where: { letterId: made.id, phone: "13900000001" } });
    expect(r).toMatchObject({ reads: 2, firstReadAt: NOON, lastReadAt: NOON });

    const reach = (await svc.call("changling.supervisor", "GET", `/api/v1/letters/${made.id}/reach`)).json();
    expect(reach.total).toMatchObject({ recipients: 3, sent: 3, delivered: 1, failed: 1, read: 1 });
    // No letter route hands out a phone number, to any sender (federation officers see phones masked elsewhere).
    for (const path of ["", "/preview", "/reach"]) {
      const res = await svc.call("federation.officer", "GET", `/api/v1/letters/${made.id}${path}`);
      expect(res.statusCode).toBe(200);
      expect(res.body).not.toMatch(/1[3-9]\d{9}/);
    }
    expect(reach.schools.map((s: { schoolName: string }) => s.schoolName)).toEqual(["长岭乡中心小学", "长岭乡二小"]);

    // Older than 90 days: the link has expired (410), and nothing is recorded.
    await svc.prisma.letter.update({ where: { id: made.id }, data: { sentAt: new Date(NOON.getTime() - 91 * 86_400_000) } });
    const expired = await svc.open(code);
    expect(expired.statusCode).toBe(410);
    expect(expired.json().error.message).toBe("链接已过期");
    expect(await svc.prisma.letterRecipient.findFirst({ where: { letterId: made.id, phone: "13900000001" } })).toMatchObject({ reads: 2 });
    await svc.prisma.letter.update({ where: { id: made.id }, data: { sentAt: NOON } });

    // Withdrawn: the link answers 410.
    expect((await svc.call("changling.supervisor", "POST", `/api/v1/letters/${made.id}/withdraw`)).statusCode).toBe(200);
    const gone = await svc.open(code);
    expect(gone.statusCode).toBe(410);
    expect(gone.json().error.message).toBe("这封信已被撤回");
  });

  test("a failed receipt of a sent SMS publishes notification.failed through the outbox, once however often the provider repeats it", async ({ svc }) => {
    const made = (await svc.call("changling.supervisor", "POST", "/api/v1/letters", letter())).json();
    await svc.call("changling.supervisor", "POST", `/api/v1/letters/${made.id}/send`);
    await expandLetter(svc.prisma, made.id, { now: NOON, quiet, linkBase: "http://127.0.0.1:3000" });
    const [delivered, failed, notSent] = await svc.prisma.message.findMany({ where: { sourceEventId: made.id }, orderBy: { address: "asc" } });
    await svc.prisma.message.updateMany({ where: { id: { in: [delivered!.id, failed!.id] } }, data: { status: "sent", sentAt: NOON } });
    const item = (id: string, success: boolean) => ({
      phone_number: "13900000000",
      report_time: "2026-12-07 12:00:05",
      success,
      err_code: success ? "DELIVERED" : "IS_CLOSE",
      err_msg: success ? "用户接收成功" : "用户停机",
      out_id: id,
    });
    const failedEvents = () =>
      svc.prisma.outboxEvent.findMany({ where: { type: "notification.failed", envelope: { path: ["data", "messageId"], equals: failed!.id } } });
    const body = JSON.stringify([item(delivered!.id, true), item(failed!.id, false)]);
    expect((await svc.receipts(body, sign(body))).json()).toMatchObject({ recorded: 2, repeated: 0 });
    const [event, ...more] = await failedEvents();
    expect(more).toHaveLength(0);
    expect(event!.publishedAt).toBeNull(); // the relay's to publish
    expect((event!.envelope as { data: unknown }).data).toEqual({
      messageId: failed!.id,
      sourceEventId: made.id,
      sourceEventType: failed!.sourceEventType,
      channel: "sms",
      template: "letter_home",
      urgent: false,
      recipient: expect.stringMatching(/^139\*{4}\d{4}$/),
      attempts: failed!.attempts,
      reason: "短信回执：未送达（IS_CLOSE 用户停机）",
      sentAt: NOON.toISOString(),
    });
    // A delivered receipt publishes nothing more (its notification.delivered went out when it was sent).
    expect(
      await svc.prisma.outboxEvent.count({ where: { type: "notification.failed", envelope: { path: ["data", "messageId"], equals: delivered!.id } } }),
    ).toBe(0);

    // The provider repeats the push, twice at once and once more: recorded already, no second event.
    const again = await Promise.all([svc.receipts(body, sign(body)), svc.receipts(body, sign(body))]);
    expect(again.map((r) => r.json())).toMatchObject([
      { recorded: 0, repeated: 2 },
      { recorded: 0, repeated: 2 },
    ]);
    const flipped = JSON.stringify([item(failed!.id, true)]);
    expect((await svc.receipts(flipped, sign(flipped))).json()).toMatchObject({ recorded: 0, repeated: 1 });
    expect(await failedEvents()).toHaveLength(1);

    // A failed receipt for a message never sent (here: still queued) records the receipt, but there was no delivery to take back.
    const early = JSON.stringify([item(notSent!.id, false)]);
    expect((await svc.receipts(early, sign(early))).json()).toMatchObject({ recorded: 1 });
    expect(await svc.prisma.outboxEvent.count({ where: { type: "notification.failed", envelope: { path: ["data", "messageId"], equals: notSent!.id } } })).toBe(
      0,
    );
  });

  test("the dev SMS provider checks the adapter's signature, keeps the text and pushes signed receipts (numbers ending 0000 fail)", async () => {
    const got: { body: string; ts: string; sig: string }[] = [];
    const { createServer } = await import("node:http");
    const sink = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        got.push({ body, ts: String(req.headers["x-shouhu-timestamp"]), sig: String(req.headers["x-shouhu-signature"]) });
        res.end("{}");
      });
    });
    await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
    const sms = await startDevSms({
      accessKeyId: "k",
      accessKeySecret: "s",
      callbackUrl: `http://127.0.0.1:${(sink.address() as { port: number }).port}/`,
      callbackSecret: SECRET,
      receiptDelayMs: 50,
    });
    try {
      const channel = aliyunSmsChannel({
        endpoint: sms.endpoint,
        accessKeyId: "k",
        accessKeySecret: "s",
        signName: "守护",
        templateCodes: { letter_home: "SMS_LETTER_HOME" },
      });
      const link = "http://127.0.0.1:3000/l/AAAAAAAAAAAAAAAAAAAAAA";
      const msg = {
        id: "m-1",
        channel: "sms" as const,
        address: "13900000001",
        recipientName: null,
        template: "letter_home",
        title: "t",
        body: "b",
        vars: { title: "寒假安全告家长书", link },
      };
      expect((await channel.send(msg)).providerId).toBeTruthy();
      await channel.send({ ...msg, id: "m-2", address: "13900000000" });
      const wrongKey = aliyunSmsChannel({
        endpoint: sms.endpoint,
        accessKeyId: "k",
        accessKeySecret: "nope",
        signName: "守护",
        templateCodes: { letter_home: "X" },
      });
      await expect(wrongKey.send(msg)).rejects.toThrow(/SignatureDoesNotMatch/);
      expect(sms.messages.map((m) => m.text)).toEqual([`【守护】您有一封来信《寒假安全告家长书》，请点击查看：${link}`, expect.any(String)]);
      await expect.poll(() => got.length, { timeout: 5000 }).toBe(1);
      expect(got[0]!.sig).toBe(smsReceiptSignature(SECRET, got[0]!.ts, got[0]!.body));
      const items = JSON.parse(got[0]!.body) as { out_id: string; success: boolean; err_code: string }[];
      expect(items.map((i) => [i.out_id, i.success])).toEqual([
        ["m-1", true],
        ["m-2", false],
      ]);
      const listed = (await (await fetch(`${sms.endpoint}messages?phone=13900000000`)).json()) as { messages: { status: string }[] };
      expect(listed.messages).toEqual([expect.objectContaining({ status: "failed", errCode: "IS_CLOSE" })]);
    } finally {
      await sms.close();
      sink.close();
    }
  });
});
