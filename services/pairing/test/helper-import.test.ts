import { describe, expect, it } from "vitest";
import { handMadeXlsx, sheetXml } from "@shouhu/testing";
import { pairingTest, type PairingHarness } from "./harness.js";

const CHANGLING = "360999101";
const V201 = "360999101201";
const SHIMEN_VILLAGE = "360999102201";
const SCHOOL = "S360999101001";
const HEADER = ["姓名", "类别", "性别", "手机号", "所属单位代码", "学校标识码（选填）", "可帮扶人数"];

let h: PairingHarness;

pairingTest("helper-import").beforeAll(async ({ pairing }) => {
  h = pairing;
});

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
/** A one-sheet helper list: strings inline, numbers as numbers (as Excel stores a typed phone or code). */
function helperList(rows: (string | number | null)[][]): Buffer {
  const body = [HEADER, ...rows]
    .map(
      (cells, r) =>
        `<row r="${r + 1}">${cells
          .map((c, i) => {
            const ref = `${String.fromCharCode(65 + i)}${r + 1}`;
            if (c === null) return "";
            if (typeof c === "number") return `<c r="${ref}"><v>${c}</v></c>`;
            return `<c r="${ref}" t="inlineStr"><is><t>${esc(c)}</t></is></c>`;
          })
          .join("")}</row>`,
    )
    .join("");
  return handMadeXlsx(sheetXml(body));
}

async function upload(content: Buffer, username = "changling.supervisor", contentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") {
  const boundary = "----shouhu" + Math.random().toString(16).slice(2);
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="helpers.xlsx"\r\nContent-Type: ${contentType}\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const res = await h.app.inject({
    method: "POST",
    url: "/api/v1/helpers/import",
    headers: { ...(await h.as(username)), "content-type": `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.concat([head, content, tail]),
  });
  return { status: res.statusCode, body: res.json() as any };
}

const helperCount = () => h.prisma.helper.count();

describe("helper list import", () => {
  it("creates the helpers of a valid list, queues the township for matching, and updates them on a second import", async () => {
    const res = await upload(
      helperList([
        ["王老师", "教师", "女", "139-0731-1001", CHANGLING, SCHOOL, 3],
        ["李主任", "村干部", "男", 13907311002, Number(V201), null, null],
        ["赵妈妈", "爱心妈妈", "女", "13907311003", V201, null, 2],
        ["周主任", "村儿童主任", "男", "13907311004", V201, null, 4],
      ]),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ total: 4, created: 4, updated: 0, rejected: 0 });
    expect(res.body.rows.map((r: any) => [r.rowNumber, r.status])).toEqual([
      [2, "created"],
      [3, "created"],
      [4, "created"],
      [5, "created"],
    ]);
    const stored = await h.prisma.helper.findMany({ where: { phone: { startsWith: "1390731100" } }, orderBy: { phone: "asc" } });
    expect(stored.map((s) => [s.name, s.kind, s.sex, s.phone, s.orgUnitCode, s.townshipCode, s.schoolId, s.capacity])).toEqual([
      ["王老师", "teacher", "female", "13907311001", CHANGLING, CHANGLING, SCHOOL, 3],
      ["李主任", "village_cadre", "male", "13907311002", V201, CHANGLING, null, 3],
      ["赵妈妈", "proxy_parent", "female", "13907311003", V201, CHANGLING, null, 2],
      ["周主任", "village_director", "male", "13907311004", V201, CHANGLING, null, 4],
    ]);
    // What POST /helpers does for a new helper: the township is queued for matching, in the same transaction.
    expect(await h.prisma.matchRequest.findUnique({ where: { townshipCode: CHANGLING } })).toMatchObject({ reason: "helper" });
    const listed = await h.app.inject({ method: "GET", url: "/api/v1/helpers?limit=200", headers: await h.as("changling.supervisor") });
    expect(listed.json().items.map((i: any) => i.name)).toEqual(expect.arrayContaining(["王老师", "李主任", "赵妈妈", "周主任"]));

    // The same phone in the same township is the same helper: updated, not registered twice.
    const before = await helperCount();
    const again = await upload(helperList([["王老师", "教师", "女", "13907311001", CHANGLING, SCHOOL, 5]]));
    expect(again.body).toMatchObject({ total: 1, created: 0, updated: 1, rejected: 0 });
    expect(again.body.rows[0].helperId).toBe(stored[0]!.id);
    expect(await helperCount()).toBe(before);
    expect((await h.prisma.helper.findUniqueOrThrow({ where: { id: stored[0]!.id } })).capacity).toBe(5);
  });

  it("stores the valid rows and lists every invalid row with its number and reason", async () => {
    const before = await helperCount();
    const res = await upload(
      helperList([
        ["合格", "志愿者", "男", "13907312001", V201, null, 2],
        ["无电话", "志愿者", "男", null, V201, null, 2],
        ["宇航员", "宇航员", "男", "13907312003", V201, null, 2],
        ["缺学校", "教师", "女", "13907312004", CHANGLING, null, 2],
        ["零人", "志愿者", "女", "13907312005", V201, null, 0],
        ["半人", "志愿者", "女", "13907312006", V201, null, 1.5],
        ["坏号", "志愿者", "女", "12345", V201, null, 2],
        ["重复", "志愿者", "男", "13907312001", V201, null, 2],
        ["外乡", "志愿者", "男", "13907312009", SHIMEN_VILLAGE, null, 2],
        ["坏码", "志愿者", "男", "13907312010", "3609", null, 2],
        ["性别", "志愿者", "未知", "13907312011", V201, null, 2],
        [null, "志愿者", "男", "13907312012", V201, null, 2],
      ]),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ total: 12, created: 1, updated: 0, rejected: 11 });
    const reasons = Object.fromEntries(res.body.rows.filter((r: any) => r.status === "rejected").map((r: any) => [r.rowNumber, r.reasons.join("；")]));
    expect(reasons).toEqual({
      3: expect.stringContaining("帮扶人须留联系电话"),
      4: expect.stringContaining("类别“宇航员”无法识别"),
      5: expect.stringContaining("教师和同伴学生须填写所在学校"),
      6: expect.stringContaining("帮扶人数至少为1"),
      7: expect.stringContaining("应为整数"),
      8: expect.stringMatching(/^手机号：/),
      9: expect.stringContaining("与第2行是同一帮扶人"),
      10: expect.stringContaining("不在您的管辖范围内"),
      11: expect.stringContaining("应为9位乡镇或12位村"),
      12: expect.stringContaining("应为“男”或“女”"),
      13: expect.stringContaining("姓名"),
    });
    expect(await helperCount()).toBe(before + 1);
  });

  it("refuses a file that is not a valid .xlsx, or too big, or has no header, with 400 on file and nothing stored", async () => {
    const before = await helperCount();
    const csv = Buffer.from("姓名,类别,手机号,所属单位代码\n张三,志愿者,13907313001,360999101201\n");
    const notZip = await upload(csv, "changling.supervisor", "text/csv");
    expect(notZip.status).toBe(400);
    expect(notZip.body.error.details[0]).toMatchObject({ field: "file", message: expect.stringContaining(".xlsx") });

    const huge = Buffer.concat([helperList([["大", "志愿者", "男", "13907313002", V201, null, 2]]), Buffer.alloc(6 * 1024 * 1024)]);
    const big = await upload(huge);
    expect(big.status).toBe(400);
    expect(big.body.error.details[0]).toMatchObject({ field: "file", message: expect.stringContaining("MB") });

    const noHeader = await upload(handMadeXlsx(sheetXml(`<row r="1"><c r="A1" t="inlineStr"><is><t>张三</t></is></c></row>`)));
    expect(noHeader.status).toBe(400);
    expect(noHeader.body.error.details[0]).toMatchObject({ field: "file", message: expect.stringContaining("未找到表头") });

    const broken = await upload(Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.alloc(100)]));
    expect(broken.status).toBe(400);
    expect(broken.body.error.details[0].field).toBe("file");

    const noFile = await h.app.inject({ method: "POST", url: "/api/v1/helpers/import", headers: await h.as("changling.supervisor"), payload: {} });
    expect(noFile.statusCode).toBe(400);
    expect(await helperCount()).toBe(before);
  });

  it("keeps imports inside the importer's area: another township's rows are rejected, roles that cannot register helpers get 403", async () => {
    const before = await helperCount();
    const list = helperList([
      ["越界一", "志愿者", "男", "13907314001", V201, null, 2],
      ["越界二", "教师", "女", "13907314002", CHANGLING, SCHOOL, 2],
    ]);
    const other = await upload(list, "shimen.supervisor");
    expect(other.status, JSON.stringify(other.body)).toBe(200);
    expect(other.body).toMatchObject({ total: 2, created: 0, updated: 0, rejected: 2 });
    for (const row of other.body.rows) expect(row.reasons.join("")).toContain("不在您的管辖范围内");

    expect((await upload(list, "changling.teacher")).status).toBe(403);
    expect(await helperCount()).toBe(before);
  });

  it("imports a county's list of 3,000 helpers synchronously", async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => [`帮扶人${i}`, "志愿者", i % 2 ? "男" : "女", `1390732${String(i).padStart(4, "0")}`, V201, null, 2]);
    const started = performance.now();
    const res = await upload(helperList(rows));
    const ms = performance.now() - started;
    expect(res.status, JSON.stringify(res.body).slice(0, 500)).toBe(200);
    expect(res.body).toMatchObject({ total: 3000, created: 3000, rejected: 0 });
    console.log(`helper import: 3,000 rows in ${Math.round(ms)} ms`);
    expect(ms).toBeLessThan(20_000);
  });
});
