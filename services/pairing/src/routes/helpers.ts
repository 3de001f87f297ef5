import { z } from "zod";
import { HelperKind, labels, contains, orgUnitCode } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import { ValidationError, type ServiceApp } from "@shouhu/kit";
import { actorOf, assertWithinJurisdiction, seesContacts, type Principal, requireRole, scopeOf } from "@shouhu/auth";
import { NotFoundError } from "@shouhu/kit";
import { HelperInput, HelperPatch, applyHelperPatch, validateHelper } from "../domain/helper.js";
import { createHelper, deactivateHelper, getHelper, listHelpers, openPairingIds, reactivateHelper, updateHelper, type HelperRow } from "../data/helpers.js";
import { loadPairings } from "../data/pairings.js";
import type { PrismaClient } from "../data/db.js";
import { presentPairing } from "./present.js";
import { DeactivateResponse, HelperDetail, HelperPage, HelperResponse } from "./schemas.js";
import { helperKeepers, teacherOnly } from "./permissions.js";

export interface HelperRoutesDeps {
  prisma: PrismaClient;
  now: () => Date;
}

const IdParams = z.object({ id: z.uuid({ message: "帮扶人编号格式不正确" }) });

const ListQuery = z.object({
  orgUnit: orgUnitCode().optional(),
  kind: HelperKind.optional(),
  active: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional(),
  schoolId: z.string().max(32).optional(),
  q: z.string().min(1).max(40).optional(),
  cursor: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const DeactivateBody = z.object({ reason: z.string().trim().min(1, "请说明停用原因（如调离、学年交接）").max(200) });

function presentHelper(principal: Principal, h: HelperRow) {
  // No contact details for roles that see none (inspectors), as for families.
  const phones = seesContacts(principal);
  return {
    id: h.id,
    kind: h.kind,
    kindLabel: labels.helperKind[h.kind],
    name: h.name,
    sex: h.sex,
    birthDate: h.birthDate,
    phone: phones ? h.phone : null,
    orgUnitCode: h.orgUnitCode,
    townshipCode: h.townshipCode,
    schoolId: h.schoolId,
    username: h.username,
    capacity: h.capacity,
    activeCount: h.activeCount,
    proposedCount: h.proposedCount,
    free: Math.max(0, h.capacity - h.activeCount - h.proposedCount),
    active: h.active,
    deactivatedAt: h.deactivatedAt?.toISOString() ?? null,
    deactivationReason: h.deactivationReason,
    createdAt: h.createdAt.toISOString(),
  };
}

export function registerHelperRoutes(app: ServiceApp, deps: HelperRoutesDeps): void {
  const { prisma } = deps;
  const today = () => todayInChina(deps.now());

  app.post(
    "/api/v1/helpers",
    {
      schema: {
        tags: ["helpers"],
        summary: "登记帮扶人（教师、代理家长、志愿者、村儿童主任、同伴学生）",
        body: HelperInput,
        response: { 201: HelperResponse },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, helperKeepers, "登记帮扶人");
      const result = validateHelper(request.body, today());
      if (!result.ok) throw new ValidationError(result.issues);
      // Helper writes happen inside the writer's own org unit, like child records.
      assertWithinJurisdiction(principal, result.value.orgUnitCode);
      return reply.status(201).send(presentHelper(principal, await createHelper(prisma, result.value)));
    },
  );

  app.get(
    "/api/v1/helpers",
    { schema: { tags: ["helpers"], summary: "帮扶人名单", querystring: ListQuery, response: { 200: HelperPage } } },
    async (request) => {
      const principal = request.principal!;
      const { orgUnit, ...filter } = request.query;
      // Teachers see the helpers of their own school only (need-to-know).
      const teacher = teacherOnly(principal);
      if (teacher) {
        if (!teacher.schoolId || (filter.schoolId && filter.schoolId !== teacher.schoolId)) return { items: [], nextCursor: null };
        filter.schoolId = teacher.schoolId;
      }
      const page = await listHelpers(prisma, { ...filter, orgUnit: scopeOf(principal, orgUnit) });
      return { items: page.items.map((h) => presentHelper(principal, h)), nextCursor: page.nextCursor };
    },
  );

  app.get(
    "/api/v1/helpers/:id",
    { schema: { tags: ["helpers"], summary: "帮扶人详情（含当前结对）", params: IdParams, response: { 200: HelperDetail } } },
    async (request) => {
      const principal = request.principal!;
      const helper = await getHelper(prisma, request.params.id, principal.orgUnit);
      const teacher = teacherOnly(principal);
      if (teacher && (!teacher.schoolId || helper.schoolId !== teacher.schoolId)) throw new NotFoundError("帮扶人", request.params.id);
      const open = await loadPairings(prisma, await openPairingIds(prisma, helper.id));
      return {
        ...presentHelper(principal, helper),
        pairings: open.filter((p) => contains(principal.orgUnit, p.child.villageCode)).map((p) => presentPairing(principal, p)),
      };
    },
  );

  app.patch(
    "/api/v1/helpers/:id",
    { schema: { tags: ["helpers"], summary: "修改帮扶人信息", params: IdParams, body: HelperPatch, response: { 200: HelperResponse } } },
    async (request) => {
      const principal = request.principal!;
      requireRole(principal, helperKeepers, "修改帮扶人");
      const current = await getHelper(prisma, request.params.id, principal.orgUnit);
      const result = applyHelperPatch(current, request.body, today());
      if (!result.ok) throw new ValidationError(result.issues);
      assertWithinJurisdiction(principal, result.value.orgUnitCode);
      return presentHelper(principal, await updateHelper(prisma, current.id, result.value));
    },
  );

  app.post(
    "/api/v1/helpers/:id/deactivate",
    {
      schema: {
        tags: ["helpers"],
        summary: "停用帮扶人（调离、学年交接）：结束其结对并为儿童重新匹配",
        params: IdParams,
        body: DeactivateBody,
        response: { 200: DeactivateResponse },
      },
    },
    async (request) => {
      const principal = request.principal!;
      requireRole(principal, helperKeepers, "停用帮扶人");
      const current = await getHelper(prisma, request.params.id, principal.orgUnit);
      const result = await deactivateHelper(prisma, current.id, request.body.reason, actorOf(principal), today());
      return {
        helper: presentHelper(principal, result.helper),
        endedPairings: result.ended.map((p) => presentPairing(principal, p)),
        withdrawnProposals: result.withdrawn,
      };
    },
  );

  app.post(
    "/api/v1/helpers/:id/activate",
    { schema: { tags: ["helpers"], summary: "重新启用帮扶人", params: IdParams, response: { 200: HelperResponse } } },
    async (request) => {
      const principal = request.principal!;
      requireRole(principal, helperKeepers, "启用帮扶人");
      const current = await getHelper(prisma, request.params.id, principal.orgUnit);
      return presentHelper(principal, await reactivateHelper(prisma, current.id));
    },
  );
}
