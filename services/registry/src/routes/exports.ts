import { z } from "zod";
import type { Queue } from "bullmq";
import { ChildStatus, DifficultyCategory, LeftBehindType, OrgUnitCode, RiskLevel, contains } from "@shouhu/contracts";
import { AUDIT_HEADER, AppError, ConflictError, ForbiddenError, NotFoundError, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { createExportJob, exportJobState, exportJobWithFile } from "../data/export-jobs.js";
import { EXPORT_JOB, EXPORT_TTL_MS, exportExpiresAt } from "../jobs/export-register.js";
import { registerKeepers } from "./permissions.js";
import { assertMayTakeHandover } from "./handover.js";
import { requireRole, type Principal } from "@shouhu/auth";

export interface ExportRoutesDeps {
  prisma: PrismaClient;
  exports: { queue: Queue };
  now?: () => Date;
  /** EXPORT_TTL_HOURS in ms (default 24 h). */
  exportTtlMs?: number;
}

/**
 * An export is the requester's alone, and only while they still may make it: the
 * download re-checks role and jurisdiction against the token presented now (a user
 * moved to another township or role gets 403), and the roles it was made for (the
 * file holds what they could see) must be the caller's roles still.
 */
function assertMayDownload(principal: Principal, job: { orgUnit: string; filters: unknown; kind: string }): void {
  if (job.kind === "handover") assertMayTakeHandover(principal, job.filters as { schoolId: string });
  else requireRole(principal, registerKeepers, "下载导出文件");
  const filters = job.filters as { orgUnit?: string; roles?: string[] };
  const scope = filters.orgUnit ?? job.orgUnit;
  if (!contains(principal.orgUnit, scope)) throw new ForbiddenError("导出范围已不在您的管辖范围内，无法下载");
  const madeFor = [...(filters.roles ?? [])].sort().join(",");
  if (madeFor !== [...principal.roles].sort().join(",")) throw new ForbiddenError("您的角色已变更，请重新导出");
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

const ExportFilters = z.object(ChildFilterFields);
type ExportFilters = z.infer<typeof ExportFilters>;

const IdParams = z.object({ id: z.uuid({ message: "导出任务编号格式不正确" }) });

export function presentJob(
  j: {
    id: string;
    kind: string;
    status: string;
    totalRows: number;
    doneRows: number;
    error: string | null;
    createdAt: Date;
    finishedAt: Date | null;
    filters: unknown;
  },
  ttlMs: number,
) {
  return {
    id: j.id,
    kind: j.kind,
    status: j.status,
    filters: j.filters,
    totalRows: j.totalRows,
    doneRows: j.doneRows,
    error: j.error,
    createdAt: j.createdAt.toISOString(),
    finishedAt: j.finishedAt?.toISOString() ?? null,
    fileUrl: j.status === "completed" ? `/api/v1/exports/${j.id}/file` : null,
    expiresAt: exportExpiresAt(j, ttlMs).toISOString(),
  };
}

export function registerExportRoutes(app: ServiceApp, deps: ExportRoutesDeps): void {
  const { prisma } = deps;
  const ttlMs = deps.exportTtlMs ?? EXPORT_TTL_MS;

  app.post(
    "/api/v1/exports",
    { schema: { tags: ["exports"], summary: "导出登记表（.xlsx，与导入模板同列），后台生成", body: ExportFilters } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, registerKeepers, "导出");
      const filters = request.body;
      if (filters.orgUnit && !contains(principal.orgUnit, filters.orgUnit)) throw new ForbiddenError(`无权导出该地区：${filters.orgUnit}`);
      const job = await createExportJob(prisma, {
        filters: { ...filters, orgUnit: filters.orgUnit ?? principal.orgUnit, roles: principal.roles },
        orgUnit: principal.orgUnit,
        createdBy: principal.userId,
      });
      await deps.exports.queue.add(EXPORT_JOB, { exportId: job.id }, { jobId: job.id, attempts: 3, backoff: { type: "exponential", delay: 2000 } });
      return reply.status(202).send(presentJob(job, ttlMs));
    },
  );

  app.get("/api/v1/exports/:id", { schema: { tags: ["exports"], summary: "导出进度", params: IdParams } }, async (request) => {
    const principal = request.principal!;
    const job = await exportJobState(prisma, request.params.id);
    if (!job || job.createdBy !== principal.userId) throw new NotFoundError("导出任务", request.params.id);
    return presentJob(job, ttlMs);
  });

  app.get("/api/v1/exports/:id/file", { schema: { tags: ["exports"], summary: "下载导出文件", params: IdParams } }, async (request, reply) => {
    const principal = request.principal!;
    const job = await exportJobWithFile(prisma, request.params.id);
    if (!job || job.createdBy !== principal.userId) throw new NotFoundError("导出任务", request.params.id);
    assertMayDownload(principal, job);
    if (exportExpiresAt(job, ttlMs) <= (deps.now?.() ?? new Date())) {
      throw new AppError(410, "EXPORT_EXPIRED", `导出文件已过期（保留 ${Math.round(ttlMs / 3600_000)} 小时后删除），请重新导出`);
    }
    if (job.status !== "completed" || !job.content) throw new ConflictError("EXPORT_NOT_READY", "导出文件尚未生成，请稍后再试");
    // The download is audited by the gateway: the children the file holds, by id, or for a
    // big export (ids not kept) the export id and its child count. markAudit carries ids
    // only, so the header is written here with the two extra fields.
    const pack = job.kind === "handover";
    reply.header(
      AUDIT_HEADER,
      JSON.stringify({ action: pack ? "handover-pack" : "export", childIds: job.childIds, exportId: job.id, childCount: job.totalRows }),
    );
    const day = job.createdAt.toISOString().slice(0, 10);
    const f = job.filters as { schoolId?: string; grade?: string | null; className?: string };
    const name = encodeURIComponent(
      pack ? `交接包-${f.schoolId}-${[f.grade, f.className].filter(Boolean).join("")}-${day}.pdf` : `儿童登记表-${job.orgUnit}-${day}.xlsx`,
    );
    return reply
      .header("content-type", pack ? "application/pdf" : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
      .header("content-disposition", `attachment; filename*=UTF-8''${name}`)
      .send(Buffer.from(job.content));
  });
}
