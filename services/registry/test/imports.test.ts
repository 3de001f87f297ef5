import { processMetrics } from "@shouhu/kit";
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { handMadeXlsx, sheetRows, sheetXml } from "@shouhu/testing";
import { Redis } from "ioredis";
import { parseEnvelope } from "@shouhu/contracts";
import { createLogger } from "@shouhu/kit";
import { beforeAll, describe, expect, it } from "vitest";
import { runImport } from "../src/jobs/import-register.js";
import { startRegistryWorkers } from "../src/jobs/workers.js";
import { firstHistory, recordFromInput } from "../src/jobs/import-prepare.js";
import { pickEditable } from "../src/data/children.js";
import { diffFields } from "../src/domain/diff.js";
import { purgeExpiredExports, runExport } from "../src/jobs/export-register.js";
import { readXlsx } from "@shouhu/spreadsheet";
import { parseRegisterWorkbook } from "../src/spreadsheet/register-import.js";
import { writeRegisterWorkbook } from "../src/spreadsheet/register-export.js";
import { REDIS_URL, registryTest, type Harness } from "./harness.js";
import { headers, person, uploadRegister, workbook } from "./register-file.js";

let h: Harness;
registryTest("imports").beforeAll(async ({ registry }) => {
  h = registry;
});

const upload = (content: Buffer, username = "changling.supervisor", filename = "长岭乡登记表.xlsx") => uploadRegister(h, content, { username, filename });

const wrongCheckDigit = (id: string) => id.slice(0, 17) + (id[17] === "0" ? "1" : "0");

// Without `parse`, runImport parses in its worker thread, as the service does.
const deps = () => ({ prisma: h.prisma, pool: h.pool, today: () => "2026-11-22", batchSize: 3 });

describe("bulk import of a township register", () => {
  let batchId: string;
  let content: Buffer;

  beforeAll(async () => {
    const good = [1, 2, 3, 4, 5].map((i) => person(i));
    content = await workbook([
      ...good,
      person(6, { 身份证号: 4.31102e17 }), // Excel turned it into a number
      person(7, { 身份证号: wrongCheckDigit(String(person(7).身份证号)) }),
      person(8, { 户籍地址: "某某镇某某村" }), // unknown village
      { ...good[0], 序号: 9 }, // same child twice in one file
      person(10, { 就读学校: "不存在的学校" }),
      person(11, { 户籍地址: "石门镇石门村1组" }), // outside the uploader's township
      person(12, { 出生日期: 41_500 }), // Excel serial date (2013-08-14) disagreeing with the ID
      {},
      { 序号: "合计", 姓名: "12人" },
    ]);
  });

  const importedRows = async () => {
    const metric = (await processMetrics.getMetricsAsJSON()).find((m) => m.name === "import_rows_total");
    const of = (outcome: string) => Number(metric?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0);
    return { accepted: of("accepted"), rejected: of("rejected") };
  };

  it("accepts the upload as a background job and reports every rejected row with its reason", async () => {
    const res = await upload(content);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ status: "queued", duplicateUpload: false });
    batchId = res.json().id;
    expect(await h.queues.imports.getJob(batchId)).toBeTruthy();

    const rowsBefore = await importedRows();
    const batch = await runImport(deps(), batchId);
    expect(batch).toMatchObject({ status: "completed", acceptedRows: 5 });
    // /metrics counts committed rows by outcome (rows per second = its rate).
    expect((await importedRows()).accepted - rowsBefore.accepted).toBe(5);
    expect((await importedRows()).rejected - rowsBefore.rejected).toBe(batch.rejectedRows);

    const progress = await h.app.inject({ url: `/api/v1/imports/${batchId}`, headers: await h.as("changling.supervisor") });
    expect(progress.json()).toMatchObject({ status: "completed", acceptedRows: 5, rejectedRows: batch.rejectedRows });

    const rejections = (await h.app.inject({ url: `/api/v1/imports/${batchId}/rejections`, headers: await h.as("changling.supervisor") })).json().items as {
      rowNumber: number;
      reasons: string[];
    }[];
    const byRow = new Map(rejections.map((r) => [r.rowNumber, r.reasons.join("；")]));
    // Excel row numbers: title row 1, header row 2, data from row 3.
    expect(byRow.get(8)).toMatch(/Excel 存为数字/);
    expect(byRow.get(9)).toMatch(/校验位错误/);
    expect(byRow.get(10)).toMatch(/户籍地址/);
    expect(byRow.get(11)).toMatch(/重复|第\s*3\s*行/);
    expect(byRow.get(12)).toMatch(/学校/);
    expect(byRow.get(13)).toMatch(/管辖/);
    expect(byRow.get(14)).toMatch(/出生日期/);
    // Blank row and totals row are not errors.
    expect(byRow.has(15)).toBe(false);
    expect(byRow.has(16)).toBe(false);

    const stored = await h.prisma.child.findMany({ where: { importBatchId: batchId }, include: { guardians: true, parents: true } });
    expect(stored).toHaveLength(5);
    expect(stored[0]!.guardians[0]!.phone).toBe("13907310002");
    expect(stored.flatMap((c) => c.parents.map((p) => p.phone))).toContain("13800000003");
    const events = await h.prisma.outboxEvent.count({ where: { type: "child.registered", subject: { in: stored.map((c) => c.id) } } });
    expect(events).toBe(5);
    const history = await h.prisma.childHistory.findFirst({ where: { childId: stored[0]!.id } });
    expect(history).toMatchObject({ action: "imported", revision: 1 });
  });

  it("uploading the same file again returns the same batch and stores nothing twice", async () => {
    const again = await upload(content);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id: batchId, duplicateUpload: true, status: "completed" });
    expect(await h.prisma.child.count({ where: { importBatchId: batchId } })).toBe(5);
  });

  it("a different file with children already on file rejects them with a pointer to the record", async () => {
    const existing = await h.prisma.child.findFirst({ where: { importBatchId: batchId, name: "学生1" } });
    const res = await upload(await workbook([person(1), person(20)]), "changling.supervisor", "补录.xlsx");
    expect(res.statusCode).toBe(202);
    const batch = await runImport(deps(), res.json().id);
    expect(batch).toMatchObject({ acceptedRows: 1, rejectedRows: 1 });
    const [rejection] = (await h.app.inject({ url: `/api/v1/imports/${res.json().id}/rejections`, headers: await h.as("changling.supervisor") })).json().items;
    expect(rejection.existingChildId).toBe(existing!.id);
    expect(rejection.reasons[0]).toMatch(/已建档/);
  });

  it("a row whose child is registered in another township says only that", async () => {
    const existing = await h.prisma.child.findFirst({ where: { importBatchId: batchId, name: "学生2" } });
    const row = person(2, { 户籍地址: "石门镇石门村1组", 就读学校: "" });
    const res = await upload(await workbook([row]), "shimen.supervisor", "石门.xlsx");
    expect(res.statusCode).toBe(202);
    const batch = await runImport(deps(), res.json().id);
    expect(batch).toMatchObject({ acceptedRows: 0, rejectedRows: 1 });
    const listed = await h.app.inject({ url: `/api/v1/imports/${res.json().id}/rejections`, headers: await h.as("shimen.supervisor") });
    const [rejection] = listed.json().items;
    expect(rejection.reasons).toEqual(["该儿童已在其他辖区登记,请联系县民政局办理转移"]);
    expect(rejection.existingChildId).toBeNull();
    expect(listed.body).not.toContain(existing!.id);
    expect(listed.body).not.toContain(existing!.villageCode);
    expect(listed.body).not.toContain("长岭村");
  });

  it("re-running an import that crashed half-way finishes it without duplicates", async () => {
    const res = await upload(await workbook([30, 31, 32, 33, 34, 35, 36].map((i) => person(i))), "changling.supervisor", "中断.xlsx");
    const id = res.json().id;
    let batches = 0;
    await expect(
      runImport(
        {
          ...deps(),
          parse: (file, options) =>
            parseRegisterWorkbook(file, {
              ...options,
              onBatch: async (rows) => {
                if (++batches === 2) throw new Error("worker killed");
                await options.onBatch(rows);
              },
            }),
        },
        id,
      ),
    ).rejects.toThrow("worker killed");
    expect(await h.prisma.child.count({ where: { importBatchId: id } })).toBe(3);
    const batch = await runImport(deps(), id);
    expect(batch).toMatchObject({ status: "completed", acceptedRows: 7, rejectedRows: 0 });
    expect(await h.prisma.child.count({ where: { importBatchId: id } })).toBe(7);
  });

  it("stores text with tabs, line breaks and backslashes exactly, with its history and a valid event", async () => {
    const remarks = "第一行\n第二行\t制表\\反斜杠\\N";
    const res = await upload(
      await workbook([person(40, { 备注: remarks, 家庭经济状况: "a\\b", 监护人健康状况: "高血压\r\n糖尿病" })]),
      "changling.supervisor",
      "特殊字符.xlsx",
    );
    const batch = await runImport(deps(), res.json().id);
    expect(batch).toMatchObject({ acceptedRows: 1, rejectedRows: 0 });
    const child = await h.prisma.child.findFirstOrThrow({ where: { importBatchId: batch.id }, include: { guardians: true } });
    expect(child.remarks).toBe(remarks);
    expect(child.familySituation).toBe("a\\b");
    expect(child.guardians[0]!.health).toBe("高血压\r\n糖尿病");
    const history = await h.prisma.childHistory.findFirstOrThrow({ where: { childId: child.id } });
    expect(history.changes).toContainEqual({ field: "remarks", before: null, after: remarks });
    const outbox = await h.prisma.outboxEvent.findFirstOrThrow({ where: { subject: child.id } });
    const event = parseEnvelope(outbox.envelope);
    expect(event).toMatchObject({
      id: outbox.id,
      type: "child.registered",
      subject: child.id,
      orgUnit: child.villageCode,
      data: { child: { id: child.id, name: child.name } },
    });
  });

  it("writes each imported child's first history entry as a manual registration would", () => {
    const full = recordFromInput(
      "0190c8a4-0000-7000-8000-000000000001",
      {
        idNumber: "360999201405140011",
        name: "学生",
        sex: "male",
        birthDate: "2014-05-14",
        villageCode: "360999101201",
        address: "长岭村",
        schoolId: "S360999101001",
        grade: null,
        className: "1班",
        leftBehindType: "both_parents_away",
        difficultyCategories: ["disability", "orphan"],
        riskLevel: "high",
        guardians: [{ name: "王奶奶", relation: "祖母", phone: null, age: 66, health: null }],
        parents: [{ role: "father", name: null, phone: "13800000003", workProvince: "广东省", workCity: null, employer: null, awaySince: null }],
        familySituation: null,
        healthNotes: "",
        psychologicalNotes: null,
        helperName: null,
        remarks: null,
      },
      "长岭乡中心小学",
      "2026-11-22T00:00:00.000Z",
    );
    const bare = recordFromInput(
      "0190c8a4-0000-7000-8000-000000000002",
      {
        idNumber: "360999201405140011",
        name: "学生",
        sex: "female",
        birthDate: "2014-05-14",
        villageCode: "360999101201",
        leftBehindType: "not_left_behind",
        riskLevel: "low",
        difficultyCategories: [],
        guardians: [],
        parents: [],
      },
      null,
      "2026-11-22T00:00:00.000Z",
    );
    for (const record of [full, bare]) expect(firstHistory(record)).toEqual(diffFields({}, pickEditable(record)));
  });

  it("refuses what is not an .xlsx, with the field named", async () => {
    const res = await upload(Buffer.from("序号,姓名\n1,张三\n"), "changling.supervisor", "名单.csv");
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].field).toBe("file");
  });

  it("is not for village directors, teachers or inspectors", async () => {
    for (const user of ["changling.teacher", "county.inspector"]) {
      expect((await upload(content, user)).statusCode).toBe(403);
    }
  });
});

describe("the committed sample register (services/registry/samples)", () => {
  it("imports 36 of 40 rows and explains each of the 4 it refuses", async () => {
    const sample = readFileSync(new URL("../samples/长岭乡留守儿童登记表-示例.xlsx", import.meta.url));
    const res = await upload(sample, "changling.supervisor", "长岭乡留守儿童登记表-示例.xlsx");
    expect(res.statusCode).toBe(202);
    const batch = await runImport({ ...deps(), batchSize: 500 }, res.json().id);
    expect(batch).toMatchObject({ totalRows: 40, acceptedRows: 36, rejectedRows: 4 });
    const rejections = await h.prisma.importRejection.findMany({ where: { batchId: batch.id }, orderBy: { rowNumber: "asc" } });
    expect(rejections.map((r) => [r.rowNumber, r.reasons[0]])).toEqual([
      [13, "身份证号：身份证号被 Excel 存为数字，末尾数字已丢失，无法恢复，请将该列设为文本后重新录入"],
      [15, "身份证号：与第 14 行为同一儿童（身份证号重复），未重复导入"],
      [16, "身份证号：身份证号校验位错误，应为 6"],
      [17, "户籍地址：户籍地址“外县某某村”中找不到本县的村（社区）名称"],
    ]);
    const stored = await h.prisma.child.findMany({ where: { importBatchId: batch.id }, include: { guardians: true, parents: true } });
    const byName = (name: string) => stored.find((c) => c.name === name)!;
    expect(byName("张可欣").idNumber).toBe("360999201305070047"); // typed in full-width digits
    expect(byName("李若曦").name).toBe("李若曦"); // typed with a space inside
    expect(byName("王子涵").idNumber).toBe("36099920180727033X"); // lower-case x
    expect(byName("马诗涵").birthDate.toISOString().slice(0, 10)).toBe("2015-11-09"); // Excel serial date
    expect(byName("黄子涵").parents.find((p) => p.role === "father")!.phone).toBe("13628356623"); // +86 prefix
    // Siblings sharing a merged guardian cell both get the guardian.
    expect(byName("郭俊杰").guardians[0]).toMatchObject({ name: "高德明", phone: "13503767657" });
    expect(byName("郭俊杰").villageCode).toBe("360999101202");
  });
});

describe("export", () => {
  it("the template is an empty register with the importer's headers, for register keepers only", async () => {
    const res = await h.app.inject({ url: "/api/v1/imports/template", headers: await h.as("changling.supervisor") });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/spreadsheetml/);
    expect(res.headers["content-disposition"]).toContain(encodeURIComponent("留守儿童登记表模板.xlsx"));
    const [sheet] = await readXlsx(res.rawPayload);
    const rows = [...sheet!.rows()];
    expect(rows[1]!.cells.slice(1).map((c) => String(c ?? ""))).toEqual(headers);
    expect((await h.app.inject({ url: "/api/v1/imports/template", headers: await h.as("changling.teacher") })).statusCode).toBe(403);
  });

  it("writes the township's children with the import template's columns, and the file imports back", async () => {
    const res = await h.app.inject({ method: "POST", url: "/api/v1/exports", headers: await h.as("changling.supervisor"), payload: { status: "active" } });
    expect(res.statusCode).toBe(202);
    const id = res.json().id;
    await runExport(h.prisma, writeRegisterWorkbook, id);
    const status = (await h.app.inject({ url: `/api/v1/exports/${id}`, headers: await h.as("changling.supervisor") })).json();
    expect(status.status).toBe("completed");
    const file = await h.app.inject({ url: `/api/v1/exports/${id}/file`, headers: await h.as("changling.supervisor") });
    expect(file.statusCode).toBe(200);
    expect(file.headers["content-type"]).toMatch(/spreadsheetml/);

    const expected = await h.prisma.child.findMany({ where: { townshipCode: "360999101", status: "active" }, select: { idNumber: true } });
    const seen: string[] = [];
    await parseRegisterWorkbook(file.rawPayload, {
      resolveVillage: () => ({ villageCode: "360999101201" }),
      resolveSchool: () => ({ schoolId: "S360999101001" }),
      today: "2026-11-22",
      batchSize: 100,
      onBatch: async (rows) => {
        for (const r of rows) if (r.ok) seen.push(r.child.idNumber);
      },
    });
    expect(seen.sort()).toEqual(expected.map((c) => c.idNumber).sort());
    const other = await h.app.inject({ url: `/api/v1/exports/${id}/file`, headers: await h.as("county.admin") });
    expect(other.statusCode).toBe(404);
  });

  it("a download re-checks the requester's jurisdiction and role, and the file expires after 24 hours, then is deleted", async () => {
    const res = await h.app.inject({ method: "POST", url: "/api/v1/exports", headers: await h.as("changling.supervisor"), payload: {} });
    const id = res.json().id;
    await runExport(h.prisma, writeRegisterWorkbook, id);
    const job = (await h.app.inject({ url: `/api/v1/exports/${id}`, headers: await h.as("changling.supervisor") })).json();
    expect(job.expiresAt).toBeDefined();
    // The same person, moved to 石门镇 (their token says so now): no longer theirs to take.
    const moved = await h.issuer.issueToken("changling.supervisor", "shouhu-web", { issuer: h.issuerUrl, overrides: { org_unit: "360999102" } });
    expect((await h.app.inject({ url: `/api/v1/exports/${id}/file`, headers: { authorization: `Bearer ${moved}` } })).statusCode).toBe(403);
    const demoted = await h.issuer.issueToken("changling.supervisor", "shouhu-web", {
      issuer: h.issuerUrl,
      overrides: { realm_access: { roles: ["inspector"] } },
    });
    expect((await h.app.inject({ url: `/api/v1/exports/${id}/file`, headers: { authorization: `Bearer ${demoted}` } })).statusCode).toBe(403);
    const saved = h.clock.now;
    try {
      h.clock.now = new Date(new Date(job.expiresAt).getTime() + 1000);
      const expired = await h.app.inject({ url: `/api/v1/exports/${id}/file`, headers: await h.as("changling.supervisor") });
      expect(expired.statusCode).toBe(410);
      expect(expired.json().error.code).toBe("EXPORT_EXPIRED");
      expect(await purgeExpiredExports(h.prisma, h.clock.now)).toBeGreaterThanOrEqual(1);
      expect(await h.prisma.exportJob.findUnique({ where: { id } })).toBeNull();
    } finally {
      h.clock.now = saved;
    }
  });

  it("an export holds what the requester's role may see: a federation officer's file has ID numbers as region only", async () => {
    const res = await h.app.inject({ method: "POST", url: "/api/v1/exports", headers: await h.as("federation.officer"), payload: { orgUnit: "360999101" } });
    expect(res.statusCode).toBe(202);
    await runExport(h.prisma, writeRegisterWorkbook, res.json().id);
    const file = await h.app.inject({ url: `/api/v1/exports/${res.json().id}/file`, headers: await h.as("federation.officer") });
    expect(file.statusCode).toBe(200);
    const cells: string[] = [];
    for (const sheet of await readXlsx(file.rawPayload))
      for (const row of sheet.rows()) for (const c of row.cells) if (c !== null && c !== undefined) cells.push(String(c));
    expect(cells.some((c) => /^360999\*{12}$/.test(c))).toBe(true);
    expect(cells.filter((c) => /^\d{17}[\dX]$/.test(c))).toEqual([]);
  });
});

describe("the import job, as the service's worker process runs it", () => {
  it("parses in its worker thread and completes a queued upload", async () => {
    const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const workers = await startRegistryWorkers({
      prisma: h.prisma,
      pool: h.pool,
      connection,
      prefix: h.prefix,
      queues: h.queues,
      logger: createLogger("registry-test", "silent"),
      ageOutCron: "0 1 * * *",
    });
    try {
      const res = await upload(
        await workbook([50, 51, 52, 53].map((i) => person(i)).concat([person(54, { 性别: "未知" })])),
        "changling.supervisor",
        "后台任务.xlsx",
      );
      expect(res.statusCode).toBe(202);
      const url = `/api/v1/imports/${res.json().id}`;
      let status = (await h.app.inject({ url, headers: await h.as("changling.supervisor") })).json();
      for (let i = 0; i < 100 && status.status !== "completed" && status.status !== "failed"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        status = (await h.app.inject({ url, headers: await h.as("changling.supervisor") })).json();
      }
      expect(status).toMatchObject({ status: "completed", acceptedRows: 4, rejectedRows: 1 });
    } finally {
      for (const w of workers) await w.close();
      await connection.quit();
    }
  });
});

describe("hostile spreadsheets", () => {
  const wholeSheetMerge = () => handMadeXlsx(sheetXml(sheetRows(3), `<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>`));

  it("an upload over a limit is a 400 naming the file, with the reason in zh-CN, and stores nothing", async () => {
    const before = await h.prisma.importBatch.count();
    for (const [file, reason] of [
      [wholeSheetMerge(), /合并单元格/],
      [handMadeXlsx(Buffer.concat([Buffer.from(sheetXml("")), Buffer.alloc(40 * 1024 * 1024, 0x20)])), /压缩比异常/],
    ] as const) {
      const res = await upload(file, "changling.supervisor", "炸弹.xlsx");
      expect(res.statusCode).toBe(400);
      expect(res.json().error.details[0].field).toBe("file");
      expect(res.json().error.details[0].message).toMatch(reason);
    }
    expect(await h.prisma.importBatch.count()).toBe(before);
  });

  it("a stored batch over a limit fails at once, unrecoverably, with the reason, before anything parses it", async () => {
    const batch = await h.prisma.importBatch.create({
      data: {
        id: randomUUID(),
        status: "queued",
        fileSha256: randomUUID(),
        fileName: "炸弹.xlsx",
        orgUnit: "360999101",
        createdBy: "test",
        file: { create: { content: new Uint8Array(wholeSheetMerge()) } },
      },
    });
    await expect(runImport(deps(), batch.id)).rejects.toMatchObject({ name: "UnrecoverableError" });
    expect(await h.prisma.importBatch.findUnique({ where: { id: batch.id } })).toMatchObject({ status: "failed", error: expect.stringMatching(/合并单元格/) });
  });
});
