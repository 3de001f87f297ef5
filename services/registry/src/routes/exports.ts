import { v7 as uuidv7 } from "uuid";
import { z } from "zod";
import type { Queue } from "bullmq";
import { ChildStatus, DifficultyCategory, LeftBehindType, OrgUnitCode, RiskLevel } from "@shouhu/contracts";
import { ConflictError, ForbiddenError, NotFoundError, markAudit, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { EXPORT_JOB } from "../jobs/export-register.js";
import { registerKeepers } from "./permissions.js";
import { requireRole } from "@shouhu/auth";

export interface ExportRoutesDeps {
  prisma: PrismaClient;
  exports: { queue: Queue };
}

/** The filters a register list and an export share. */
export const ChildFilterFields = {
  orgUnit: OrgUnitCode.optional(),
  leftBehindType: LeftBehindType.optional(),
  difficultyCategory: DifficultyCategory.optional(),
  riskLevel: RiskLevel.optional(),
  status: ChildStatus.optional(),
  schoolId: z.string().max(32).optional(),
};

export const ExportFilters = z.object(ChildFilterFields);
export type ExportFilters = z.infer<typeof ExportFilters>;

const IdParams = z.object({ id: z.uuid({ message: "导出任务编号格式不正确" }) });

function presentJob(j: { id: string; status: string; totalRows: number; doneRows: number; error: string | null; createdAt: Date; finishedAt: Date | null; filters: unknown }) {
  return {
    id: j.id,
    status: j.status,
    filters: j.filters,
    totalRows: j.totalRows,
    doneRows: j.doneRows,
    error: j.error,
    createdAt: j.createdAt.toISOString(),
    finishedAt: j.finishedAt?.toISOString() ?? null,
    fileUrl: j.status === "completed" ? `/api/v1/exports/${j.id}/file` : null,
  };
}

export function registerExportRoutes(app: ServiceApp, deps: ExportRoutesDeps): void {
  const { prisma } = deps;

  app.post(
    "/api/v1/exports",
    { schema: { tags: ["exports"], summary: "导出登记表（.xlsx，与导入模板同列），后台生成", body: ExportFilters } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, registerKeepers, "导出");
      const filters = request.body;
      if (filters.orgUnit && !filters.orgUnit.startsWith(principal.orgUnit)) throw new ForbiddenError(`无权导出该地区：${filters.orgUnit}`);
      const job = await prisma.exportJob.create({
        data: { id: uuidv7(), status: "queued", filters: { ...filters, orgUnit: filters.orgUnit ?? principal.orgUnit, roles: principal.roles }, orgUnit: principal.orgUnit, createdBy: principal.userId },
      });
      await deps.exports.queue.add(EXPORT_JOB, { exportId: job.id }, { jobId: job.id, attempts: 3, backoff: { type: "exponential", delay: 2000 } });
      return reply.status(202).send(presentJob(job));
    },
  );

  app.get("/api/v1/exports/:id", { schema: { tags: ["exports"], summary: "导出进度", params: IdParams } }, async (request) => {
    const principal = request.principal!;
    const job = await prisma.exportJob.findUnique({ where: { id: request.params.id }, omit: { content: true } });
    if (!job || job.createdBy !== principal.userId) throw new NotFoundError("导出任务", request.params.id);
    return presentJob(job);
  });

  app.get("/api/v1/exports/:id/file", { schema: { tags: ["exports"], summary: "下载导出文件", params: IdParams } }, async (request, reply) => {
    const principal = request.principal!;
    const job = await prisma.exportJob.findUnique({ where: { id: request.params.id } });
    if (!job || job.createdBy !== principal.userId) throw new NotFoundError("导出任务", request.params.id);
    if (job.status !== "completed" || !job.content) throw new ConflictError("EXPORT_NOT_READY", "导出文件尚未生成，请稍后再试");
    markAudit(reply, "export", []);
    const name = encodeURIComponent(`儿童登记表-${job.orgUnit}-${job.createdAt.toISOString().slice(0, 10)}.xlsx`);
    return reply
      .header("content-type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
      .header("content-disposition", `attachment; filename*=UTF-8''${name}`)
      .send(Buffer.from(job.content));
  });
}
