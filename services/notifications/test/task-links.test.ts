import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { verifyTaskLink } from "@shouhu/auth";
import { buildEvent, consumeEvent, inPgTransaction, type SqlTx } from "@shouhu/messaging";
import type { EventData, EventType } from "@shouhu/contracts";
import type pg from "pg";
import type { PrismaClient } from "../src/data/db.js";
import { notificationHandlers } from "../src/events/handlers.js";
import { parseQuietHours } from "../src/domain/quiet-hours.js";
import { aliyunSignature, aliyunSmsChannel } from "../src/channels/sms-aliyun.js";
import { smsChildName } from "../src/domain/task-links.js";
import { notificationsTest } from "./fixtures.js";

const LINK_SECRET = "notifications-test-task-link-secret-0123";
const SMS_SECRET = "sms-secret";
const quiet = parseQuietHours("21:00-08:00");
const clock = { now: new Date("2026-11-22T02:00:00Z") }; // 10:00 in China
const handlers = notificationHandlers({
  now: () => clock.now,
  quiet,
  taskLinks: { secret: LINK_SECRET, ttlHours: 72, baseUrl: "https://shouhu.example.gov.cn/" },
});

let prisma: PrismaClient;
let pool: pg.Pool;
notificationsTest("task-links").beforeAll(async ({ notifications }) => {
  ({ prisma, pool } = notifications);
});

// The fake Aliyun receiver (as in notifications.test.ts): checks the signature, keeps what it got.
const received: Record<string, string>[] = [];
const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let data = "";
    req.on("data", (c) => (data += c));
    req.on("end", () => resolve(data));
  });
let server: Server | undefined;
async function smsEndpoint(): Promise<string> {
  server = createServer(async (req, res) => {
    const form = Object.fromEntries(new URLSearchParams(await readBody(req)));
    const { Signature, ...params } = form;
    received.push({ ...form, signatureValid: String(Signature === aliyunSignature("POST", params as Record<string, string>, SMS_SECRET)) });
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ Code: "OK", Message: "OK", BizId: `biz-${received.length}` }));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}
afterAll(() => void server?.close());

const deliver = (type: EventType, data: EventData<EventType>, subject: string) =>
  consumeEvent<SqlTx>(
    buildEvent(type, { subject, orgUnit: "360999101201", actor: { kind: "system", id: "test" }, data } as never, { producer: "test", now: clock.now }),
    handlers,
    (fn) => inPgTransaction(pool, fn),
  );

function item(username: string | null, phone: string | null = "13907312345") {
  const child = { id: randomUUID(), name: "李小花", villageCode: "360999101201", townshipCode: "360999101" };
  return {
    itemId: randomUUID(),
    kind: "parent_call" as const,
    period: "2026-11",
    dueDate: "2026-12-05",
    child,
    responsible: { kind: "helper" as const, helperId: randomUUID(), name: "李奶奶", phone, username, villageCode: "360999101201" },
  };
}
const messagesOf = (childId: string) => prisma.message.findMany({ where: { childId }, orderBy: { channel: "asc" } });

describe("reminders of helpers without an account (issue 22.2)", () => {
  it("visit.due for a proxy parent → one SMS with a one-time link that verifies for that item, child and helper", async () => {
    const d = item(null);
    await deliver("visit.due", { ...d, daysLeft: 7 } as never, d.child.id);
    const [sms, ...rest] = await messagesOf(d.child.id);
    expect(rest).toHaveLength(0);
    expect(sms).toMatchObject({
      channel: "sms",
      address: "13907312345",
      rule: "visit-due-link",
      template: "visit_due_link",
      urgent: false,
      recipientUsername: null,
    });
    const link = (sms!.vars as { link: string }).link;
    expect(link).toMatch(/^https:\/\/shouhu\.example\.gov\.cn\/t\/[A-Za-z0-9_-]{98}$/);
    expect(sms!.body).toContain(link);
    expect(sms!.body).toContain("小花的与父母通话请在2026-12-05前完成");
    expect(sms!.body).not.toContain("李小花");
    const check = verifyTaskLink(LINK_SECRET, link.split("/t/")[1]!, clock.now);
    expect(check).toMatchObject({ ok: true, claims: { itemId: d.itemId, childId: d.child.id, helperId: d.responsible.helperId } });
    expect(check.ok && check.claims.exp * 1000).toBe(clock.now.getTime() + 72 * 3600_000);

    // The provider gets the whole link (never cut to SMS_MAX_VAR_LENGTH) under its own registered template.
    const channel = aliyunSmsChannel({
      endpoint: await smsEndpoint(),
      accessKeyId: "id",
      accessKeySecret: SMS_SECRET,
      signName: "守护",
      templateCodes: { visit_due_link: "SMS_LINK_1" },
      maxVarLength: 35,
    });
    await channel.send({
      id: sms!.id,
      channel: "sms",
      address: sms!.address,
      template: sms!.template,
      vars: sms!.vars,
      title: sms!.title,
      body: sms!.body,
    } as never);
    expect(received[0]).toMatchObject({ TemplateCode: "SMS_LINK_1", PhoneNumbers: "13907312345", signatureValid: "true" });
    expect(JSON.parse(received[0]!.TemplateParam!)).toEqual({ child: "小花", kind: "与父母通话", dueDate: "2026-12-05", link });
  });

  it("level-1 overdue for a proxy parent → an SMS with a fresh link; quiet hours hold it until morning", async () => {
    clock.now = new Date("2026-12-06T14:00:00Z"); // 22:00 in China
    const d = item(null);
    await deliver("visit.overdue", { ...d, daysOverdue: 1, level: 1 } as never, d.child.id);
    const [sms] = await messagesOf(d.child.id);
    expect(sms).toMatchObject({ channel: "sms", template: "visit_overdue_link", status: "queued" });
    expect(sms!.notBefore.toISOString()).toBe("2026-12-07T00:00:00.000Z"); // 08:00 in China
    expect(sms!.body).toMatch(/已逾期1天.*https:\/\/shouhu\.example\.gov\.cn\/t\//);
    clock.now = new Date("2026-11-22T02:00:00Z");
  });

  it("a helper with an account is reminded in-app as before; without a phone nothing is sent by SMS", async () => {
    const teacher = item("changling.teacher");
    await deliver("visit.due", { ...teacher, daysLeft: 7 } as never, teacher.child.id);
    expect((await messagesOf(teacher.child.id)).map((m) => `${m.channel}:${m.template}`)).toEqual(["inapp:visit_due"]);
    const noPhone = item(null, null);
    await deliver("visit.due", { ...noPhone, daysLeft: 7 } as never, noPhone.child.id);
    expect((await messagesOf(noPhone.child.id)).filter((m) => m.channel === "sms")).toHaveLength(0);
  });

  it("staff's task-link.requested → the same SMS with a link, once per request", async () => {
    const d = item(null);
    const data = { ...d, requestedBy: { userId: "u-director", name: "周主任" } };
    await deliver("task-link.requested", data as never, d.child.id);
    const [sms, ...rest] = await messagesOf(d.child.id);
    expect(rest).toHaveLength(0);
    expect(sms).toMatchObject({ channel: "sms", address: "13907312345", rule: "task-link-requested", template: "visit_due_link" });
    expect(verifyTaskLink(LINK_SECRET, (sms!.vars as { link: string }).link.split("/t/")[1]!, clock.now)).toMatchObject({
      ok: true,
      claims: { itemId: d.itemId },
    });
  });

  it("names the child in an SMS by given name", () => {
    expect(smsChildName("李小花")).toBe("小花");
    expect(smsChildName("王华")).toBe("王*");
  });
});
