import { createHash, randomUUID } from "node:crypto";
import { z } from "zod";
import type { Queue } from "bullmq";
import fastifyMultipart from "@fastify/multipart";
import { NotFoundError, markAudit, type ServiceApp } from "@shouhu/kit";
import type { Principal } from "@shouhu/auth";
import type { PrismaClient } from "../data/db.js";
import { createBatch, findBatch, findBatchOfFile, recentBatches, rejectionsPage, requeueBatch } from "../data/import-batches.js";
import { importRegisterJob } from "../jobs/import-register.js";
import { addJob } from "../jobs/job-definitions.js";
import { enqueueConfirm } from "../jobs/reimport-confirm.js";
import { registerKeepers, reimporters } from "./permissions.js";
import { readUploadedXlsx } from "@shouhu/spreadsheet";
import { requireRole } from "@shouhu/auth";
import { contains } from "@shouhu/contracts";
import { writeRegisterWorkbook } from "../spreadsheet/register-export.js";
import { ImportBatchList, ImportBatchResponse, RejectionPage, ReimportConfirmResponse, ReimportPreview } from "./schemas.js";
import { previewCounts, previewPage, queueConfirm } from "../data/reimport.js";
import { ConflictError } from "@shouhu/kit";
import { actorOf } from "@shouhu/auth";

export interface ImportRoutesDeps {
  prisma: PrismaClient;
  imports: { queue: Queue };
}

const MAX_FILE_BYTES = 50 * 1024 * 1024;
const IdParams = z.object({ id: z.uuid({ message: "导入批次编号格式不正确" }) });
const UploadQuery = z.object({
  mode: z.enum(["create", "update"], { message: "mode 只能是 create（新建档）或 update（重新导入，先预览后确认）" }).default("create"),
});
const PreviewQuery = z.object({
  kind: z.enum(["new", "changed", "unchanged", "missing"], { message: "kind 只能是 new、changed、unchanged 或 missing" }).optional(),
  status: z.enum(["pending", "queued", "applied", "flagged", "failed"], { message: "status 只能是 pending、queued、applied、flagged 或 failed" }).optional(),
  cursor: z
    .string()
    .regex(/^\d{1,18}$/, "cursor 格式不正确")
    .optional(),
  limit: z.coerce.number({ message: "limit 须为数字" }).int().min(1, "limit 至少为1").max(500, "limit 最多为500").default(100),
});
const ConfirmBody = z
  .object({
    rows: z
      .array(z.string().regex(/^\d{1,18}$/, "行编号格式不正确"), { message: "rows 须为行编号数组" })
      .min(1, "请至少选择一行")
      .max(1000, "一次最多确认1000行")
      .optional(),
    all: z.literal(true, { message: "all 只能为 true" }).optional(),
  })
  .strict()
  .refine((b) => (b.rows ? !b.all : b.all === true), { message: "请选择要确认的行（rows），或确认全部（all: true）", path: ["rows"] });
const PageQuery = z.object({ cursor: z.coerce.number().int().positive().optional(), limit: z.coerce.number().int().min(1).max(500).default(100) });

function presentBatch(b: {
  id: string;
  fileName: string;
  status: string;
  mode: string;
  totalRows: number;
  processedRows: number;
  acceptedRows: number;
  rejectedRows: number;
  orgUnit: string;
  error: string | null;
  createdAt: Date;
  finishedAt: Date | null;
  createdByName: string | null;
  confirmTotal: number;
  confirmDone: number;
}) {
  return {
    id: b.id,
    fileName: b.fileName,
    orgUnit: b.orgUnit,
    status: b.status,
    mode: b.mode,
    totalRows: b.totalRows,
    processedRows: b.processedRows,
    acceptedRows: b.acceptedRows,
    rejectedRows: b.rejectedRows,
    error: b.error,
    createdBy: b.createdByName,
    createdAt: b.createdAt.toISOString(),
    finishedAt: b.finishedAt?.toISOString() ?? null,
    confirmTotal: b.confirmTotal,
    confirmDone: b.confirmDone,
  };
}

async function visibleBatch(prisma: PrismaClient, principal: Principal, id: string) {
  const batch = await findBatch(prisma, id);
  if (!batch || !contains(principal.orgUnit, batch.orgUnit)) throw new NotFoundError("导入批次", id);
  return batch;
}

export function enqueueImport(queue: Queue, batchId: string) {
  return addJob(queue, importRegisterJob, { batchId }, { jobId: batchId, attempts: 5, backoff: { type: "exponential", delay: 2000 } });
}

export async function registerImportRoutes(app: ServiceApp, deps: ImportRoutesDeps): Promise<void> {
  const { prisma } = deps;
  await app.register(fastifyMultipart, { limits: { fileSize: MAX_FILE_BYTES, files: 1, fields: 5 } });

  app.post(
    "/api/v1/imports",
    {
      schema: {
        tags: ["imports"],
        summary: "上传乡镇/学校留守儿童登记表（.xlsx），后台逐行校验导入",
        description:
          "multipart/form-data，字段 file。同一文件重复上传返回同一批次，不会重复建档。?mode=update：同一乡镇的登记表重新导入，按身份证号比对，生成预览（新增、变更、缺失），确认后才生效。",
        querystring: UploadQuery,
        response: { 200: ImportBatchResponse, 202: ImportBatchResponse },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, registerKeepers, "批量导入");
      const { content, fileName } = await readUploadedXlsx(request, { maxFileBytes: MAX_FILE_BYTES });
      if (request.query.mode === "update") {
        requireRole(principal, reimporters, "重新导入登记表");
        // Every re-import is its own preview (the children may have changed since the last one):
        // keyed by a fresh id, not the content, so it never answers an earlier batch.
        const batch = await createBatch(prisma, {
          sha256: createHash("sha256").update(content).update(randomUUID()).digest("hex"),
          fileName: fileName || "register.xlsx",
          orgUnit: principal.orgUnit,
          createdBy: principal.userId,
          createdByName: principal.name,
          content,
          mode: "update",
        });
        await enqueueImport(deps.imports.queue, batch.id);
        markAudit(reply, "import", []);
        return reply.status(202).send({ ...presentBatch(batch), duplicateUpload: false });
      }
      const sha = createHash("sha256").update(content).digest("hex");
      const existing = await findBatchOfFile(prisma, sha, principal.orgUnit);
      if (existing && existing.status !== "failed") {
        markAudit(reply, "import", []);
        return reply.status(200).send({ ...presentBatch(existing), duplicateUpload: true });
      }
      const batch = existing
        ? await requeueBatch(prisma, existing.id, content)
        : await createBatch(prisma, {
            sha256: sha,
            fileName: fileName || "register.xlsx",
            orgUnit: principal.orgUnit,
            createdBy: principal.userId,
            createdByName: principal.name,
            content,
          });
      // If the process dies before this add, the worker's sweep re-queues 'queued' batches.
      await enqueueImport(deps.imports.queue, batch.id);
      markAudit(reply, "import", []);
      return reply.status(202).send({ ...presentBatch(batch), duplicateUpload: false });
    },
  );

  // The empty register: the same title row and headers the importer reads and exports write.
  app.get("/api/v1/imports/template", { schema: { tags: ["imports"], summary: "下载留守儿童登记表模板（.xlsx）" } }, async (request, reply) => {
    requireRole(request.principal!, registerKeepers, "下载导入模板");
    const none: AsyncIterable<never> = { [Symbol.asyncIterator]: () => ({ next: async () => ({ done: true, value: undefined as never }) }) };
    const body = await writeRegisterWorkbook(none, { title: "农村留守儿童信息登记表" });
    return reply
      .header("content-type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
      .header("content-disposition", `attachment; filename="register-template.xlsx"; filename*=UTF-8''${encodeURIComponent("留守儿童登记表模板.xlsx")}`)
      .send(body);
  });

  app.get("/api/v1/imports", { schema: { tags: ["imports"], summary: "导入批次列表", response: { 200: ImportBatchList } } }, async (request) => {
    const principal = request.principal!;
    requireRole(principal, registerKeepers, "查看导入批次");
    const items = await recentBatches(prisma, principal.orgUnit);
    return { items: items.map(presentBatch) };
  });

  app.get(
    "/api/v1/imports/:id",
    { schema: { tags: ["imports"], summary: "导入进度与结果", params: IdParams, response: { 200: ImportBatchResponse } } },
    async (request) => {
      const principal = request.principal!;
      requireRole(principal, registerKeepers, "查看导入批次");
      return presentBatch(await visibleBatch(prisma, principal, request.params.id));
    },
  );

  app.get(
    "/api/v1/imports/:id/rejections",
    { schema: { tags: ["imports"], summary: "未导入的行及原因", params: IdParams, querystring: PageQuery, response: { 200: RejectionPage } } },
    async (request) => {
      const principal = request.principal!;
      requireRole(principal, registerKeepers, "查看导入批次");
      const batch = await visibleBatch(prisma, principal, request.params.id);
      const rows = await rejectionsPage(prisma, batch.id, request.query.cursor, request.query.limit);
      const page = rows.slice(0, request.query.limit);
      return {
        items: page.map((r) => ({ sheet: r.sheet, rowNumber: r.rowNumber, name: r.name, reasons: r.reasons, existingChildId: r.existingChildId })),
        nextCursor: rows.length > request.query.limit ? String(page[page.length - 1]!.id) : null,
      };
    },
  );

  app.get(
    "/api/v1/imports/:id/preview",
    {
      schema: {
        tags: ["imports"],
        summary: "重新导入的预览：新增儿童、逐人字段变更（原值 → 新值）、登记表中缺失的儿童",
        params: IdParams,
        querystring: PreviewQuery,
        response: { 200: ReimportPreview },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, reimporters, "查看导入预览");
      const batch = await visibleBatch(prisma, principal, request.params.id);
      if (batch.mode !== "update") throw new ConflictError("NOT_A_REIMPORT", "该批次不是重新导入，没有预览", { field: "id" });
      const { kind, status, cursor, limit } = request.query;
      const rows = await previewPage(prisma, batch.id, kind ?? null, status ?? null, cursor, limit);
      const page = rows.slice(0, limit);
      markAudit(
        reply,
        "import-preview",
        page.flatMap((r) => (r.childId ? [r.childId] : [])),
      );
      return {
        batch: presentBatch(batch),
        counts: await previewCounts(prisma, batch.id),
        items: page.map((r) => ({
          id: r.id,
          kind: r.kind,
          status: r.status,
          idNumber: r.idNumber,
          name: r.name,
          childId: r.childId,
          sheet: r.sheet,
          rowNumber: r.rowNumber,
          changes: r.changes as { field: string; before: unknown; after: unknown }[],
          error: r.error,
        })),
        nextCursor: rows.length > limit ? page[page.length - 1]!.id : null,
      };
    },
  );

  app.post(
    "/api/v1/imports/:id/confirm",
    {
      schema: {
        tags: ["imports"],
        summary: "确认重新导入的预览（全部或逐行）：后台逐行写入档案历史，缺失儿童标记待核实（不删除）",
        description:
          "答复 202：所选行进入后台确认任务，进度见批次的 confirmDone / confirmTotal（状态 confirming，完成后回到 preview）。某行自身校验未通过时记为 failed 并写明原因，其余行照常确认。",
        params: IdParams,
        body: ConfirmBody,
        response: { 202: ReimportConfirmResponse },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, reimporters, "确认重新导入");
      const batch = await visibleBatch(prisma, principal, request.params.id);
      if (batch.mode !== "update") throw new ConflictError("NOT_A_REIMPORT", "该批次不是重新导入，无需确认", { field: "id" });
      if (batch.status === "confirming") {
        throw new ConflictError("CONFIRM_RUNNING", `上一次确认仍在进行中（已处理 ${batch.confirmDone}/${batch.confirmTotal} 行），请稍后再确认`, {
          field: "id",
        });
      }
      if (batch.status !== "preview") throw new ConflictError("PREVIEW_NOT_READY", "预览尚未生成完毕，请稍后再确认", { field: "id" });
      const actor = actorOf(principal);
      const { queued, confirmSeq, childIds } = await queueConfirm(prisma, batch.id, request.body.rows ?? null, actor);
      // If the process dies before this add, the worker's sweep adds the same job (its id names this confirm).
      await enqueueConfirm(deps.imports.queue, batch.id, confirmSeq);
      markAudit(reply, "import-confirm", childIds);
      const [now, counts] = await Promise.all([visibleBatch(prisma, principal, batch.id), previewCounts(prisma, batch.id)]);
      return reply.status(202).send({ batch: presentBatch(now), queued, counts });
    },
  );
}
