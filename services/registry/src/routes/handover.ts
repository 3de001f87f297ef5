import { z } from "zod";
import type { Queue } from "bullmq";
import { AppError, ForbiddenError, ValidationError, type ServiceApp } from "@shouhu/kit";
import { requireRole, type Principal } from "@shouhu/auth";
import type { Role } from "@shouhu/contracts";
import type { PrismaClient } from "../data/db.js";
import { createExportJob } from "../data/export-jobs.js";
import { schoolInScope } from "../data/school-year.js";
import { addJob } from "../jobs/job-definitions.js";
import { EXPORT_TTL_MS } from "../jobs/export-register.js";
import { exportHandoverJob, handoverWhere, type HandoverFilters } from "../jobs/export-handover.js";
import { assertFont, type PackFont } from "../domain/handover-pdf.js";
import { registerKeepers } from "./permissions.js";
import { presentJob } from "./exports.js";

/** Who makes a class's handover pack: as the 交接名单 — the register's keepers, and teachers of that school. */
export const handoverPackMakers: Role[] = [...registerKeepers, "teacher"];
/** A class bigger than this is a wrong filter, not a class: the pack is refused rather than built for hours. */
const HANDOVER_MAX_CHILDREN = 300;

const teacherOnly = (p: Principal) => p.roles.length === 1 && p.roles[0] === "teacher";

/** May this caller make or take a pack of this school's class (role; a teacher alone: their own school only)? */
export function assertMayTakeHandover(principal: Principal, target: { schoolId: string }): void {
  requireRole(principal, handoverPackMakers, "制作交接包");
  if (teacherOnly(principal) && principal.schoolCode !== target.schoolId) throw new ForbiddenError("只能为本校的班级制作交接包");
}

const text = (label: string, max: number) =>
  z
    .string({ message: `请填写${label}` })
    .trim()
    .min(1, { message: `请填写${label}` })
    .max(max, { message: `${label}不超过${max}个字` });

const HandoverBody = z.strictObject({
  schoolId: text("学校", 32),
  className: text("班级", 20),
  grade: text("年级", 20).nullish(),
});

export interface HandoverRoutesDeps {
  prisma: PrismaClient;
  exports: { queue: Queue };
  font: PackFont;
  exportTtlMs?: number;
}

/**
 * 交接包: a class's growth files and 联系卡 as one PDF for the receiving teacher, made by a job on the export
 * queue; progress, download and expiry are the register export's (`GET /exports/:id`, `/exports/:id/file`).
 */
export function registerHandoverRoutes(app: ServiceApp, deps: HandoverRoutesDeps): void {
  const { prisma } = deps;
  const ttlMs = deps.exportTtlMs ?? EXPORT_TTL_MS;

  app.post(
    "/api/v1/exports/handover",
    { schema: { tags: ["exports"], summary: "制作交接包：一个班的成长档案与联系卡（PDF），后台生成", body: HandoverBody } },
    async (request, reply) => {
      const principal = request.principal!;
      const body = request.body;
      requireRole(principal, handoverPackMakers, "制作交接包");
      // Outside the caller's area a school answers as one that does not exist (nothing about it is told).
      const school = await schoolInScope(prisma, principal, body.schoolId).catch(() => {
        throw new AppError(404, "NOT_FOUND", "学校不存在或不在您的管辖范围内", [{ field: "schoolId", message: "学校不存在或不在您的管辖范围内" }]);
      });
      assertMayTakeHandover(principal, { schoolId: school.id });
      const filters: HandoverFilters = {
        kind: "handover",
        schoolId: school.id,
        className: body.className,
        grade: body.grade ?? null,
        orgUnit: principal.orgUnit,
        roles: principal.roles,
        requester: { userId: principal.userId, username: principal.username, name: principal.name || principal.username },
      };
      const count = await prisma.child.count({ where: handoverWhere(filters) });
      if (count === 0) throw ValidationError.field("className", `${school.name}${body.grade ?? ""}${body.className}没有在册儿童（或不在您的管辖范围内）`);
      if (count > HANDOVER_MAX_CHILDREN)
        throw ValidationError.field("className", `该班级有${count}名儿童，超过${HANDOVER_MAX_CHILDREN}名，请按年级和班级分别制作`);
      try {
        assertFont(deps.font);
      } catch (err) {
        request.log.error({ err }, "handover pack font missing");
        throw new AppError(503, "FONT_MISSING", "服务器缺少中文字体，暂时无法制作交接包，请联系管理员");
      }
      const job = await createExportJob(prisma, { filters, orgUnit: principal.orgUnit, createdBy: principal.userId, kind: "handover", totalRows: count });
      await addJob(deps.exports.queue, exportHandoverJob, { exportId: job.id }, { jobId: job.id, attempts: 3, backoff: { type: "exponential", delay: 2000 } });
      return reply.status(202).send(presentJob(job, ttlMs));
    },
  );
}
