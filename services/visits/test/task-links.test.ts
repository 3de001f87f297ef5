import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ServiceApp } from "@shouhu/kit";
import { mintTaskLink, verifyTaskLink } from "@shouhu/auth";
import type { ChildSnapshot, Envelope } from "@shouhu/contracts";
import { buildEvent, consumeEvent } from "@shouhu/messaging";
import { childSnapshot, mentorPairing, pairingStartedData, type TestHelper, type TestIssuer } from "@shouhu/testing";
import type { PrismaClient, Tx } from "../src/data/db.js";
import { visitEventHandlers } from "../src/events/handlers.js";
import { visitsTest } from "./fixtures.js";

const SECRET = "visits-test-task-link-secret-0123456789";
const actor = { kind: "user" as const, id: "registrar", name: "登记员" };
const now = new Date("2026-11-22T02:00:00Z");
const handlers = visitEventHandlers(() => now);

let prisma: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;

visitsTest("task-links", { now: () => now, taskLinks: { secret: SECRET, ttlHours: 72, baseUrl: "https://shouhu.example.gov.cn/" } }).beforeAll(
  async ({ visits }) => {
    ({ prisma, issuer, app } = visits);
  },
);

const deliver = (event: Envelope) => consumeEvent<Tx>(event, handlers, (fn) => prisma.$transaction(fn));

/** A child paired with `helper` (a proxy parent without an account unless it has a username), and its open items by kind. */
async function childWith(helper: TestHelper, over: Partial<ChildSnapshot> = {}) {
  const child = childSnapshot(over);
  await deliver(buildEvent("child.registered", { subject: child.id, orgUnit: child.villageCode, actor, data: { child } }, { producer: "registry", now }));
  const p = mentorPairing(child, helper, randomUUID(), "13907312345");
  await deliver(
    buildEvent(
      "pairing.started",
      { subject: child.id, orgUnit: child.villageCode, actor, data: pairingStartedData(p, "2026-11-01") },
      { producer: "pairing", now },
    ),
  );
  const rows = await prisma.dueItem.findMany({ where: { childId: child.id, status: "open" } });
  const item = (kind: string) => rows.find((r) => r.kind === kind)!.id;
  return { child, item };
}

const proxyParent = (): TestHelper => ({ id: randomUUID(), name: "李奶奶", username: null });

function link(child: ChildSnapshot, itemId: string, helper: TestHelper, expiresAt = new Date(now.getTime() + 72 * 3600_000), secret = SECRET) {
  return mintTaskLink(secret, { itemId, childId: child.id, helperId: helper.id, expiresAt });
}

async function call(method: "GET" | "POST", token: string, payload?: object) {
  const res = await app.inject({
    method,
    url: `/api/v1/public/task-links/${token}`,
    headers: { "x-forwarded-for": "10.1.2.3, 172.16.0.1" },
    ...(payload ? { payload } : {}),
  });
  return { status: res.statusCode, body: res.json() as any, audit: res.headers["x-shouhu-audit"] };
}

const good = { date: "2026-11-21", durationMinutes: 15, metWith: "孩子妈妈（在广东打工）", howItWent: "聊了学习，孩子很开心", followUpNeeded: false };
const records = (childId: string) => prisma.visitRecord.findMany({ where: { childId } });
const uses = (tokenId: string | null) => prisma.taskLinkUse.findMany({ where: { tokenId }, orderBy: { id: "asc" } });

describe("one-time task links (public)", () => {
  it("opens with only what the page needs, records the call as the helper, and is used up after", async () => {
    const helper = proxyParent();
    const { child, item } = await childWith(helper);
    const minted = link(child, item("parent_call"), helper);

    const open = await call("GET", minted.token);
    expect(open.status).toBe(200);
    expect(Object.keys(open.body).sort()).toEqual(
      ["childName", "dueDate", "earliestDate", "expiresAt", "helperName", "kind", "kindLabel", "period", "today", "villageName"].sort(),
    );
    expect(open.body).toMatchObject({
      childName: child.name,
      kind: "parent_call",
      kindLabel: "与父母通话",
      period: "2026-11",
      helperName: "李奶奶",
      today: "2026-11-22",
    });
    expect(JSON.stringify(open.body)).not.toContain("139");
    expect(JSON.parse(open.audit as string)).toEqual({ action: "read", childIds: [child.id] });

    const done = await call("POST", minted.token, { ...good, concern: { category: "neglect", description: "孩子说奶奶经常不在家，晚上一个人" } });
    expect(done.status).toBe(201);
    expect(done.body).toEqual({ kindLabel: "与父母通话", date: "2026-11-21", onTime: true, concernRaised: true });
    const [record] = await records(child.id);
    expect(record).toMatchObject({
      kind: "parent_call",
      visitorName: "李奶奶",
      visitorUserId: `task-link:${helper.id}`,
      via: "task_link",
      itemId: item("parent_call"),
    });
    expect(record!.findings).toEqual({ metWith: "孩子妈妈（在广东打工）", mood: "聊了学习，孩子很开心" });
    expect(await prisma.dueItem.findUnique({ where: { id: item("parent_call") } })).toMatchObject({ status: "done", recordId: record!.id });
    expect(await prisma.concern.count({ where: { childId: child.id, recordId: record!.id } })).toBe(1);
    expect(await prisma.outboxEvent.count({ where: { type: "visit.recorded", subject: child.id } })).toBe(1);
    expect(await prisma.outboxEvent.count({ where: { type: "concern.raised", subject: child.id } })).toBe(1);

    // Used: opening and submitting again are 410, and nothing more is stored.
    const again = await call("GET", minted.token);
    expect(again).toMatchObject({ status: 410, body: { error: { code: "LINK_USED" } } });
    const replay = await call("POST", minted.token, good);
    expect(replay).toMatchObject({ status: 410, body: { error: { code: "LINK_USED" } } });
    expect(await records(child.id)).toHaveLength(1);
    expect((await uses(minted.tokenId)).map((u) => `${u.action}:${u.outcome}:${u.address}`)).toEqual([
      "open:ok:10.1.2.3",
      "submit:ok:10.1.2.3",
      "open:used:10.1.2.3",
      "submit:used:10.1.2.3",
    ]);
    // The record shows in the child's visits like any other, marked as written through a link.
    const list = await app.inject({ method: "GET", url: `/api/v1/visit-records?childId=${child.id}`, headers: await issuer.as("changling.supervisor") });
    expect(list.json().items[0]).toMatchObject({ visitorName: "李奶奶", via: "task_link" });
  });

  it("two submits at once store exactly one record; the other is 410", async () => {
    const helper = proxyParent();
    const { child, item } = await childWith(helper);
    const minted = link(child, item("home_visit"), helper);
    const answers = await Promise.all([call("POST", minted.token, good), call("POST", minted.token, good), call("POST", minted.token, good)]);
    expect(answers.map((a) => a.status).sort()).toEqual([201, 410, 410]);
    expect(await records(child.id)).toHaveLength(1);
    expect(await prisma.usedTaskLink.count({ where: { tokenId: minted.tokenId } })).toBe(1);
  });

  it("a link reaches only its own item and child", async () => {
    const helper = proxyParent();
    const a = await childWith(helper);
    const b = await childWith(helper);
    // The body cannot name another child, kind or item.
    const minted = link(a.child, a.item("parent_call"), helper);
    for (const extra of [{ childId: b.child.id }, { itemId: b.item("parent_call") }, { kind: "home_visit" }, { location: "x" }]) {
      const res = await call("POST", minted.token, { ...good, ...extra });
      expect(res.status).toBe(400);
    }
    // A signed token pairing A's item with B's child, or naming another helper, reaches nothing.
    expect((await call("GET", link(a.child, a.item("parent_call"), proxyParent()).token)).status).toBe(410);
    for (const forged of [link(b.child, a.item("parent_call"), helper)]) {
      expect((await call("GET", forged.token)).status).toBe(404);
      expect((await call("POST", forged.token, good)).status).toBe(404);
    }
    expect(await records(a.child.id)).toHaveLength(0);
    expect(await records(b.child.id)).toHaveLength(0);
    expect((await uses(minted.tokenId)).map((u) => u.outcome)).toEqual(["bad_input", "bad_input", "bad_input", "bad_input"]);
    // Bad input left the link usable.
    expect((await call("POST", minted.token, good)).status).toBe(201);
    expect(await prisma.dueItem.findUnique({ where: { id: b.item("parent_call") } })).toMatchObject({ status: "open" });
  });

  it("garbled, forged, expired and bad-date links store nothing; each refusal is audited", async () => {
    const helper = proxyParent();
    const { child, item } = await childWith(helper);
    const minted = link(child, item("parent_call"), helper);
    const tampered = minted.token.slice(0, 10) + (minted.token[10] === "A" ? "B" : "A") + minted.token.slice(11);
    for (const token of [
      tampered,
      "not-a-token",
      "x".repeat(300),
      link(child, item("parent_call"), helper, undefined, "another-secret-0123456789abcdef-xyz").token,
    ]) {
      const res = await call("GET", token);
      expect(res).toMatchObject({ status: 404, body: { error: { code: "LINK_INVALID" } } });
      expect(res.body.error.message).toMatch(/链接无效/);
      expect((await call("POST", token, good)).status).toBe(404);
    }
    const expired = link(child, item("parent_call"), helper, new Date(now.getTime() - 1000));
    const gone = await call("POST", expired.token, good);
    expect(gone).toMatchObject({ status: 410, body: { error: { code: "LINK_EXPIRED" } } });
    expect(gone.body.error.message).toMatch(/过期/);
    for (const bad of [
      { ...good, date: "2026-11-23" },
      { ...good, date: "2026-10-31" },
      { ...good, metWith: "" },
      { ...good, followUpNeeded: true },
      { date: "x" },
    ]) {
      const res = await call("POST", minted.token, bad);
      expect(res.status).toBe(400);
      expect(res.body.error.details).toBeDefined();
    }
    expect(await records(child.id)).toHaveLength(0);
    expect(await prisma.dueItem.findUnique({ where: { id: item("parent_call") } })).toMatchObject({ status: "open" });
    expect((await uses(null)).filter((u) => u.address === "10.1.2.3").length).toBeGreaterThanOrEqual(8);
    expect((await uses(expired.tokenId)).map((u) => u.outcome)).toEqual(["expired"]);
    expect((await uses(minted.tokenId)).map((u) => u.outcome)).toEqual(Array(5).fill("bad_input"));
  });

  it("an item done by someone else is 409; a hand-over to another helper voids the link (410)", async () => {
    const helper = proxyParent();
    const { child, item } = await childWith(helper);
    const minted = link(child, item("parent_call"), helper);
    const staff = await app.inject({
      method: "POST",
      url: "/api/v1/visit-records",
      headers: await issuer.as("changling.director"),
      payload: { childId: child.id, kind: "parent_call", date: "2026-11-20" },
    });
    expect(staff.statusCode).toBe(201);
    expect((await call("POST", minted.token, good)).status).toBe(409);
    expect(await records(child.id)).toHaveLength(1);

    const next = proxyParent();
    const homeVisit = link(child, item("home_visit"), helper);
    const p = mentorPairing(child, next, randomUUID(), "13907399999");
    await deliver(
      buildEvent(
        "pairing.started",
        { subject: child.id, orgUnit: child.villageCode, actor, data: pairingStartedData(p, "2026-11-22") },
        { producer: "pairing", now: new Date(now.getTime() + 1000) },
      ),
    );
    expect(await call("GET", homeVisit.token)).toMatchObject({ status: 410, body: { error: { code: "LINK_GONE" } } });
  });

  it("staff issue a link by hand for a proxy parent's item in their area only", async () => {
    const helper = proxyParent();
    const { child, item } = await childWith(helper);
    const issue = async (user: string, itemId: string) => {
      const res = await app.inject({ method: "POST", url: "/api/v1/task-links", headers: await issuer.as(user), payload: { itemId } });
      return { status: res.statusCode, body: res.json() as any };
    };
    const issued = await issue("changling.supervisor", item("home_visit"));
    expect(issued.status).toBe(201);
    expect(issued.body.url).toMatch(/^https:\/\/shouhu\.example\.gov\.cn\/t\/[A-Za-z0-9_-]+$/);
    const token = issued.body.url.split("/t/")[1];
    expect(verifyTaskLink(SECRET, token, now)).toMatchObject({ ok: true, claims: { itemId: item("home_visit"), childId: child.id, helperId: helper.id } });
    // Never past the item's escalation day (due 2026-12-05 + 7) — here the 72 hours come first.
    expect(issued.body.expiresAt).toBe("2026-11-25T02:00:00.000Z");
    expect((await call("GET", token)).status).toBe(200);

    // Sent by SMS through notifications instead: an event naming the item and its helper, never a link.
    const sent = await app.inject({
      method: "POST",
      url: "/api/v1/task-links",
      headers: await issuer.as("changling.director"),
      payload: { itemId: item("parent_call"), send: true },
    });
    expect(sent.statusCode).toBe(202);
    expect(sent.json()).toEqual({ sent: true, to: "139****2345" });
    const [requested] = await prisma.outboxEvent.findMany({ where: { type: "task-link.requested", subject: child.id } });
    expect((requested!.envelope as any).data).toMatchObject({
      itemId: item("parent_call"),
      kind: "parent_call",
      responsible: { kind: "helper", helperId: helper.id, phone: "13907312345", username: null },
    });
    expect(JSON.stringify(requested!.envelope)).not.toMatch(/\/t\//);
    expect((await uses(null)).filter((u) => u.itemId === item("parent_call")).map((u) => `${u.action}:${u.outcome}`)).toEqual(["issue:ok"]);

    expect((await issue("shimen.supervisor", item("home_visit"))).status).toBe(404);
    expect((await issue("changling.teacher", item("home_visit"))).status).toBe(403);
    const withAccount = await childWith({ id: randomUUID(), name: "王老师", username: "changling.teacher" });
    expect(await issue("changling.supervisor", withAccount.item("home_visit"))).toMatchObject({ status: 409, body: { error: { code: "HELPER_HAS_ACCOUNT" } } });
  });
});
