import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { ServiceApp } from "@shouhu/kit";
import { recordAccess } from "@shouhu/auth";
import { buildEvent, consumeEvent } from "@shouhu/messaging";
import { childSnapshot, mentorPairing, pairingStartedData, teacherHelper, type TestIssuer, roleCases, roleHeaders, type RoleCase } from "@shouhu/testing";
import type { PrismaClient, Tx } from "../src/data/db.js";
import { visitEventHandlers } from "../src/events/handlers.js";
import { visitsTest } from "./fixtures.js";
import { assigners } from "../src/routes/permissions.js";

/**
 * Generated from the need-to-know table (@shouhu/auth RECORD_ACCESS): every role ×
 * every visits route that returns child records × inside / outside the caller's
 * jurisdiction (teachers also paired with the child or not). The expected status and
 * what the body may hold follow from `recordAccess`; every withheld text (findings,
 * the visitor, a concern's description and case notes) must appear nowhere in the body.
 */
const now = new Date("2026-11-22T02:00:00Z");
const FINDING = "祖父腿伤未愈需人照看";
const CONCERN = "疑似被邻村青年勒索零花钱";
const NOTE = "已联系派出所与学校";

let prisma: PrismaClient;
let issuer: TestIssuer;
let app: ServiceApp;
const child = childSnapshot({ name: "需知走访" });
let recordId: string;
let concernId: string;

// One caller per role inside and outside (@shouhu/testing need-to-know), and a teacher paired with the child.
const cases = roleCases({ pairedTeacher: true });
type Case = RoleCase;
const headersFor = (c: Case) => roleHeaders(issuer.server, issuer.issuerUrl, c);

visitsTest("visits_ntk", { now: () => now }).beforeAll(async ({ visits }) => {
  ({ prisma, issuer, app } = visits);

  await app.ready();

  const handlers = visitEventHandlers(() => now);
  const deliver = (event: Parameters<typeof consumeEvent<Tx>>[0]) => consumeEvent<Tx>(event, handlers, (fn) => prisma.$transaction(fn));
  const actor = { kind: "system" as const, id: "test" };
  await deliver(buildEvent("child.registered", { subject: child.id, orgUnit: child.villageCode, actor, data: { child } }, { producer: "registry", now }));
  const helper = teacherHelper("需知老师", "ntk.teacher.paired");
  await deliver(
    buildEvent(
      "pairing.started",
      { subject: child.id, orgUnit: child.villageCode, actor, data: pairingStartedData(mentorPairing(child, helper, randomUUID())) },
      { producer: "pairing" },
    ),
  );

  // What the case workers wrote: a visit with findings and a concern with its case notes.
  const admin = await issuer.as("county.admin");
  const record = await app.inject({
    method: "POST",
    url: "/api/v1/visit-records",
    headers: admin,
    payload: {
      childId: child.id,
      kind: "home_visit",
      date: "2026-11-21",
      findings: { livingConditions: FINDING },
      followUpNeeded: true,
      followUpNote: FINDING,
    },
  });
  expect(record.statusCode, record.body).toBe(201);
  recordId = record.json().id;
  const concern = await app.inject({
    method: "POST",
    url: "/api/v1/concerns",
    headers: admin,
    payload: { childId: child.id, category: "safety", description: CONCERN },
  });
  expect(concern.statusCode, concern.body).toBe(201);
  concernId = concern.json().id;
  const note = await app.inject({
    method: "POST",
    url: `/api/v1/concerns/${concernId}/updates`,
    headers: admin,
    payload: { status: "in_progress", note: NOTE },
  });
  expect(note.statusCode, note.body).toBe(200);
}, 60_000);

describe.each(cases)("$role $where${paired ? ', paired' : ''}", (c) => {
  const visits = recordAccess({ roles: [c.role] }, "visitRecords");
  const concerns = recordAccess({ roles: [c.role] }, "concerns");
  const inside = c.where === "inside";
  const get = async (url: string) => app.inject({ url, headers: await headersFor(c) });

  it(`GET /visit-records?childId (${visits})`, async () => {
    const res = await get(`/api/v1/visit-records?childId=${child.id}`);
    if (visits === "none") return expect(res.statusCode).toBe(403);
    if (visits === "own-and-paired") {
      // A teacher is answered with their own and their paired children's records, and nothing of anyone else's.
      expect(res.statusCode).toBe(200);
      if (c.paired) expect(res.json().items.map((r: { id: string }) => r.id)).toEqual([recordId]);
      else expect(res.body).not.toContain(recordId);
      if (!c.paired) expect(res.body).not.toContain(FINDING);
      return;
    }
    if (!inside) return expect(res.statusCode).toBe(404);
    expect(res.statusCode).toBe(200);
    const [item] = res.json().items;
    expect(item).toMatchObject({ id: recordId, childId: child.id, kind: "home_visit", date: "2026-11-21" });
    if (visits === "all") expect(item.findings).toMatchObject({ livingConditions: FINDING });
    else {
      // summary: date, kind and on-time only — no narrative, no visitor.
      expect(Object.keys(item).sort()).toEqual(["childId", "childName", "date", "id", "itemId", "kind", "kindLabel", "onTime", "villageCode"]);
      expect(res.body).not.toContain(FINDING);
    }
  });

  it(`GET /visit-records in the caller's area (${visits})`, async () => {
    const res = await get(`/api/v1/visit-records`);
    if (visits === "none") return expect(res.statusCode).toBe(403);
    expect(res.statusCode).toBe(200);
    const sees = inside && (visits !== "own-and-paired" || c.paired);
    expect(res.body.includes(recordId)).toBe(sees);
    if (!sees || visits === "summary") expect(res.body).not.toContain(FINDING);
  });

  it(`GET /concerns (${concerns})`, async () => {
    const res = await get(`/api/v1/concerns`);
    expect(res.statusCode).toBe(200);
    // Only case workers see a case someone else raised with its description; an inspector sees it counted.
    const listed = inside && (concerns === "all" || concerns === "counts");
    expect(res.body.includes(concernId)).toBe(listed);
    if (concerns !== "all") {
      expect(res.body).not.toContain(CONCERN);
      expect(res.body).not.toContain(child.name);
      expect(res.body).not.toContain(child.id);
    }
  });

  it(`GET /concerns/:id (${concerns})`, async () => {
    const res = await get(`/api/v1/concerns/${concernId}`);
    if (!inside || concerns === "own") return expect(res.statusCode).toBe(404);
    expect(res.statusCode).toBe(200);
    if (concerns === "all") {
      expect(res.json()).toMatchObject({ id: concernId, childId: child.id, description: CONCERN });
      expect(
        res
          .json()
          .notes.map((n: { note?: string; text?: string; body?: string }) => JSON.stringify(n))
          .join(),
      ).toContain(NOTE);
    } else {
      for (const secret of [CONCERN, NOTE, child.name, child.id]) expect(res.body).not.toContain(secret);
    }
  });

  it(`POST /concerns/summary for the 交接 list (${concerns})`, async () => {
    const res = await app.inject({
      method: "POST",
      url: "/api/v1/concerns/summary",
      headers: await headersFor(c),
      payload: { childIds: [child.id, randomUUID()] },
    });
    expect(res.statusCode).toBe(200);
    // Case workers: the child's open case (category and status, never the description); teachers and health
    // workers: none (someone else raised it); an inspector: the totals, no child; outside: nothing.
    const body = res.json();
    expect(body.access).toBe(concerns);
    expect(res.body).not.toContain(CONCERN);
    expect(res.body).not.toContain(NOTE);
    if (concerns === "all" && inside) {
      expect(body.items).toEqual([
        expect.objectContaining({
          childId: child.id,
          open: 1,
          concerns: [expect.objectContaining({ id: concernId, category: "safety", status: "in_progress" })],
        }),
      ]);
    } else expect(body.items).toEqual([]);
    if (concerns === "counts") expect(res.body).not.toContain(child.id);
    expect(body.total.open).toBe(inside && (concerns === "all" || concerns === "counts") ? 1 : 0);
  });

  it(`POST /concerns/:id/assign (${assigners.includes(c.role) ? "assigns" : "refused"})`, async () => {
    const res = await app.inject({
      method: "POST",
      url: `/api/v1/concerns/${concernId}/assign`,
      headers: await headersFor(c),
      payload: { username: "changling.director", name: "李主任" },
    });
    if (!assigners.includes(c.role)) return expect(res.statusCode).toBe(403);
    if (!inside) return expect(res.statusCode).toBe(404);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: concernId, childId: child.id, ownerUsername: "changling.director" });
  });
});

describe("POST /concerns/summary bad input", () => {
  it("is a 400 naming the field, in zh-CN", async () => {
    const headers = await issuer.as("county.admin");
    for (const payload of [
      {},
      { childIds: [] },
      { childIds: ["x"] },
      { childIds: Array.from({ length: 501 }, () => randomUUID()) },
      { childIds: [child.id], x: 1 },
    ]) {
      const res = await app.inject({ method: "POST", url: "/api/v1/concerns/summary", headers, payload });
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(res.json().error.message).toMatch(/[\u4e00-\u9fa5]/);
    }
  });
});
