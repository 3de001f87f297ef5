import { z } from "zod";
import { HelperKind, labels, contains, orgUnitCode } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import { ValidationError, type ServiceApp } from "@shouhu/kit";
import { readUploadedXlsx, readXlsx, type Sheet } from "@shouhu/spreadsheet";
import { actorOf, assertWithinJurisdiction, seesContacts, type Principal, requireRole, scopeOf } from "@shouhu/auth";
import { NotFoundError } from "@shouhu/kit";
import { HelperInput, HelperPatch, applyHelperPatch, validateHelper } from "../domain/helper.js";
import { HelperSheetError, MAX_HELPER_ROWS, parseHelperSheet } from "../domain/helper-import.js";
import {
  createHelper,
  importHelpers,
  deactivateHelper,
  getHelper,
  listHelpers,
  openPairingIds,
  reactivateHelper,
  updateHelper,
  type HelperRow,
} from "../data/helpers.js";
import { loadPairings } from "../data/pairings.js";
import type { PrismaClient } from "../data/db.js";
import { presentPairing } from "./present.js";
import { DeactivateResponse, HelperDetail, HelperImportResult, HelperPage, HelperResponse } from "./schemas.js";
import { helperKeepers, teacherOnly } from "./permissions.js";

export interface HelperRoutesDeps {
  prisma: PrismaClient;
  now: () => Date;
}

/** A helper list is a few hundred rows; a few thousand for a county. */
export const HELPER_LIST_MAX_BYTES = 5 * 1024 * 1024;
const HELPER_LIST_LIMITS = { maxFileBytes: HELPER_LIST_MAX_BYTES, maxRows: MAX_HELPER_ROWS + 100, maxColumns: 64, maxMergedCells: 10_000 };

async function firstSheet(content: Uint8Array): Promise<Sheet> {
  let sheets: Sheet[];
  try {
    sheets = await readXlsx(content);
  } catch {
    throw ValidationError.field("file", "无法读取该文件：不是有效的 .xlsx 工作簿");
  }
  if (sheets.length === 0) throw ValidationError.field("file", "工作簿中没有工作表");
  return sheets[0]!;
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

  app.post(
    "/api/v1/helpers/import",
    {
      schema: {
        tags: ["helpers"],
        summary: "批量导入帮扶人（.xlsx：姓名、类别、性别、手机号、所属单位代码、学校标识码、可帮扶人数）",
        description:
          "multipart/form-data，字段 file。第一张工作表，前10行内找表头。逐行按登记单个帮扶人的规则校验：合格行入库，不合格行给出行号和原因。" +
          "同乡镇同手机号（无手机号时同姓名、单位、学校）视为已登记的帮扶人，按表更新（账号、出生日期未填则保留）；其余新建。" +
          "只能导入本人管辖范围内的帮扶人。",
        response: { 200: HelperImportResult },
      },
    },
    async (request) => {
      const principal = request.principal!;
      requireRole(principal, helperKeepers, "导入帮扶人");
      const { content } = await readUploadedXlsx(request, HELPER_LIST_LIMITS);
      const sheet = await firstSheet(content);
      let parsed: ReturnType<typeof parseHelperSheet>;
      try {
        parsed = parseHelperSheet(sheet, { jurisdiction: principal.orgUnit, today: today() });
      } catch (err) {
        if (err instanceof HelperSheetError) throw ValidationError.field("file", err.message);
        throw err;
      }
      const outcome = await importHelpers(prisma, parsed.rows, principal.orgUnit);
      const names = new Map(parsed.rows.map((r) => [r.rowNumber, r.values.name]));
      const rows = [
        ...outcome.created.map((r) => ({
          rowNumber: r.rowNumber,
          name: names.get(r.rowNumber) ?? null,
          status: "created" as const,
          helperId: r.id,
          reasons: [],
        })),
        ...outcome.updated.map((r) => ({
          rowNumber: r.rowNumber,
          name: names.get(r.rowNumber) ?? null,
          status: "updated" as const,
          helperId: r.id,
          reasons: [],
        })),
        ...[...parsed.rejections, ...outcome.rejections].map((r) => ({ ...r, status: "rejected" as const, helperId: null })),
      ].sort((a, b) => a.rowNumber - b.rowNumber);
      return {
        total: rows.length,
        created: outcome.created.length,
        updated: outcome.updated.length,
        rejected: rows.length - outcome.created.length - outcome.updated.length,
        rows,
      };
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
