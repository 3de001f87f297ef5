import { beforeAll, describe, expect, it } from "vitest";
import { runImport } from "../src/jobs/import-register.js";
import { runReimportPreview } from "../src/jobs/reimport-preview.js";
import { updateChild } from "../src/data/children.js";
import { abandonConfirm, applyQueuedRows } from "../src/data/reimport.js";
import { Redis } from "ioredis";
import { z } from "zod";
import { until } from "@shouhu/testing";
import { createLogger } from "@shouhu/kit";
import { startRegistryWorkers } from "../src/jobs/workers.js";
import { defineJob, handle, jobProcessor } from "../src/jobs/job-definitions.js";
import type { PrismaClient } from "../src/data/db.js";
import { REDIS_URL, registryTest, type Harness } from "./harness.js";
import { person, uploadRegister, workbook } from "./register-file.js";

let h: Harness;
registryTest("reimport").beforeAll(async ({ registry }) => {
  h = registry;
});

const upload = (content: Buffer, username = "changling.supervisor", query = "?mode=update") => uploadRegister(h, content, { username, query });

const deps = () => ({ prisma: h.prisma, pool: h.pool, today: () => "2026-11-22", batchSize: 2 });
const supervisor = () => h.as("changling.supervisor");
const preview = async (id: string, query = "", user = "changling.supervisor") =>
  h.app.inject({ url: `/api/v1/imports/${id}/preview${query}`, headers: await h.as(user) });
const confirm = async (id: string, body: unknown, user = "changling.supervisor") =>
  h.app.inject({ method: "POST", url: `/api/v1/imports/${id}/confirm`, headers: await h.as(user), payload: body as object });
/** A confirm answered 202, then its job's work run here (no worker in these tests). */
const confirmAndApply = async (id: string, body: unknown) => {
  const res = await confirm(id, body);
  if (res.statusCode === 202) await applyQueuedRows(h.prisma, id, 2);
  return res;
};
const batchOf = async (id: string) => (await h.app.inject({ url: `/api/v1/imports/${id}`, headers: await supervisor() })).json();

describe("re-importing a township register", () => {
  let batchId: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    // The register as first imported: children 1–4.
    const first = await upload(await workbook([1, 2, 3, 4].map((i) => person(i))), "changling.supervisor", "");
    await runImport({ ...deps(), parse: undefined }, first.json().id);
    for (const c of await h.prisma.child.findMany({ where: { importBatchId: first.json().id } })) ids[c.name] = c.id;
    expect(Object.keys(ids)).toHaveLength(4);
  });

  it("stages a preview — new, changed (old → new), missing — and changes nothing until confirmed", async () => {
    const before = await h.prisma.child.findMany({ orderBy: { id: "asc" } });
    const res = await upload(
      await workbook([
        person(1), // unchanged
        person(2, { 班级: "2班", 监护人电话: "13907319999" }), // changed
        person(3, { 户籍地址: "石门镇石门村1组" }), // moved outside the uploader's township: rejected
        person(5), // new
        person(6, { 身份证号: "123" }), // bad row
      ]),
    );
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ mode: "update", status: "queued" });
    batchId = res.json().id;
    const batch = await runReimportPreview(deps(), batchId);
    expect(batch.status).toBe("preview");

    const p = await preview(batchId);
    expect(p.statusCode).toBe(200);
    const body = p.json();
    expect(body.counts).toMatchObject({ new: 1, changed: 1, unchanged: 1, missing: 2, pending: 4 });
    const byName = new Map(
      (body.items as { name: string; kind: string; changes: { field: string; before: unknown; after: unknown }[] }[]).map((i) => [i.name, i]),
    );
    expect(byName.get("学生5")!.kind).toBe("new");
    expect(byName.get("学生2")!.kind).toBe("changed");
    expect(byName.get("学生2")!.changes).toEqual(expect.arrayContaining([{ field: "className", before: "1班", after: "2班" }]));
    expect(byName.get("学生2")!.changes.find((c) => c.field === "guardians")).toBeTruthy();
    // 学生3's row was refused (outside the township), so the child counts as missing; 学生4 is not in the file.
    expect(byName.get("学生3")!.kind).toBe("missing");
    expect(byName.get("学生4")!.kind).toBe("missing");
    expect(byName.has("学生1")).toBe(false); // unchanged rows only with ?kind=unchanged
    const rejections = (await h.app.inject({ url: `/api/v1/imports/${batchId}/rejections`, headers: await supervisor() })).json().items;
    expect(rejections).toHaveLength(2);

    // Nothing changed.
    expect(await h.prisma.child.findMany({ orderBy: { id: "asc" } })).toEqual(before);
    const paged = await preview(batchId, "?kind=missing&limit=1");
    expect(paged.json().items).toHaveLength(1);
    expect(paged.json().nextCursor).toBeTruthy();
  });

  it("bad input is a 4xx naming the field; other townships see nothing", async () => {
    expect((await upload(await workbook([person(1)]), "changling.supervisor", "?mode=replace")).json().error.details).toEqual([
      expect.objectContaining({ field: "mode" }),
    ]);
    for (const bad of [{}, { rows: [] }, { rows: ["x"] }, { all: false }, { rows: ["1"], all: true }, { rows: ["1"], extra: 1 }]) {
      const r = await confirm(batchId, bad);
      expect(r.statusCode, JSON.stringify(bad)).toBe(400);
      expect(JSON.stringify(r.json().error)).toMatch(/rows|all|extra/);
      expect(r.json().error.message).toMatch(/[\u4e00-\u9fa5]/);
    }
    expect((await preview(batchId, "?kind=deleted")).json().error.details).toEqual([expect.objectContaining({ field: "kind" })]);
    expect((await preview("not-a-uuid")).statusCode).toBe(400);
    expect((await preview(batchId, "", "shimen.supervisor")).statusCode).toBe(404);
    expect((await confirm(batchId, { all: true }, "shimen.supervisor")).statusCode).toBe(404);
    expect((await confirm(batchId, { all: true }, "changling.director")).statusCode).toBe(403);
    expect((await confirm(batchId, { all: true }, "changling.teacher")).statusCode).toBe(403);
    // The preview shows ID numbers and phones in full: federation officers (masked view) may not re-import.
    expect((await preview(batchId, "", "federation.officer")).statusCode).toBe(403);
    expect((await upload(await workbook([person(1)]), "federation.officer")).statusCode).toBe(403);
  });

  it("confirms per row; a second confirm of the row is a 409", async () => {
    const items = (await preview(batchId)).json().items as { id: string; name: string }[];
    const row2 = items.find((i) => i.name === "学生2")!;
    const ok = await confirm(batchId, { rows: [row2.id] });
    expect(ok.statusCode).toBe(202);
    expect(ok.json()).toMatchObject({ queued: 1, batch: { status: "confirming", confirmTotal: 1, confirmDone: 0 }, counts: { queued: 1 } });
    // While its job has not run, another confirm waits its turn.
    const busy = await confirm(batchId, { all: true });
    expect(busy.statusCode).toBe(409);
    expect(busy.json().error).toMatchObject({ code: "CONFIRM_RUNNING" });
    expect(busy.json().error.message).toContain("0/1");
    await applyQueuedRows(h.prisma, batchId);
    expect(await batchOf(batchId)).toMatchObject({ status: "preview", confirmTotal: 1, confirmDone: 1 });
    const child = await h.prisma.child.findUnique({ where: { id: ids["学生2"] }, include: { guardians: true } });
    expect(child).toMatchObject({ className: "2班", revision: 2 });
    expect(child!.guardians[0]!.phone).toBe("13907319999");
    const history = await h.prisma.childHistory.findFirst({ where: { childId: ids["学生2"], revision: 2 } });
    expect(history).toMatchObject({ action: "reimported" });
    expect(history!.reason).toContain(batchId);
    expect(await h.prisma.outboxEvent.count({ where: { type: "child.updated", subject: ids["学生2"] } })).toBe(1);

    const again = await confirm(batchId, { rows: [row2.id] });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({ code: "ALREADY_CONFIRMED" });
    expect(again.json().error.message).toContain("学生2");
  });

  it("a stale preview (the child changed since) is refused whole with a 409, nothing applied", async () => {
    await updateChild(h.prisma, ids["学生4"]!, { remarks: "已转学" }, { kind: "user", id: "t", name: "测试" });
    const pendingBefore = (await preview(batchId)).json().counts.pending;
    const res = await confirmAndApply(batchId, { all: true });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({ code: "PREVIEW_STALE", details: { field: "rows" } });
    expect(res.json().error.message).toContain("学生4");
    expect((await preview(batchId)).json().counts.pending).toBe(pendingBefore);
    expect(await h.prisma.child.count({ where: { name: "学生5" } })).toBe(0);
  });

  it("a fresh re-import confirmed whole registers the new, flags the missing for review and deletes nobody", async () => {
    const res = await upload(await workbook([person(1), person(2, { 班级: "2班", 监护人电话: "13907319999" }), person(5)]));
    const id = res.json().id;
    await runReimportPreview(deps(), id);
    expect((await preview(id)).json().counts).toMatchObject({ new: 1, changed: 0, unchanged: 2, missing: 2 });
    const all = await confirmAndApply(id, { all: true });
    expect(all.statusCode).toBe(202);
    expect((await preview(id)).json().counts).toMatchObject({ pending: 0, queued: 0, applied: 1, flagged: 2, failed: 0 });
    expect(await batchOf(id)).toMatchObject({ status: "preview", confirmTotal: 3, confirmDone: 3 });
    const added = await h.prisma.child.findFirst({ where: { name: "学生5" } });
    expect(added).toBeTruthy();
    expect(await h.prisma.childHistory.findFirst({ where: { childId: added!.id } })).toMatchObject({ action: "imported" });
    for (const name of ["学生3", "学生4"]) {
      const c = await h.prisma.child.findUnique({ where: { id: ids[name] } });
      expect(c).toMatchObject({ status: "active" });
      const last = await h.prisma.childHistory.findFirst({ where: { childId: ids[name] }, orderBy: { revision: "desc" } });
      expect(last).toMatchObject({ action: "review-flagged" });
      expect(last!.reason).toMatch(/待核实/);
    }
    const twice = await confirmAndApply(id, { all: true });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe("ALREADY_CONFIRMED");
  });

  it("two confirms at once apply each row exactly once", async () => {
    const res = await upload(await workbook([person(1), person(2, { 班级: "3班" }), person(5), person(7)]));
    const id = res.json().id;
    await runReimportPreview(deps(), id);
    const [a, b] = await Promise.all([confirm(id, { all: true }), confirm(id, { all: true })]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([202, 409]);
    // Two runs of the job at once (a redelivered job beside the first): still each row once.
    await Promise.all([applyQueuedRows(h.prisma, id, 1), applyQueuedRows(h.prisma, id, 1)]);
    expect(await h.prisma.child.count({ where: { name: "学生7" } })).toBe(1);
    expect((await h.prisma.child.findUnique({ where: { id: ids["学生2"] } }))!.className).toBe("3班");
  });

  it("a row its own check refuses at confirm is failed with its reason; the others still apply", async () => {
    const res = await upload(await workbook([person(1), person(2, { 班级: "5班" }), person(8), person(9)]));
    const id = res.json().id;
    await runReimportPreview(deps(), id);
    const items = (await preview(id)).json().items as { id: string; name: string; kind: string }[];
    expect(items.filter((i) => i.kind === "new").map((i) => i.name)).toEqual(["学生8", "学生9"]);
    expect((await confirm(id, { all: true })).statusCode).toBe(202);
    // After the confirm was asked: 学生8 registered by hand, 学生2 edited — both rows now fail their own check.
    const eight = await upload(await workbook([person(8)]), "changling.supervisor", "");
    await runImport({ ...deps(), parse: undefined }, eight.json().id);
    await updateChild(h.prisma, ids["学生2"]!, { remarks: "家访后更新" }, { kind: "user", id: "t", name: "测试" });
    expect(await applyQueuedRows(h.prisma, id, 2)).toMatchObject({ failed: 2 });

    const done = await batchOf(id);
    expect(done).toMatchObject({ status: "preview", confirmDone: done.confirmTotal }); // the new and changed rows, and the missing children
    const counts = (await preview(id)).json().counts;
    expect(counts).toMatchObject({ failed: 2, pending: 0, queued: 0 });
    const failed = (await preview(id, "?status=failed")).json().items as { name: string; error: string }[];
    expect(failed.map((f) => f.name).sort()).toEqual(["学生2", "学生8"]);
    expect(failed.find((f) => f.name === "学生8")!.error).toBe("该身份证号在预览之后已有档案，请重新上传登记表后再确认");
    expect(failed.find((f) => f.name === "学生2")!.error).toContain("预览之后已被修改");
    expect(await h.prisma.child.count({ where: { name: "学生9" } })).toBe(1);
    expect(await h.prisma.child.count({ where: { name: "学生8" } })).toBe(1);
    expect((await h.prisma.child.findUnique({ where: { id: ids["学生2"] } }))!.className).not.toBe("5班");
    expect((await preview(id, "?status=lost")).json().error.details).toEqual([expect.objectContaining({ field: "status" })]);
  });
});

describe("the confirm job", () => {
  it("a crash part-way (a chunk's transaction rolled back after applying its rows) resumes with each row applied exactly once", async () => {
    const res = await upload(await workbook([20, 21, 22, 23, 24, 25, 26].map((i) => person(i))));
    const id = res.json().id;
    await runReimportPreview(deps(), id);
    expect((await confirm(id, { all: true })).statusCode).toBe(202);
    // The process dies inside its second chunk, after that chunk's rows were applied but before the commit.
    let chunks = 0;
    const dying = new Proxy(h.prisma, {
      get(target, prop, receiver) {
        if (prop !== "$transaction") return Reflect.get(target, prop, receiver);
        return (fn: (tx: unknown) => Promise<unknown>, opts?: object) =>
          target.$transaction(async (tx) => {
            const out = await fn(tx);
            if (++chunks === 2) throw new Error("process killed");
            return out;
          }, opts);
      },
    }) as PrismaClient;
    await expect(applyQueuedRows(dying, id, 2)).rejects.toThrow("process killed");
    const half = await batchOf(id);
    expect(half).toMatchObject({ status: "confirming", confirmDone: 2 });
    // The retried job takes the rows still queued.
    await applyQueuedRows(h.prisma, id, 2);
    const done = await batchOf(id);
    expect(done).toMatchObject({ status: "preview", confirmDone: done.confirmTotal });
    const registered = await h.prisma.child.findMany({ where: { name: { in: [20, 21, 22, 23, 24, 25, 26].map((i) => `学生${i}`) } } });
    expect(registered).toHaveLength(7);
    expect(await h.prisma.outboxEvent.count({ where: { type: "child.registered", subject: { in: registered.map((c) => c.id) } } })).toBe(7);
  });

  it("a confirm that failed for good gives its rows back: pending again, the batch in preview with the reason", async () => {
    const res = await upload(await workbook([person(1), person(40)]));
    const id = res.json().id;
    await runReimportPreview(deps(), id);
    expect((await confirm(id, { all: true })).statusCode).toBe(202);
    await abandonConfirm(h.prisma, id, "数据库连接中断");
    expect(await batchOf(id)).toMatchObject({ status: "preview", error: expect.stringContaining("数据库连接中断") });
    expect((await preview(id)).json().counts).toMatchObject({ queued: 0, pending: expect.any(Number) });
    expect(await h.prisma.child.count({ where: { name: "学生40" } })).toBe(0);
    expect((await confirmAndApply(id, { all: true })).statusCode).toBe(202);
    expect(await h.prisma.child.count({ where: { name: "学生40" } })).toBe(1);
  });

  it("runs on the import queue's worker: 202, progress on the batch, back to preview when done", async () => {
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
      const res = await upload(await workbook([person(1), person(30), person(31)]));
      const id = res.json().id as string;
      await until("the preview is ready", async () => (await batchOf(id)).status === "preview", 60_000);
      const asked = await confirm(id, { all: true });
      expect(asked.statusCode).toBe(202);
      await until("the confirm job finished", async () => (await batchOf(id)).status === "preview", 60_000);
      const done = await batchOf(id);
      expect(done.confirmDone).toBe(done.confirmTotal);
      expect(await h.prisma.child.count({ where: { name: { in: ["学生30", "学生31"] } } })).toBe(2);
    } finally {
      for (const w of workers) await w.close();
      await connection.quit();
    }
  });

  it("a worker refuses to start without a handler; a job no handler knows, or with bad data, fails at once", async () => {
    const orphan = defineJob({ id: "orphan", schema: z.object({ n: z.number() }) });
    expect(() => jobProcessor("registry.import", [{ id: orphan.id, schema: orphan.schema }])).toThrow(/no handler/);
    const run = jobProcessor("registry.import", [handle(orphan, async (d) => d)]);
    await expect(run({ name: "other", data: {} } as never)).rejects.toThrow(/no handler for job "other"/);
    await expect(run({ name: "orphan", data: { n: "x" } } as never)).rejects.toThrow(/invalid data/);
    await expect(run({ name: "orphan", data: { n: 1 } } as never)).resolves.toEqual({ n: 1 });
  });
});
