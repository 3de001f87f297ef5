import { describe, expect, it } from "vitest";
import { childBody, registryTest, type Harness } from "./harness.js";

let h: Harness;
registryTest("growth").beforeAll(async ({ registry }) => {
  h = registry;
});

const call = async (method: "GET" | "POST" | "DELETE", user: string, url: string, payload?: unknown) =>
  h.app.inject({ method, url, headers: await h.as(user), ...(payload === undefined ? {} : { payload: payload as object }) });

async function create(seq: number): Promise<string> {
  const res = await call("POST", "changling.supervisor", "/api/v1/children", childBody({ seq }));
  expect(res.statusCode).toBe(201);
  return res.json().id;
}

describe("成长档案: awards and notes", () => {
  it("a teacher of the child's school records an award; case workers read every entry, newest first; the author or a case worker removes one", async () => {
    const id = await create(1);
    const url = `/api/v1/children/${id}/growth-entries`;
    const award = await call("POST", "changling.teacher", url, { kind: "award", date: "2026-06-20", title: "县小学生作文比赛二等奖", detail: "《我的爷爷》" });
    expect(award.statusCode).toBe(201);
    expect(award.json()).toMatchObject({ kind: "award", date: "2026-06-20", title: "县小学生作文比赛二等奖", author: { username: "changling.teacher" } });
    const note = await call("POST", "changling.director", url, { kind: "note", date: "2026-11-02", title: "学会骑自行车", detail: null });
    expect(note.statusCode).toBe(201);

    const read = await call("GET", "changling.supervisor", url);
    expect(read.statusCode).toBe(200);
    expect(read.json().items.map((e: { title: string }) => e.title)).toEqual(["学会骑自行车", "县小学生作文比赛二等奖"]);
    // Every read is audited with the child.
    expect(JSON.parse(String(read.headers["x-shouhu-audit"]))).toMatchObject({ action: "growth", childIds: [id] });
    // The teacher, not paired with the child, sees what they wrote only.
    expect((await call("GET", "changling.teacher", url)).json().items.map((e: { title: string }) => e.title)).toEqual(["县小学生作文比赛二等奖"]);

    // Someone else's entry: not the teacher's to remove; the township supervisor may.
    expect((await call("DELETE", "changling.teacher", `${url}/${note.json().id}`)).statusCode).toBe(403);
    expect((await call("DELETE", "changling.supervisor", `${url}/${note.json().id}`)).statusCode).toBe(204);
    expect((await call("DELETE", "changling.supervisor", `${url}/${note.json().id}`)).statusCode).toBe(404);
    expect((await call("GET", "changling.supervisor", url)).json().items).toHaveLength(1);
    // Kept for the record, marked.
    expect(await h.prisma.growthEntry.count({ where: { childId: id } })).toBe(2);
  });

  it("refuses bad input with a zh-CN 400 naming the field and stores nothing; outside the area 404, wrong roles 403", async () => {
    const id = await create(2);
    const url = `/api/v1/children/${id}/growth-entries`;
    const good = { kind: "award", date: "2026-06-20", title: "三好学生" };
    const cases: [unknown, string][] = [
      [{ ...good, kind: "medal" }, "kind"],
      [{ ...good, date: "2026-13-01" }, "date"],
      [{ ...good, date: "2099-01-01" }, "date"],
      [{ ...good, date: "2010-01-01" }, "date"], // before the child was born
      [{ ...good, title: " " }, "title"],
      [{ ...good, title: "长".repeat(101) }, "title"],
      [{ ...good, detail: "长".repeat(1001) }, "detail"],
      [{ ...good, extra: 1 }, "extra"],
    ];
    for (const [body, field] of cases) {
      const res = await call("POST", "changling.supervisor", url, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(JSON.stringify(res.json().error.details)).toContain(field);
      expect(res.json().error.message).toMatch(/[\u4e00-\u9fa5]/);
    }
    expect((await call("POST", "shimen.supervisor", url, good)).statusCode).toBe(404);
    expect((await call("GET", "shimen.supervisor", url)).statusCode).toBe(404);
    expect((await call("POST", "changling.doctor", url, good)).statusCode).toBe(403);
    expect((await call("GET", "changling.doctor", url)).statusCode).toBe(403);
    expect((await call("POST", "federation.officer", url, good)).statusCode).toBe(403);
    expect((await call("DELETE", "changling.supervisor", `${url}/not-an-id`)).statusCode).toBe(400);
    expect(await h.prisma.growthEntry.count({ where: { childId: id } })).toBe(0);
  });
});
