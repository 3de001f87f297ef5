import ExcelJS from "exceljs";
import { handMadeXlsx, sheetRows, sheetXml } from "@shouhu/testing";
import type { Envelope } from "@shouhu/contracts";
import { describe, expect, it } from "vitest";
import { childBody, registryTest, type Harness } from "./harness.js";

let h: Harness;
registryTest("org_admin").beforeAll(async ({ registry }) => {
  h = registry;
});

const ADMIN = "county.admin";

async function call(method: "GET" | "POST" | "PATCH", url: string, payload?: unknown, username = ADMIN) {
  return h.app.inject({ method, url, headers: await h.as(username), ...(payload === undefined ? {} : { payload: payload as object }) });
}

async function otherCountyAdmin() {
  const token = await h.issuer.issueToken("county.admin", "shouhu-web", { issuer: h.issuerUrl, overrides: { org_unit: "360888" } });
  return { authorization: `Bearer ${token}` };
}

function fieldOf(res: { json(): unknown }): string[] {
  const body = res.json() as { error: { details?: { field: string }[] | { field: string } } };
  const d = body.error.details;
  return Array.isArray(d) ? d.map((i) => i.field) : d ? [d.field] : [];
}

async function book(headers: string[], rows: (string | number | null)[][]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet("区划");
  ws.addRow(["示范县统计用区划代码"]);
  ws.addRow(headers);
  for (const r of rows) ws.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

async function upload(url: string, content: Buffer, headers?: Record<string, string>) {
  const boundary = "----shouhu" + Math.random().toString(16).slice(2);
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="list.xlsx"\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return h.app.inject({
    method: "POST",
    url,
    headers: { ...(headers ?? (await h.as(ADMIN))), "content-type": `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.concat([head, content, tail]),
  });
}

async function orgEventsSince(t: Date) {
  const rows = await h.prisma.outboxEvent.findMany({ where: { type: "snapshot.org-units", createdAt: { gte: t } }, orderBy: { createdAt: "asc" } });
  return rows.map((r) => r.envelope as unknown as Envelope<"snapshot.org-units">);
}

describe("org units: create, rename, retire", () => {
  it("creates a village under a township of the county, and tells the read models", async () => {
    const t = new Date();
    const res = await call("POST", "/api/v1/org-units", { code: "360999101203", name: "新华村" });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ code: "360999101203", level: "village", parentCode: "360999101", retiredAt: null });
    const events = await orgEventsSince(t);
    expect(events).toHaveLength(1);
    expect(events[0]!.data.units).toContainEqual({ code: "360999101203", name: "新华村", level: "village", parentCode: "360999101" });
  });

  it("refuses bad input with a 400 naming the field, and stores nothing", async () => {
    const cases: [unknown, string][] = [
      [{ code: "36099910120", name: "村" }, "code"],
      [{ code: "360999", name: "县" }, "code"],
      [{ code: "360999101204" }, "name"],
      [{ code: "360999101204", name: "   " }, "name"],
      [{ code: "360999101204", name: "村".repeat(61) }, "name"],
      [{ code: "360999101204", name: "村", level: "village" }, "level"],
      [{ code: "360999109201", name: "无上级村" }, "code"],
    ];
    for (const [body, field] of cases) {
      const res = await call("POST", "/api/v1/org-units", body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(fieldOf(res).join(","), JSON.stringify(body) + res.body).toContain(field);
    }
    expect(await h.prisma.orgUnit.count({ where: { code: { in: ["360999101204", "360999109201"] } } })).toBe(0);
    const dup = await call("POST", "/api/v1/org-units", { code: "360999101203", name: "又一个" });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.details.field).toBe("code");
  });

  it("renames, but a code never changes", async () => {
    const res = await call("PATCH", "/api/v1/org-units/360999101203", { name: "新华社区" });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().name).toBe("新华社区");
    const recode = await call("PATCH", "/api/v1/org-units/360999101203", { name: "新华社区", code: "360999101299" });
    expect(recode.statusCode).toBe(400);
    expect(fieldOf(recode)).toContain("code");
    expect(recode.json().error.message).toContain("不可修改");
    expect((await call("PATCH", "/api/v1/org-units/3609991012", { name: "x" })).statusCode).toBe(400);
    expect((await call("PATCH", "/api/v1/org-units/360999101299", { name: "x" })).statusCode).toBe(404);
  });

  it("only county admins, and only in their own county", async () => {
    for (const user of ["changling.supervisor", "federation.officer", "changling.director", "county.inspector"]) {
      const res = await call("PATCH", "/api/v1/org-units/360999101203", { name: "改名" }, user);
      expect(res.statusCode, user).toBe(403);
    }
    const other = await otherCountyAdmin();
    const res = await h.app.inject({ method: "PATCH", url: "/api/v1/org-units/360999101203", headers: other, payload: { name: "改名" } });
    expect(res.statusCode).toBe(403);
    const create = await h.app.inject({ method: "POST", url: "/api/v1/org-units", headers: other, payload: { code: "360999101209", name: "越界村" } });
    expect(create.statusCode).toBe(403);
    expect((await h.app.inject({ method: "GET", url: "/api/v1/org-units/overview", headers: await h.as("changling.supervisor") })).statusCode).toBe(403);
    expect((await h.prisma.orgUnit.findUnique({ where: { code: "360999101203" } }))!.name).toBe("新华社区");
  });

  it("refuses to retire a village that still holds children, with the count", async () => {
    for (const seq of [1, 2]) {
      const res = await call("POST", "/api/v1/children", childBody({ seq, villageCode: "360999101203" }), "changling.supervisor");
      expect(res.statusCode, res.body).toBe(201);
    }
    const res = await call("POST", "/api/v1/org-units/360999101203/retire");
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: "ORG_UNIT_NOT_EMPTY", details: { children: 2 } });
    expect(res.json().error.message).toContain("2 名在册儿童");
    const township = await call("POST", "/api/v1/org-units/360999101/retire");
    expect(township.statusCode).toBe(409);
    expect(township.json().error.details).toMatchObject({ children: 2, schools: 1, units: 3 });
  });

  it("retires an empty village; it no longer lists, and cannot be renamed or reused", async () => {
    expect((await call("POST", "/api/v1/org-units", { code: "360999102209", name: "空村" })).statusCode).toBe(201);
    const res = await call("POST", "/api/v1/org-units/360999102209/retire");
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().retiredAt).toBe(h.clock.now.toISOString());
    const list = (await call("GET", "/api/v1/org-units?parent=360999102")).json().items as { code: string }[];
    expect(list.map((u) => u.code)).not.toContain("360999102209");
    const all = (await call("GET", "/api/v1/org-units?parent=360999102&includeRetired=true")).json().items as { code: string }[];
    expect(all.map((u) => u.code)).toContain("360999102209");
    expect((await call("PATCH", "/api/v1/org-units/360999102209", { name: "复活" })).statusCode).toBe(409);
    const again = await call("POST", "/api/v1/org-units", { code: "360999102209", name: "空村" });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.message).toContain("不能重新使用");
    expect((await call("POST", "/api/v1/org-units/360999102209/retire")).statusCode).toBe(409);
  });
});

describe("merging org units", () => {
  it("moves a village's children into the other village, with history and child.updated, and retires it", async () => {
    const t = new Date();
    const res = await call("POST", "/api/v1/org-units/360999101203/merge", { into: "360999102201" });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ code: "360999101203", into: "360999102201", movedChildren: 2, movedSchools: 0 });
    const unit = await h.prisma.orgUnit.findUnique({ where: { code: "360999101203" } });
    expect(unit).toMatchObject({ mergedInto: "360999102201" });
    expect(unit!.retiredAt).not.toBeNull();
    const moved = await h.prisma.child.findMany({ where: { villageCode: "360999102201" } });
    expect(moved).toHaveLength(2);
    expect(moved.every((c) => c.townshipCode === "360999102" && c.revision === 2)).toBe(true);
    const history = await h.prisma.childHistory.findFirst({ where: { childId: moved[0]!.id, revision: 2 } });
    expect(history!.reason).toContain("区划合并");
    expect(history!.changes).toEqual([{ field: "villageCode", before: "360999101203", after: "360999102201" }]);
    const updates = await h.prisma.outboxEvent.findMany({ where: { type: "child.updated", createdAt: { gte: t } } });
    expect(updates).toHaveLength(2);
    expect(updates[0]!.orgUnit).toBe("360999102201");
    const env = updates[0]!.envelope as unknown as Envelope<"child.updated">;
    expect(env.data.child).toMatchObject({ villageCode: "360999102201", townshipCode: "360999102", revision: 2 });
    const org = await orgEventsSince(t);
    expect(org).toHaveLength(1);
    // No child is newly placed in a retired village.
    const placed = await call("POST", "/api/v1/children", childBody({ seq: 7, villageCode: "360999101203" }), "changling.supervisor");
    expect(placed.statusCode).toBe(400);
    expect(fieldOf(placed)).toEqual(["villageCode"]);
    expect(placed.json().error.message).toContain("已撤销");
    // A retired unit can now be retired no more, nor merged into.
    expect((await call("POST", "/api/v1/org-units/360999102202/merge", { into: "360999101203" })).statusCode).toBe(409);
  });

  it("refuses merges that make no sense, naming the field", async () => {
    const cases: [string, unknown, number, string][] = [
      ["360999102201", { into: "360999102201" }, 400, "into"],
      ["360999102201", { into: "360999101" }, 400, "into"],
      ["360999102201", { into: "360888101201" }, 400, "into"],
      ["360999102201", { into: "abc" }, 400, "into"],
      ["360999102201", {}, 400, "into"],
    ];
    for (const [code, body, status, field] of cases) {
      const res = await call("POST", `/api/v1/org-units/${code}/merge`, body);
      expect(res.statusCode, JSON.stringify(body) + res.body).toBe(status);
      expect(fieldOf(res)).toContain(field);
    }
    expect((await call("POST", "/api/v1/org-units/360999102201/merge", { into: "360999102202" }, "shimen.supervisor")).statusCode).toBe(403);
  });

  it("merges a township only once its villages are gone, moving its schools", async () => {
    expect((await call("POST", "/api/v1/org-units", { code: "360999103", name: "新河乡" })).statusCode).toBe(201);
    expect((await call("POST", "/api/v1/org-units", { code: "360999103201", name: "新河村" })).statusCode).toBe(201);
    const school = await call("POST", "/api/v1/schools", { code: "2136099950", name: "新河小学", townshipCode: "360999103", type: "小学" });
    expect(school.statusCode, school.body).toBe(201);
    const early = await call("POST", "/api/v1/org-units/360999103/merge", { into: "360999100" });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.details).toMatchObject({ units: 1 });
    expect((await call("POST", "/api/v1/org-units/360999103201/merge", { into: "360999100201" })).statusCode).toBe(200);
    const res = await call("POST", "/api/v1/org-units/360999103/merge", { into: "360999100" });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ movedSchools: 1 });
    expect((await h.prisma.school.findUnique({ where: { id: "2136099950" } }))!.townshipCode).toBe("360999100");
  });
});

describe("schools", () => {
  it("creates a school with its 10-digit 学校标识码 and type", async () => {
    const res = await call("POST", "/api/v1/schools", { code: "2136099960", name: "长岭初级中学", townshipCode: "360999101", type: "初中" });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toEqual({ id: "2136099960", code: "2136099960", name: "长岭初级中学", type: "初中", townshipCode: "360999101", retiredAt: null });
  });

  it("refuses bad schools with a 400 naming the field", async () => {
    const good = { code: "2136099961", name: "白水小学", townshipCode: "360999101", type: "小学" };
    const cases: [unknown, string][] = [
      [{ ...good, code: "213609996" }, "code"],
      [{ ...good, code: "21360999AB" }, "code"],
      [{ ...good, type: "高中" }, "type"],
      [{ ...good, townshipCode: "360999101201" }, "townshipCode"],
      [{ ...good, townshipCode: "360999109" }, "townshipCode"],
      [{ ...good, name: "" }, "name"],
    ];
    for (const [body, field] of cases) {
      const res = await call("POST", "/api/v1/schools", body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(fieldOf(res), res.body).toContain(field);
    }
    const dup = await call("POST", "/api/v1/schools", { ...good, code: "2136099960" });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.details.field).toBe("code");
    const sameName = await call("POST", "/api/v1/schools", { ...good, name: "长岭初级中学" });
    expect(sameName.statusCode).toBe(409);
    expect(sameName.json().error.details.field).toBe("name");
    expect((await call("POST", "/api/v1/schools", good, "changling.supervisor")).statusCode).toBe(403);
    expect(await h.prisma.school.count({ where: { id: "2136099961" } })).toBe(0);
  });

  it("edits name, township and type; the code stays", async () => {
    const res = await call("PATCH", "/api/v1/schools/2136099960", { name: "长岭中学", type: "九年一贯制" });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ name: "长岭中学", type: "九年一贯制", code: "2136099960" });
    const recode = await call("PATCH", "/api/v1/schools/2136099960", { code: "2136099969" });
    expect(recode.statusCode).toBe(400);
    expect(fieldOf(recode)).toContain("code");
    expect((await call("PATCH", "/api/v1/schools/2136099960", {})).statusCode).toBe(400);
    const other = await otherCountyAdmin();
    expect((await h.app.inject({ method: "PATCH", url: "/api/v1/schools/2136099960", headers: other, payload: { name: "x" } })).statusCode).toBe(403);
  });

  it("refuses to retire a school that children attend, with the count; retires an empty one", async () => {
    const res = await call("POST", "/api/v1/schools/S360999101001/retire");
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: "SCHOOL_NOT_EMPTY", details: { children: 2 } });
    const ok = await call("POST", "/api/v1/schools/2136099960/retire");
    expect(ok.statusCode).toBe(200);
    const list = (await call("GET", "/api/v1/schools?townshipCode=360999101")).json().items as { id: string }[];
    expect(list.map((s) => s.id)).not.toContain("2136099960");
    expect((await call("POST", "/api/v1/schools/nope/retire")).statusCode).toBe(404);
    const placed = await call("POST", "/api/v1/children", childBody({ seq: 8, schoolId: "2136099960" }), "changling.supervisor");
    expect(placed.statusCode).toBe(400);
    expect(fieldOf(placed)).toEqual(["schoolId"]);
  });
});

describe("importing the division table and the school list", () => {
  it("creates, renames and rejects row by row in zh-CN (12-digit padded codes read as their level)", async () => {
    const t = new Date();
    const content = await book(
      ["统计用区划代码", "名称", "级别"],
      [
        ["360999000000", "示范县", "县"],
        ["360999104000", "桃源镇", "乡镇"],
        [360999104201, "桃源村", "村"],
        ["360999104202", "桃花村", null],
        ["360999100201", "东街社区居委会", "村"],
        ["360999101", "长岭乡", "乡镇"],
        ["360888100201", "外县村", "村"],
        ["3609991042", "坏代码", "村"],
        ["360999104203", "", "村"],
        ["360999104204", "错级村", "乡镇"],
        ["360999105201", "孤村", "村"],
        ["360999102209", "空村", "村"],
        ["360999104201", "重复", "村"],
      ],
    );
    const res = await upload("/api/v1/org-units/import", content);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ created: 3, updated: 1, unchanged: 2 });
    const reasons = Object.fromEntries((body.rejections as { rowNumber: number; reasons: string[] }[]).map((r) => [r.rowNumber, r.reasons.join("；")]));
    expect(reasons).toEqual({
      9: expect.stringContaining("不属于本县"),
      10: expect.stringContaining("应为6、9或12位数字"),
      11: expect.stringContaining("名称为空"),
      12: expect.stringContaining("与代码位数不符"),
      13: expect.stringContaining("上级区划 360999105 不存在"),
      14: expect.stringContaining("已撤销"),
      15: expect.stringContaining("与第 5 行代码重复"),
    });
    expect(await h.prisma.orgUnit.findUnique({ where: { code: "360999104201" } })).toMatchObject({ name: "桃源村", parentCode: "360999104", level: "village" });
    expect((await h.prisma.orgUnit.findUnique({ where: { code: "360999100201" } }))!.name).toBe("东街社区居委会");
    expect(await orgEventsSince(t)).toHaveLength(1);
  });

  it("starts a county that has nothing yet from its part of the table", async () => {
    const content = await book(
      ["区划代码", "名称", "级别"],
      [
        ["360888000000", "新安县", "县"],
        ["360888100000", "新安镇", "镇"],
        ["360888100201", "新安社区", "社区"],
        ["360999100201", "邻县的村", "村"],
      ],
    );
    const res = await upload("/api/v1/org-units/import", content, await otherCountyAdmin());
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      created: 3,
      updated: 0,
      unchanged: 0,
      rejections: [{ rowNumber: 6, reasons: [expect.stringContaining("不属于本县")] }],
    });
    expect(await h.prisma.orgUnit.findUnique({ where: { code: "360888100201" } })).toMatchObject({ level: "village", parentCode: "360888100" });
    const overview = await h.app.inject({ method: "GET", url: "/api/v1/org-units/overview", headers: await otherCountyAdmin() });
    expect(overview.json().county).toEqual({ code: "360888", name: "新安县" });
    expect(overview.json().units).toHaveLength(3);
  });

  it("imports the school list: creates, updates by 学校标识码, rejects per row", async () => {
    const content = await book(
      ["学校名称", "学校标识码", "所在乡镇", "办学类型"],
      [
        ["桃源小学", "2136099970", "桃源镇", "小学"],
        ["桃源中学", 2136099971, "360999104", "初中"],
        ["石门镇九年制学校", "2136099903", "石门镇", "九年一贯制"],
        ["无码学校", "", "桃源镇", "小学"],
        ["短码学校", "21360", "桃源镇", "小学"],
        ["外乡学校", "2136099972", "火星乡", "小学"],
        ["高中", "2136099973", "桃源镇", "高中"],
        ["桃源小学", "2136099974", "桃源镇", "小学"],
      ],
    );
    const res = await upload("/api/v1/schools/import", content);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ created: 2, updated: 1, unchanged: 0 });
    const reasons = Object.fromEntries((body.rejections as { rowNumber: number; reasons: string[] }[]).map((r) => [r.rowNumber, r.reasons.join("；")]));
    expect(reasons).toEqual({
      6: expect.stringContaining("学校标识码为空"),
      7: expect.stringContaining("应为10位数字"),
      8: expect.stringContaining("不在本县"),
      9: expect.stringContaining("应为 小学、初中 或 九年一贯制"),
      10: expect.stringContaining("同名学校"),
    });
    expect(await h.prisma.school.findUnique({ where: { id: "S360999102001" } })).toMatchObject({ name: "石门镇九年制学校", type: "九年一贯制" });
    expect(await h.prisma.school.findUnique({ where: { id: "2136099971" } })).toMatchObject({ townshipCode: "360999104", type: "初中" });
  });

  it("refuses a malformed, wrong or huge file with a 400 on file, and stores nothing", async () => {
    const before = await h.prisma.orgUnit.count();
    const notXlsx = await upload("/api/v1/org-units/import", Buffer.from("code,name\n360999104205,x\n"));
    expect(notXlsx.statusCode).toBe(400);
    expect(fieldOf(notXlsx)).toEqual(["file"]);
    const noHeader = await upload("/api/v1/org-units/import", await book(["甲", "乙"], [["360999104205", "x"]]));
    expect(noHeader.statusCode).toBe(400);
    expect(noHeader.json().error.message).toContain("未找到表头");
    const broken = await upload("/api/v1/schools/import", handMadeXlsx("<worksheet><sheetData><row"));
    expect(broken.statusCode).toBe(400);
    expect(fieldOf(broken)).toEqual(["file"]);
    const tooManyRows = await upload("/api/v1/org-units/import", handMadeXlsx(sheetXml(sheetRows(20_001, 2))));
    expect(tooManyRows.statusCode).toBe(400);
    expect(fieldOf(tooManyRows)).toEqual(["file"]);
    const huge = await upload("/api/v1/org-units/import", Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(6 * 1024 * 1024)]));
    expect(huge.statusCode).toBe(400);
    expect(huge.json().error.message).toContain("MB");
    const noFile = await call("POST", "/api/v1/org-units/import", { file: "x" });
    expect(noFile.statusCode).toBe(400);
    expect(await h.prisma.orgUnit.count()).toBe(before);
    expect((await upload("/api/v1/org-units/import", await book(["区划代码", "名称"], []), await h.as("changling.supervisor"))).statusCode).toBe(403);
  });

  it("gives county admins the overview with counts of children per unit and school", async () => {
    const res = await call("GET", "/api/v1/org-units/overview");
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.county).toEqual({ code: "360999", name: "示范县" });
    expect(body.units).toContainEqual(expect.objectContaining({ code: "360999102201", childCount: 2 }));
    expect(body.units).toContainEqual(expect.objectContaining({ code: "360999102", childCount: 2 }));
    expect(body.schools).toContainEqual(expect.objectContaining({ id: "S360999101001", childCount: 2 }));
  });
});
