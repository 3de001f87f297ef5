import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AUDIT_HEADER } from "@shouhu/kit";
import { buildEvent, consumeEvent } from "@shouhu/messaging";
import type { Envelope } from "@shouhu/contracts";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import type { Tx } from "../src/data/db.js";
import { registryEventHandlers } from "../src/events/pairing-events.js";
import { runHandover } from "../src/jobs/export-handover.js";
import { DEFAULT_PACK_FONT } from "../src/domain/handover-pdf.js";
import { childBody, registryTest, type Harness } from "./harness.js";

/**
 * Issue 21.6, 交接包: a class's growth files and 联系卡 as one PDF, from the registry's projection of the
 * visits, activities and check-ups events; each strand as the need-to-know table lets the requester read it.
 */
let h: Harness;
const SCHOOL = "S360999101001";
const ids: Record<string, string> = {};
const actor = { kind: "system", id: "test" } as const;
const handlers = registryEventHandlers();
const consume = (e: Envelope) => consumeEvent<Tx>(e, handlers, (fn) => h.prisma.$transaction(fn));

async function create(key: string, body: Record<string, unknown>) {
  const res = await h.app.inject({ method: "POST", url: "/api/v1/children", headers: await h.as("county.admin"), payload: childBody(body) });
  expect(res.statusCode, res.body).toBe(201);
  ids[key] = res.json().id;
  return res.json();
}
const sub = async (user: string) => JSON.parse(Buffer.from((await h.token(user)).split(".")[1]!, "base64url").toString()).sub as string;
const vc = (c: { id: string; name: string; villageCode: string }) => ({ id: c.id, name: c.name, villageCode: c.villageCode, townshipCode: "360999101" });

async function pdfText(buf: Buffer): Promise<string> {
  const doc = await getDocument({ data: new Uint8Array(buf), useSystemFonts: false, isEvalSupported: false }).promise;
  const pages: string[] = [];
  for (let i = 1; i <= doc.numPages; i++) {
    const page = await doc.getPage(i);
    pages.push((await page.getTextContent()).items.map((it) => ("str" in it ? it.str : "")).join(""));
  }
  await doc.destroy();
  return pages.join("\n");
}

async function pack(user: string, body: object): Promise<{ id: string; pdf: Buffer; text: string; audit: { action: string; childIds: string[] } }> {
  const res = await h.app.inject({ method: "POST", url: "/api/v1/exports/handover", headers: await h.as(user), payload: body });
  expect(res.statusCode, res.body).toBe(202);
  const id = res.json().id as string;
  await runHandover(h.prisma, DEFAULT_PACK_FONT, id);
  const state = await h.app.inject({ url: `/api/v1/exports/${id}`, headers: await h.as(user) });
  expect(state.json()).toMatchObject({ kind: "handover", status: "completed", fileUrl: `/api/v1/exports/${id}/file` });
  expect(state.json().doneRows).toBe(state.json().totalRows);
  const file = await h.app.inject({ url: `/api/v1/exports/${id}/file`, headers: await h.as(user) });
  expect(file.statusCode, file.body).toBe(200);
  expect(file.headers["content-type"]).toBe("application/pdf");
  const pdf = file.rawPayload;
  return { id, pdf, text: await pdfText(pdf), audit: JSON.parse(String(file.headers[AUDIT_HEADER])) };
}

registryTest("handover").beforeAll(async ({ registry }) => {
  h = registry;
  const a = await create("a", { seq: 1, name: "李小花" });
  const b = await create("b", { seq: 2, name: "张小明", sex: "male", healthNotes: null, psychologicalNotes: null });
  await create("other", { seq: 3, name: "另班生", className: "1班" });
  await create("elsewhere", { seq: 4, name: "石门生", villageCode: "360999102201", schoolId: "S360999102001" });
  const teacher = await sub("changling.teacher");
  const visit = (c: typeof a, userId: string, name: string, kind: "home_visit" | "talk", date: string) =>
    buildEvent(
      "visit.recorded",
      {
        subject: c.id,
        orgUnit: c.villageCode,
        actor,
        data: {
          recordId: randomUUID(),
          kind,
          date,
          child: vc(c),
          visitor: { userId, name },
          satisfied: { itemId: randomUUID(), period: "2026-11", onTime: false },
          followUpNeeded: false,
          concernRaised: false,
        },
      },
      { producer: "visits" },
    );
  const events: Envelope[] = [
    visit(a, "someone-else", "李主任", "home_visit", "2026-10-08"),
    visit(a, teacher, "张敏", "talk", "2026-10-20"),
    buildEvent(
      "activity.recorded",
      {
        subject: randomUUID(),
        orgUnit: a.villageCode,
        actor,
        data: {
          sessionId: randomUUID(),
          site: { id: randomUUID(), name: "长岭村儿童之家", kind: "village", orgUnit: a.villageCode, townshipCode: "360999101" },
          kind: "tutoring",
          date: "2026-11-03",
          leader: "周老师",
          attendance: [a.id, b.id],
        },
      },
      { producer: "activities" },
    ),
    buildEvent(
      "checkup.recorded",
      {
        subject: a.id,
        orgUnit: a.villageCode,
        actor,
        data: {
          examId: randomUUID(),
          campaignId: null,
          date: "2026-09-15",
          child: vc(a),
          flags: [{ kind: "low_vision", severity: "mild", label: "视力低下（轻度）" }],
          measures: { heightCm: 132.5, weightKg: 28.4, bmi: 16.2 },
        },
      },
      { producer: "health" },
    ),
  ];
  for (const e of events) await consume(e);
  // Redelivered (relay retry, replay): the inbox takes each once.
  for (const e of events) await consume(e);
  const award = await h.app.inject({
    method: "POST",
    url: `/api/v1/children/${a.id}/growth-entries`,
    headers: await h.as("county.admin"),
    payload: { kind: "award", date: "2026-11-10", title: "三好学生" },
  });
  expect(award.statusCode, award.body).toBe(201);
}, 60_000);

describe("the registry's projection of the growth file's strands", () => {
  it("keeps each visit, attendance and check-up once, with the figures", async () => {
    expect(await h.prisma.growthVisit.count({ where: { childId: ids.a } })).toBe(2);
    expect(await h.prisma.growthActivity.count()).toBe(2);
    expect(await h.prisma.growthCheckup.findMany()).toMatchObject([{ childId: ids.a, heightCm: 132.5, weightKg: 28.4, bmi: 16.2 }]);
  });

  it("a rebuild's snapshot.visit-record fills in a visit made before (kept when it names the visitor)", async () => {
    const c = await h.prisma.child.findUniqueOrThrow({ where: { id: ids.other } });
    const snap = (recordId: string, extra: object) =>
      buildEvent(
        "snapshot.visit-record",
        {
          subject: c.id,
          orgUnit: c.villageCode,
          actor,
          data: { runId: randomUUID(), recordId, kind: "home_visit", date: "2026-05-01", child: vc(c), ...extra },
        },
        { producer: "visits" },
      );
    const [named, old] = [randomUUID(), randomUUID()];
    await consume(snap(named, { visitor: { userId: "u9", name: "赵老师" }, onTime: true }));
    await consume(snap(old, {}));
    expect(await h.prisma.growthVisit.findMany({ where: { childId: c.id } })).toMatchObject([{ recordId: named, visitorName: "赵老师", onTime: true }]);
  });
});

describe("the handover pack", () => {
  it("a supervisor's pack: cover, one section per child of the class with the 联系卡 and the whole timeline; font embedded; audited", async () => {
    const { text, pdf, audit, id } = await pack("changling.supervisor", { schoolId: SCHOOL, grade: "四年级", className: "2班" });
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    const raw = pdf.toString("latin1");
    // The CJK face is embedded (a subset), not referenced.
    expect(raw).toMatch(/\/FontFile[23]/);
    expect(raw).toMatch(/\/BaseFont \/[A-Z]{6}\+NotoSansCJKsc-Regular/);
    expect(text).toContain("交接包");
    expect(text).toContain("长岭乡中心小学");
    expect(text).toContain("李小花");
    expect(text).toContain("张小明");
    expect(text).not.toContain("另班生");
    expect(text).not.toContain("石门生");
    expect(text).toContain("13907310001"); // the guardian's phone, in full for a case worker
    expect(text).toContain("身高 132.5 cm");
    expect(text).toContain("视力低下（轻度）");
    expect(text).toContain("长岭村儿童之家");
    expect(text).toContain("李主任");
    expect(text).toContain("三好学生");
    expect(audit).toMatchObject({ action: "handover-pack", exportId: id, childCount: 2 });
    expect([...audit.childIds].sort()).toEqual([ids.a, ids.b].sort());
  }, 60_000);

  it("a teacher not paired with the children: no family phones, own visits only, no check-ups or others' notes", async () => {
    const { text } = await pack("changling.teacher", { schoolId: SCHOOL, className: "2班" });
    expect(text).toContain("李小花");
    expect(text).not.toContain("13907310001");
    expect(text).not.toContain("李主任");
    expect(text).toContain("张敏");
    expect(text).not.toContain("132.5");
    expect(text).not.toContain("三好学生");
    expect(text).toContain("按查看权限未列入");
  }, 60_000);

  it("refuses bad input with a zh-CN 4xx naming the field, and stores nothing", async () => {
    const before = await h.prisma.exportJob.count();
    const post = async (user: string, payload: object) => h.app.inject({ method: "POST", url: "/api/v1/exports/handover", headers: await h.as(user), payload });
    const unknown = await post("changling.supervisor", { schoolId: "S000", className: "2班" });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.details).toEqual([{ field: "schoolId", message: expect.stringMatching(/学校/) }]);
    // 石门镇's school is outside 长岭乡: answered as unknown.
    expect((await post("changling.supervisor", { schoolId: "S360999102001", className: "1班" })).statusCode).toBe(404);
    const empty = await post("changling.supervisor", { schoolId: SCHOOL, className: "9班" });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.details[0]).toMatchObject({ field: "className", message: expect.stringMatching(/没有在册儿童/) });
    const missing = await post("changling.supervisor", { schoolId: SCHOOL });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.message).toMatch(/班级/);
    expect((await post("changling.supervisor", { schoolId: SCHOOL, className: "2班", extra: 1 })).statusCode).toBe(400);
    expect((await post("changling.supervisor", { schoolId: SCHOOL, className: "班".repeat(21) })).statusCode).toBe(400);
    // Roles that make no pack: health workers, inspectors, village directors.
    for (const user of ["changling.doctor", "county.inspector", "changling.director"]) {
      const res = await post(user, { schoolId: SCHOOL, className: "2班" });
      expect(res.statusCode, user).toBe(403);
      expect(res.json().error.message).toMatch(/[\u4e00-\u9fff]/);
    }
    // A teacher of another school.
    const stranger = await h.issuer.issueToken("changling.teacher", "shouhu-web", { issuer: h.issuerUrl, overrides: { school_code: "S360999101002" } });
    const other = await h.app.inject({
      method: "POST",
      url: "/api/v1/exports/handover",
      headers: { authorization: `Bearer ${stranger}` },
      payload: { schoolId: SCHOOL, className: "2班" },
    });
    expect(other.statusCode).toBe(403);
    expect(await h.prisma.exportJob.count()).toBe(before);
  });

  it("is the requester's alone and expires like the register export", async () => {
    const res = await h.app.inject({
      method: "POST",
      url: "/api/v1/exports/handover",
      headers: await h.as("changling.supervisor"),
      payload: { schoolId: SCHOOL, className: "2班" },
    });
    const id = res.json().id as string;
    expect((await h.app.inject({ url: `/api/v1/exports/${id}/file`, headers: await h.as("changling.supervisor") })).statusCode).toBe(409);
    await runHandover(h.prisma, DEFAULT_PACK_FONT, id);
    expect((await h.app.inject({ url: `/api/v1/exports/${id}/file`, headers: await h.as("county.admin") })).statusCode).toBe(404);
    h.clock.now = new Date(Date.now() + 25 * 3600_000);
    try {
      const late = await h.app.inject({ url: `/api/v1/exports/${id}/file`, headers: await h.as("changling.supervisor") });
      expect(late.statusCode).toBe(410);
      expect(late.json().error.code).toBe("EXPORT_EXPIRED");
    } finally {
      h.clock.now = new Date("2026-11-22T02:00:00Z");
    }
  }, 60_000);

  it("a job without its font fails saying which file is missing", async () => {
    const res = await h.app.inject({
      method: "POST",
      url: "/api/v1/exports/handover",
      headers: await h.as("changling.supervisor"),
      payload: { schoolId: SCHOOL, className: "2班" },
    });
    await expect(runHandover(h.prisma, { path: "/nonexistent/font.ttc" }, res.json().id)).rejects.toThrow(/找不到中文字体文件 \/nonexistent\/font.ttc/);
  });
});
