import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildEvent, consumeEvent } from "@shouhu/messaging";
import { childView, maskPhone, recordAccess, regionOnly, type ChildView, type Resolved } from "@shouhu/auth";
import { mentorPairing, pairingStartedData, roleCases, roleHeaders, teacherHelper, type RoleCase } from "@shouhu/testing";
import { registryEventHandlers } from "../src/events/pairing-events.js";
import type { Tx } from "../src/data/db.js";
import { childBody, registryTest, type Harness } from "./harness.js";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { runHandover } from "../src/jobs/export-handover.js";
import { DEFAULT_PACK_FONT } from "../src/domain/handover-pdf.js";

async function pdfText(bytes: Uint8Array): Promise<string> {
  const doc = await getDocument({ data: bytes, isEvalSupported: false }).promise;
  const pages: string[] = [];
  for (let i = 1; i <= doc.numPages; i++) pages.push((await (await doc.getPage(i)).getTextContent()).items.map((it) => ("str" in it ? it.str : "")).join(""));
  await doc.destroy();
  return pages.join("\n");
}

/**
 * Generated from the need-to-know table (@shouhu/auth NEED_TO_KNOW): every role ×
 * every child-data route of the registry × inside / outside the caller's jurisdiction
 * (and, for teachers, paired with the child or not). Expectations come from the table
 * through `childView`, then each response is checked field by field and, for every
 * value the view withholds, the raw value must appear nowhere in the body.
 */
let h: Harness;
let childId: string;
const body = childBody({
  seq: 77,
  name: "需知测试",
  familySituation: "父母离异，随祖父生活",
  remarks: "祖父患高血压",
  helperName: "张老师",
});
const raw = body as typeof body & { familySituation: string; remarks: string };

// One caller per role inside the child's jurisdiction and one outside it (@shouhu/testing need-to-know), and a teacher paired with the child.
const cases = roleCases({ pairedTeacher: true });
type Case = RoleCase;
const tokenFor = async (c: Case) => (await roleHeaders(h.issuer, h.issuerUrl, c)).authorization.slice("Bearer ".length);

/** What a field of the raw record should look like under a resolved level. */
function shown(level: Resolved, value: string | null, kind: "id" | "phone" | "text"): string | null {
  if (value === null || level === "full") return value;
  if (level === "none") return null;
  return kind === "id" ? regionOnly(value) : kind === "phone" ? maskPhone(value) : null;
}

/** Every raw value the view withholds entirely (must not be anywhere in a response). */
function withheld(view: ChildView): string[] {
  const out: string[] = [];
  if (view.idNumber !== "full") out.push(raw.idNumber.slice(6)); // birth date, sequence and check digit
  if (view.guardianName === "none") out.push(...raw.guardians.map((g) => g.name));
  if (view.guardianPhone !== "full") out.push(...raw.guardians.map((g) => g.phone));
  if (view.parentName === "none") out.push(...raw.parents.map((p) => p.name));
  if (view.parentPhone !== "full") out.push(...raw.parents.map((p) => p.phone));
  if (view.workPlace === "none") out.push(...raw.parents.map((p) => p.workCity));
  if (view.address === "none") out.push(raw.address);
  if (view.familyNotes === "none") out.push(raw.familySituation, raw.remarks);
  if (view.psychologicalNotes === "none") out.push(raw.psychologicalNotes);
  if (view.healthNotes === "none") out.push(raw.healthNotes);
  return out;
}

function checkChild(child: Record<string, any>, view: ChildView) {
  // Seen by every role that sees the child at all.
  expect(child).toMatchObject({
    id: childId,
    name: raw.name,
    sex: raw.sex,
    birthDate: raw.birthDate,
    villageCode: raw.villageCode,
    schoolId: raw.schoolId,
    className: raw.className,
    riskLevel: raw.riskLevel,
  });
  expect(child.idNumber).toBe(shown(view.idNumber, raw.idNumber, "id"));
  expect(child.address).toBe(shown(view.address, raw.address, "text"));
  expect(child.familySituation).toBe(shown(view.familyNotes, raw.familySituation, "text"));
  expect(child.remarks).toBe(shown(view.familyNotes, raw.remarks, "text"));
  expect(child.psychologicalNotes).toBe(shown(view.psychologicalNotes, raw.psychologicalNotes, "text"));
  expect(child.healthNotes).toBe(shown(view.healthNotes, raw.healthNotes, "text"));
  checkFamily(child, view);
}

function checkFamily(holder: Record<string, any>, view: ChildView) {
  if (view.guardianName === "none") expect(holder.guardians).toEqual([]);
  else
    expect(holder.guardians).toEqual(
      raw.guardians.map((g) => ({
        name: g.name,
        relation: g.relation,
        phone: shown(view.guardianPhone, g.phone, "phone"),
        age: view.guardianDetails === "full" ? g.age : null,
        health: view.guardianDetails === "full" ? g.health : null,
      })),
    );
  if ([view.parentName, view.parentPhone, view.workPlace].every((l) => l === "none")) expect(holder.parents).toEqual([]);
  else
    expect(holder.parents).toEqual(
      raw.parents.map((p) =>
        expect.objectContaining({
          role: p.role,
          name: shown(view.parentName, p.name, "text"),
          phone: shown(view.parentPhone, p.phone, "phone"),
          workCity: shown(view.workPlace, p.workCity, "text"),
        }),
      ),
    );
}

registryTest("need_to_know").beforeAll(async ({ registry }) => {
  h = registry;
  const res = await h.app.inject({ method: "POST", url: "/api/v1/children", headers: await h.as("county.admin"), payload: body });
  expect(res.statusCode).toBe(201);
  childId = res.json().id;
  // A change, so the history has entries for the family notes, the address and a phone.
  const patch = await h.app.inject({
    method: "PATCH",
    url: `/api/v1/children/${childId}`,
    headers: await h.as("county.admin"),
    payload: {
      familySituation: `${raw.familySituation}。`,
      address: `${raw.address}5号`,
      guardians: [{ ...raw.guardians[0], phone: "13907319999" }],
      psychologicalNotes: "性格内向，爱画画",
    },
  });
  expect(patch.statusCode).toBe(200);
  // …and back, so the raw values above are the current ones again.
  const back = await h.app.inject({
    method: "PATCH",
    url: `/api/v1/children/${childId}`,
    headers: await h.as("county.admin"),
    payload: { familySituation: raw.familySituation, address: raw.address, guardians: raw.guardians, psychologicalNotes: raw.psychologicalNotes },
  });
  expect(back.statusCode).toBe(200);
  // The paired teacher: pairing.started names their login.
  const child = back.json();
  const helper = teacherHelper("需知老师", "ntk.teacher.paired");
  const event = buildEvent(
    "pairing.started",
    {
      subject: childId,
      orgUnit: child.villageCode,
      actor: { kind: "system", id: "test" },
      data: pairingStartedData(mentorPairing({ ...child, townshipCode: "360999101" }, helper, randomUUID())),
    },
    { producer: "pairing" },
  );
  await consumeEvent<Tx>(event, registryEventHandlers(), (fn) => h.prisma.$transaction(fn));
  // A 成长档案 note by the county: read as RECORD_ACCESS.growthNotes says.
  const note = await h.app.inject({
    method: "POST",
    url: `/api/v1/children/${childId}/growth-entries`,
    headers: await h.as("county.admin"),
    payload: { kind: "note", date: "2026-11-02", title: "家访后记", detail: GROWTH_NOTE },
  });
  expect(note.statusCode).toBe(201);
}, 60_000);

const GROWTH_NOTE = "父母离异后情绪低落，需持续关注";

describe.each(cases)("$role $where${paired ? ', paired' : ''}", (c) => {
  const view = childView({ roles: [c.role] }, { paired: c.paired });
  const get = async (url: string) => h.app.inject({ url, headers: { authorization: `Bearer ${await tokenFor(c)}` } });
  const noLeaks = (text: string) => {
    for (const value of withheld(view)) expect(text, `withheld value ${value} leaked`).not.toContain(value);
  };

  it("GET /children/:id", async () => {
    const res = await get(`/api/v1/children/${childId}`);
    if (c.where === "outside") return expect(res.statusCode).toBe(404);
    expect(res.statusCode).toBe(200);
    checkChild(res.json(), view);
    noLeaks(res.body);
  });

  it("GET /children/:id/growth-entries", async () => {
    const res = await get(`/api/v1/children/${childId}/growth-entries`);
    if (c.where === "outside") return expect(res.statusCode).toBe(404);
    const level = recordAccess({ roles: [c.role] }, "growthNotes");
    if (level === "none") {
      expect(res.statusCode).toBe(403);
      return expect(res.body).not.toContain(GROWTH_NOTE);
    }
    expect(res.statusCode).toBe(200);
    const seesAll = level === "all" || c.paired;
    // Not paired, a teacher sees only what they wrote (nothing here).
    expect(res.json().items.map((e: { detail: string }) => e.detail)).toEqual(seesAll ? [GROWTH_NOTE] : []);
  });

  it("GET /children (list)", async () => {
    const res = await get(`/api/v1/children?limit=200`);
    if (c.where === "outside") {
      expect([200, 403]).toContain(res.statusCode);
      return expect(res.body).not.toContain(childId);
    }
    expect(res.statusCode).toBe(200);
    const item = res.json().items.find((i: { id: string }) => i.id === childId);
    expect(item).toBeDefined();
    checkChild(item, view);
    noLeaks(res.body);
  });

  it("GET /children/counts counts exactly the children the list shows", async () => {
    const [counts, list] = await Promise.all([get(`/api/v1/children/counts`), get(`/api/v1/children?status=active&limit=200`)]);
    expect(counts.statusCode).toBe(200);
    const items = list.statusCode === 200 ? (list.json().items as { riskLevel: string }[]) : [];
    const body = counts.json();
    expect(body.active).toBe(items.length);
    expect(body.byRiskLevel.high ?? 0).toBe(items.filter((i) => i.riskLevel === "high").length);
    if (c.where === "inside") expect(body.active).toBeGreaterThan(0);
  });

  it("GET /children/:id/contact-card", async () => {
    const res = await get(`/api/v1/children/${childId}/contact-card`);
    if (c.where === "outside") return expect(res.statusCode).toBe(404);
    expect(res.statusCode).toBe(200);
    const card = res.json();
    expect(card.child).toMatchObject({ id: childId, name: raw.name, idNumber: shown(view.idNumber, raw.idNumber, "id") });
    expect(card.address.detail).toBe(shown(view.address, raw.address, "text"));
    checkFamily(card, view);
    noLeaks(res.body);
  });

  it("GET /children/:id/history", async () => {
    const res = await get(`/api/v1/children/${childId}/history`);
    if (c.where === "outside") return expect(res.statusCode).toBe(404);
    expect(res.statusCode).toBe(200);
    const changes = res.json().items.flatMap((i: { changes: { field: string; before: unknown; after: unknown }[] }) => i.changes);
    const byField = (f: string) => changes.filter((ch: { field: string }) => ch.field === f);
    const starred = (f: string, full: boolean) => {
      expect(byField(f).length, `history names ${f}`).toBeGreaterThan(0);
      for (const ch of byField(f)) expect(ch.before === "***" && ch.after === "***").toBe(!full);
    };
    starred("familySituation", view.familyNotes === "full");
    starred("address", view.address === "full");
    starred("psychologicalNotes", view.psychologicalNotes === "full");
    starred(
      "guardians",
      [view.guardianName, view.guardianPhone, view.guardianDetails].every((l) => l === "full"),
    );
    noLeaks(res.body);
    if (view.guardianPhone !== "full") expect(res.body).not.toContain("13907319999");
  });

  it("GET /schools/:id/handover (交接 list)", async () => {
    const res = await get(`/api/v1/schools/${raw.schoolId ?? "S360999101001"}/handover`);
    if (res.statusCode !== 200) {
      expect([403, 404]).toContain(res.statusCode);
      return expect(res.body).not.toContain(childId);
    }
    if (c.where === "outside") return expect(res.body).not.toContain(childId);
    noLeaks(res.body);
  });

  it("POST /exports/handover (交接包): the PDF holds what the table gives", async () => {
    const authorization = `Bearer ${await tokenFor(c)}`;
    const res = await h.app.inject({
      method: "POST",
      url: "/api/v1/exports/handover",
      headers: { authorization },
      payload: { schoolId: raw.schoolId ?? "S360999101001", className: raw.className ?? "2班" },
    });
    if (res.statusCode !== 202) {
      expect([400, 403, 404]).toContain(res.statusCode);
      return expect(res.body).not.toContain(raw.name);
    }
    await runHandover(h.prisma, DEFAULT_PACK_FONT, res.json().id);
    const file = await h.app.inject({ url: `/api/v1/exports/${res.json().id}/file`, headers: { authorization } });
    expect(file.statusCode).toBe(200);
    const text = await pdfText(new Uint8Array(file.rawPayload));
    expect(text).toContain(raw.name);
    noLeaks(text);
    if (recordAccess({ roles: [c.role] }, "growthNotes") === "none" || (c.role === "teacher" && !c.paired)) expect(text).not.toContain(GROWTH_NOTE);
    else expect(text).toContain(GROWTH_NOTE);
  });

  it("GET /enrolments/missing (控辍保学: names, village, school — never the ID number or family)", async () => {
    const res = await get(`/api/v1/enrolments/missing?semester=2026-2027-1`);
    if (res.statusCode !== 200) {
      expect([403, 404]).toContain(res.statusCode);
      return expect(res.body).not.toContain(childId);
    }
    if (c.where === "outside") return expect(res.body).not.toContain(childId);
    expect(res.body).not.toContain(raw.idNumber.slice(6));
    noLeaks(res.body);
  });

  it("GET /children/:id/enrolments", async () => {
    const res = await get(`/api/v1/children/${childId}/enrolments`);
    if (c.where === "outside") return expect([403, 404]).toContain(res.statusCode);
    expect([200, 403]).toContain(res.statusCode);
    noLeaks(res.body);
  });
});
