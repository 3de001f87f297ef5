import { z } from "zod";
import { markAudit, type ServiceApp } from "@shouhu/kit";
import { actorOf, childView, requireRole } from "@shouhu/auth";
import type { Role } from "@shouhu/contracts";
import { presentChild } from "../domain/present.js";
import { parseSchoolYear } from "../domain/school-year.js";
import { assignMiddleSchool, awaitingMiddleSchool, handoverList, previewPromotion, promoteSchool } from "../data/school-year.js";
import type { PrismaClient } from "../data/db.js";
import { registerKeepers } from "./permissions.js";

/** Who runs year-end promotion and decides middle schools: the county and the township keepers of the register. */
export const promoters: Role[] = registerKeepers;
/** Who may print a class's 交接 list: the keepers, and teachers of that school. */
const handoverReaders: Role[] = [...registerKeepers, "teacher"];

const SchoolParams = z.object({ id: z.string({ message: "学校编号不能为空" }).min(1, { message: "学校编号不能为空" }).max(32, { message: "学校编号过长" }) });
const ChildParams = z.object({ id: z.uuid({ message: "儿童档案编号格式不正确" }) });
const YearBody = z.object({ schoolYear: z.string({ message: "请填写学年，如 2026-2027" }).max(20, { message: "学年格式应为“2026-2027”" }) });
const AssignBody = z.strictObject({
  schoolId: z.string({ message: "请选择初中" }).min(1, { message: "请选择初中" }).max(32, { message: "学校编号过长" }),
  className: z.string().trim().max(20, { message: "班级不超过20个字" }).nullish(),
});
const HandoverQuery = z.object({
  grade: z.string().trim().min(1).max(20, { message: "年级不超过20个字" }).optional(),
  className: z.string().trim().min(1).max(20, { message: "班级不超过20个字" }).optional(),
});

export function registerSchoolYearRoutes(app: ServiceApp, prisma: PrismaClient): void {
  app.post(
    "/api/v1/schools/:id/promotion-preview",
    { schema: { tags: ["school-year"], summary: "学年升级预览：按年级统计将升级、待分配初中的人数（不做修改）", params: SchoolParams, body: YearBody } },
    async (request) => {
      const principal = request.principal!;
      requireRole(principal, promoters, "学年升级");
      return previewPromotion(prisma, principal, request.params.id, parseSchoolYear(request.body.schoolYear));
    },
  );

  app.post(
    "/api/v1/schools/:id/promotions",
    { schema: { tags: ["school-year"], summary: "学年升级：年级+1，小学最高年级转入待分配初中；同一学年只升级一次", params: SchoolParams, body: YearBody } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, promoters, "学年升级");
      const result = await promoteSchool(prisma, principal, request.params.id, parseSchoolYear(request.body.schoolYear), actorOf(principal));
      markAudit(reply, "promote", result.childIds);
      const { childIds: _ids, ...body } = result;
      return reply.status(result.replayed ? 200 : 201).send(body);
    },
  );

  app.get("/api/v1/children/awaiting-middle-school", { schema: { tags: ["school-year"], summary: "待分配初中名单" } }, async (request, reply) => {
    const principal = request.principal!;
    requireRole(principal, promoters, "查看待分配初中名单");
    const children = await awaitingMiddleSchool(prisma, principal);
    markAudit(
      reply,
      "list",
      children.map((c) => c.id),
    );
    return { items: children.map((c) => presentChild(c, childView(principal))) };
  });

  app.post(
    "/api/v1/children/:id/middle-school",
    { schema: { tags: ["school-year"], summary: "分配初中（七年级）", params: ChildParams, body: AssignBody } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, promoters, "分配初中");
      const child = await assignMiddleSchool(prisma, principal, request.params.id, request.body, actorOf(principal));
      markAudit(reply, "update", [child.id]);
      return presentChild(child, childView(principal));
    },
  );

  app.get(
    "/api/v1/schools/:id/handover",
    { schema: { tags: ["school-year"], summary: "交接名单：一个班的儿童、帮扶人，供新任教师", params: SchoolParams, querystring: HandoverQuery } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, handoverReaders, "查看交接名单");
      const { school, rows } = await handoverList(prisma, principal, request.params.id, request.query);
      markAudit(
        reply,
        "handover",
        rows.map((r) => r.child.id),
      );
      const view = childView(principal, { paired: false });
      return {
        school,
        items: rows.map((r) => {
          const c = presentChild(r.child, view);
          return {
            id: c.id,
            name: c.name,
            sex: c.sex,
            birthDate: c.birthDate,
            grade: c.grade,
            className: c.className,
            villageCode: c.villageCode,
            leftBehindType: c.leftBehindType,
            difficultyCategories: c.difficultyCategories,
            riskLevel: c.riskLevel,
            guardians: c.guardians,
            helper: r.helper,
          };
        }),
      };
    },
  );
}
