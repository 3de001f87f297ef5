import ExcelJS from "exceljs";
import { describe, expect, it } from "vitest";
import { childBody, registryTest, residentId, type Harness } from "./harness.js";

let h: Harness;
registryTest("enrolment").beforeAll(async ({ registry }) => {
  h = registry;
});

const SCHOOL = "S360999101001"; // 长岭乡中心小学
const SHIMEN = "S360999102001"; // 石门镇中学
const SEMESTER = "2026-2027-1";

async function create(body: Record<string, unknown>): Promise<string> {
  const res = await h.app.inject({ method: "POST", url: "/api/v1/children", headers: await h.as("county.admin"), payload: childBody(body) });
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

async function list(rows: unknown[][], header = ["序号", "姓名", "身份证号", "年级", "班级", "就读状态"]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet("学籍");
  ws.addRow(["长岭乡中心小学2026年秋季学生名单"]);
  ws.addRow(header);
  for (const r of rows) ws.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

async function upload(content: Buffer, query: string, username = "changling.supervisor") {
  const boundary = "----shouhu" + Math.random().toString(16).slice(2);
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="list.xlsx"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  return h.app.inject({
    method: "POST",
    url: `/api/v1/enrolment-imports${query}`,
    headers: { ...(await h.as(username)), "content-type": `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.concat([head, content, Buffer.from(`\r\n--${boundary}--\r\n`)]),
  });
}

const idOf = (seq: number, birthDate = "2015-03-07", sex: "male" | "female" = "female") => residentId("360999", birthDate, seq, sex);
const enrolmentRows = () => h.prisma.enrolment.count();
const events = () => h.prisma.outboxEvent.findMany({ where: { type: "enrolment.changed" }, orderBy: { createdAt: "asc" } });

describe("控辍保学: a school's list", () => {
  const ids: Record<string, string> = {};
  let importId = "";

  it("previews a list matched by ID number: matched, name mismatch, not in the register, bad rows — nothing stored", async () => {
    ids.a = await create({ seq: 1, name: "李小花" });
    ids.b = await create({ seq: 2, name: "王小明", sex: "male" });
    ids.c = await create({ seq: 3, name: "张小红" }); // in no list: flagged
    ids.toddler = await create({ seq: 4, name: "赵小宝", birthDate: "2023-01-05" }); // not of school age
    ids.shimen = await create({ seq: 5, name: "石门娃", villageCode: "360999102201", schoolId: SHIMEN });
    const stranger = residentId("360999", "2014-05-05", 77, "male");
    const file = await list([
      [1, "李小花", idOf(1), "四年级", "2班", "在读"],
      [2, "王晓明", idOf(2, "2015-03-07", "male"), "四年级", "2班", "辍学"],
      [3, "陌生人", stranger, "五年级", "1班", ""],
      [4, "数字", 3.60999201503071e17, "四年级", "1班", "在读"],
      [5, "状态错", residentId("360999", "2014-06-06", 78, "male"), "四年级", "1班", "请假"],
      [6, "李小花", idOf(1), "四年级", "2班", "在读"],
      [7, "石门娃", idOf(5), "四年级", "1班", "在读"],
      ["合计", "", "", "", "", ""],
    ]);
    const res = await upload(file, `?schoolId=${SCHOOL}&semester=${SEMESTER}`);
    expect(res.statusCode).toBe(201);
    const body = res.json();
    importId = body.id;
    expect(body.summary).toEqual({ total: 7, matched: 1, nameMismatch: 1, notInRegister: 2, invalid: 3 });
    const byRow = new Map(body.rows.map((r: { rowNumber: number }) => [r.rowNumber, r]));
    expect(byRow.get(3)).toMatchObject({ kind: "matched", childId: ids.a, status: "enrolled", idNumber: idOf(1) });
    expect(byRow.get(4)).toMatchObject({ kind: "name_mismatch", registerName: "王小明", status: "dropped_out" });
    expect(byRow.get(6)).toMatchObject({ kind: "invalid", reasons: [expect.stringContaining("Excel")] });
    expect(byRow.get(7)).toMatchObject({ kind: "invalid", reasons: [expect.stringContaining("就读状态")] });
    expect(byRow.get(8)).toMatchObject({ kind: "invalid", reasons: ["与第 3 行身份证号重复"] });
    // Registered in another township and at another school: not revealed to 长岭乡.
    expect(byRow.get(9)).toMatchObject({ kind: "not_in_register", childId: null, registerName: null });
    expect(await enrolmentRows()).toBe(0);
    expect(await events()).toHaveLength(0);
  });

  it("refuses bad input with a 4xx naming the field, storing nothing", async () => {
    const file = await list([[1, "李小花", idOf(1), "四年级", "2班", "在读"]]);
    const bad = await upload(file, `?schoolId=${SCHOOL}&semester=2026-2028-1`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0]).toMatchObject({ field: "semester" });
    const notXlsx = await upload(Buffer.from("序号,姓名\n1,李小花\n"), `?schoolId=${SCHOOL}&semester=${SEMESTER}`);
    expect(notXlsx.statusCode).toBe(400);
    expect(notXlsx.json().error.details[0]).toMatchObject({ field: "file" });
    const tooBig = await upload(
      Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(6 * 1024 * 1024)]),
      `?schoolId=${SCHOOL}&semester=${SEMESTER}`,
    );
    expect(tooBig.statusCode).toBe(400);
    expect(tooBig.json().error.message).toContain("MB");
    const noHeader = await upload(await list([[1, 2]], ["甲", "乙"]), `?schoolId=${SCHOOL}&semester=${SEMESTER}`);
    expect(noHeader.statusCode).toBe(400);
    expect(noHeader.json().error.message).toContain("身份证号");
    // Another township's school: not there. A teacher of another school: refused. A village director: no role.
    expect((await upload(file, `?schoolId=${SHIMEN}&semester=${SEMESTER}`)).statusCode).toBe(404);
    expect((await upload(file, `?schoolId=${SCHOOL}&semester=${SEMESTER}`, "changling.director")).statusCode).toBe(403);
    // A teacher acts for their own school only: another school of the same township is refused, and not in their table.
    const second = await h.app.inject({
      method: "POST",
      url: "/api/v1/schools",
      headers: await h.as("county.admin"),
      payload: { code: "2136099911", name: "长岭乡第二小学", townshipCode: "360999101", type: "小学" },
    });
    expect(second.statusCode).toBe(201);
    expect((await upload(file, `?schoolId=${second.json().id}&semester=${SEMESTER}`, "changling.teacher")).statusCode).toBe(403);
    const mine = await h.app.inject({ url: `/api/v1/enrolments/schools?semester=${SEMESTER}`, headers: await h.as("changling.teacher") });
    expect(mine.json().items.map((s: { schoolId: string }) => s.schoolId)).toEqual([SCHOOL]);
    const all = await h.app.inject({ url: `/api/v1/enrolments/schools?semester=${SEMESTER}`, headers: await h.as("changling.supervisor") });
    expect(all.json().items).toHaveLength(2);
    const other = await h.app.inject({ url: `/api/v1/enrolment-imports/${importId}`, headers: await h.as("shimen.supervisor") });
    expect(other.statusCode).toBe(404);
    expect(await h.prisma.enrolmentImport.count()).toBe(1);
    expect(await enrolmentRows()).toBe(0);
  });

  it("a teacher sees the preview of their school with ID numbers reduced to the region", async () => {
    const res = await h.app.inject({ url: `/api/v1/enrolment-imports/${importId}`, headers: await h.as("changling.teacher") });
    expect(res.statusCode).toBe(200);
    const row = res.json().rows.find((r: { rowNumber: number }) => r.rowNumber === 3);
    expect(row.idNumber).toBe("360999************");
  });

  it("lists school-age children in no list (未在任何学校名单中) before and after the confirm", async () => {
    const before = await h.app.inject({ url: `/api/v1/enrolments/missing?semester=${SEMESTER}`, headers: await h.as("changling.supervisor") });
    expect(before.statusCode).toBe(200);
    expect(
      before
        .json()
        .items.map((c: { id: string }) => c.id)
        .sort(),
    ).toEqual([ids.a, ids.b, ids.c].sort());
    expect(before.json().schoolsWithLists).toBe(0);
  });

  it("confirms once: matched rows (and name mismatches when asked) recorded, history and enrolment.changed; a second confirm is 409", async () => {
    const res = await h.app.inject({
      method: "POST",
      url: `/api/v1/enrolment-imports/${importId}/confirm`,
      headers: await h.as("changling.supervisor"),
      payload: { includeNameMismatches: true },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ changed: 2, unchanged: 0, skipped: 0, import: { state: "confirmed" } });
    expect(await h.prisma.enrolment.findUnique({ where: { childId_semester: { childId: ids.b!, semester: SEMESTER } } })).toMatchObject({
      status: "dropped_out",
      schoolId: SCHOOL,
      source: "import",
      grade: "四年级",
    });
    const published = await events();
    expect(published.map((e) => (e.envelope as { data: { status: string } }).data.status).sort()).toEqual(["dropped_out", "enrolled"]);
    expect((published.find((e) => e.subject === ids.b)!.envelope as { data: unknown }).data).toMatchObject({
      semester: SEMESTER,
      status: "dropped_out",
      previousStatus: null,
      source: "import",
      revision: 1,
      school: { id: SCHOOL },
      child: { id: ids.b, townshipCode: "360999101" },
    });
    const again = await h.app.inject({ method: "POST", url: `/api/v1/enrolment-imports/${importId}/confirm`, headers: await h.as("changling.supervisor") });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe("ALREADY_CONFIRMED");
    expect(await events()).toHaveLength(2);

    const missing = await h.app.inject({ url: `/api/v1/enrolments/missing?semester=${SEMESTER}`, headers: await h.as("changling.supervisor") });
    expect(missing.json()).toMatchObject({ total: 1, schoolsWithLists: 1, items: [{ id: ids.c, name: "张小红", schoolName: "长岭乡中心小学" }] });
    const table = await h.app.inject({ url: `/api/v1/enrolments/schools?semester=${SEMESTER}`, headers: await h.as("county.inspector") });
    expect(table.statusCode).toBe(200);
    expect(table.json().items.find((s: { schoolId: string }) => s.schoolId === SCHOOL)).toMatchObject({
      enrolled: 1,
      droppedOut: 1,
      registered: 3,
      missing: 1,
    });
    // Inspectors read totals, never the names.
    expect((await h.app.inject({ url: `/api/v1/enrolments/missing?semester=${SEMESTER}`, headers: await h.as("county.inspector") })).statusCode).toBe(403);
  });

  it("sets a child's status by hand: history kept, an event only when it changes; bad input changes nothing", async () => {
    const put = async (user: string, id: string, payload: unknown) =>
      h.app.inject({ method: "PUT", url: `/api/v1/children/${id}/enrolment`, headers: await h.as(user), payload: payload as object });
    const ok = await put("changling.teacher", ids.c!, { semester: SEMESTER, status: "suspended", note: "病休" });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ changed: true });
    const same = await put("changling.supervisor", ids.c!, { semester: SEMESTER, status: "suspended", schoolId: SCHOOL });
    expect(same.json()).toMatchObject({ changed: false });
    const dropped = await put("changling.supervisor", ids.c!, { semester: SEMESTER, status: "dropped_out", note: "外出打工" });
    expect(dropped.json()).toMatchObject({ changed: true });
    const history = await h.app.inject({ url: `/api/v1/children/${ids.c}/enrolments`, headers: await h.as("changling.supervisor") });
    expect(history.json().items.map((i: { status: string }) => i.status)).toEqual(["dropped_out", "suspended"]);
    expect(history.json().items[1]).toMatchObject({ note: "病休", source: "manual" });
    const inspected = await h.app.inject({ url: `/api/v1/children/${ids.c}/enrolments`, headers: await h.as("county.inspector") });
    expect(inspected.json().items.map((i: { note: string | null }) => i.note)).toEqual([null, null]);
    expect(inspected.body).not.toContain("病休");
    // A village director sees the township's schools with their counts.
    const village = await h.app.inject({ url: `/api/v1/enrolments/schools?semester=${SEMESTER}`, headers: await h.as("changling.director") });
    expect(village.json().items.map((s: { schoolId: string }) => s.schoolId)).toContain(SCHOOL);
    expect(await events()).toHaveLength(4);
    // Every write raises the row's revision (the unchanged one too, which publishes nothing): consumers order by it.
    const revisions = (await events()).filter((e) => e.subject === ids.c).map((e) => (e.envelope as { data: { revision?: number } }).data.revision);
    expect(revisions).toEqual([1, 3]);

    const before = await enrolmentRows();
    expect((await put("changling.supervisor", ids.c!, { semester: SEMESTER, status: "gone" })).json().error.details[0]).toMatchObject({ field: "status" });
    expect((await put("changling.supervisor", ids.c!, { semester: "2026-1", status: "enrolled" })).statusCode).toBe(400);
    expect((await put("changling.supervisor", "0190b6a8-0000-7000-8000-000000000000", { semester: SEMESTER, status: "enrolled" })).statusCode).toBe(404);
    expect((await put("shimen.supervisor", ids.c!, { semester: SEMESTER, status: "enrolled" })).statusCode).toBe(404);
    const otherSchool = await put("changling.teacher", ids.c!, { semester: SEMESTER, status: "enrolled", schoolId: SHIMEN });
    expect(otherSchool.statusCode).toBe(400);
    expect(otherSchool.json().error.details[0]).toMatchObject({ field: "schoolId" });
    expect((await put("county.inspector", ids.c!, { semester: SEMESTER, status: "enrolled" })).statusCode).toBe(403);
    expect((await put("changling.teacher", ids.shimen!, { semester: SEMESTER, status: "enrolled" })).statusCode).toBe(404);
    expect(await enrolmentRows()).toBe(before);
    expect(await events()).toHaveLength(4);
  });
});
