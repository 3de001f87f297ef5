import { z } from "zod";
import { OrgUnitCode, OrgUnitLevel, contains, countyOf, orgUnitCode, townshipOf } from "@shouhu/contracts";
import { NotFoundError, ValidationError, type ServiceApp } from "@shouhu/kit";
import { actorOf, type Principal } from "@shouhu/auth";
import type { PrismaClient } from "../data/db.js";
import { listOrgUnits, listSchools, orgUnitWithChildren } from "../data/org-units.js";
import {
  childCounts,
  createOrgUnit,
  createSchool,
  findSchool,
  importDivisions,
  importSchools,
  mergeOrgUnit,
  renameOrgUnit,
  retireOrgUnit,
  retireSchool,
  updateSchool,
  type ImportOutcome,
} from "../data/org-admin.js";
import { SchoolCode, SchoolType } from "../domain/org-admin.js";
import { ListFormatError, parseDivisionList, parseSchoolList } from "../spreadsheet/org-lists.js";
import { requireCountyKeeper } from "./permissions.js";
import { readUploadedXlsx } from "@shouhu/spreadsheet";
import { ListImportResult, MergeResult, OrgOverview, OrgUnitDetail, OrgUnitList, SchoolList, SchoolResponse } from "./schemas.js";

const IncludeRetired = z
  .enum(["true", "false"])
  .default("false")
  .transform((v) => v === "true");
const UnitQuery = z.object({ parent: OrgUnitCode.optional(), level: OrgUnitLevel.optional(), includeRetired: IncludeRetired });
const SchoolQuery = z.object({ townshipCode: OrgUnitCode.optional(), includeRetired: IncludeRetired });
const CodeParams = z.object({ code: OrgUnitCode });
const SchoolParams = z.object({ id: z.string().min(1).max(32) });
const Name = z.string({ message: "名称不能为空" }).trim().min(1, { message: "名称不能为空" }).max(60, { message: "名称不超过60个字" });
const Township = orgUnitCode(["township"], "应为9位乡镇代码");
/** Codes are immutable: a body that names one where none belongs is refused, not ignored. */
const immutable = (what: string) => z.undefined({ message: `${what}不可修改` }).optional();

const CreateUnitBody = z.strictObject({
  code: orgUnitCode(["township", "village"], "应为9位（乡镇）或12位（村/社区）行政区划代码"),
  name: Name,
  level: z.undefined({ message: "级别由代码位数决定，不必填写" }).optional(),
  parentCode: z.undefined({ message: "上级由代码决定，不必填写" }).optional(),
});
const RenameBody = z.strictObject({ name: Name, code: immutable("行政区划代码") });
const MergeBody = z.strictObject({ into: orgUnitCode(["township", "village"], "应为9位（乡镇）或12位（村/社区）行政区划代码") });
const CreateSchoolBody = z.strictObject({ code: SchoolCode, name: Name, townshipCode: Township, type: SchoolType });
const UpdateSchoolBody = z
  .strictObject({
    name: Name.optional(),
    townshipCode: Township.optional(),
    type: SchoolType.optional(),
    code: immutable("学校标识码"),
    id: immutable("学校编号"),
  })
  .refine((b) => b.name !== undefined || b.townshipCode !== undefined || b.type !== undefined, {
    message: "请至少修改一项：名称、所在乡镇或办学类型",
    path: ["name"],
  });

/** Division-code and school lists are small (a county); far bigger is a wrong file. */
const LIST_LIMITS = { maxFileBytes: 5 * 1024 * 1024, maxRows: 20_000, maxColumns: 64, maxInflatedBytes: 64 * 1024 * 1024 };

const iso = (d: Date | null) => d?.toISOString() ?? null;
const presentUnit = (u: { code: string; name: string; level: string; parentCode: string | null; retiredAt: Date | null; mergedInto: string | null }) => ({
  code: u.code,
  name: u.name,
  level: u.level,
  parentCode: u.parentCode,
  retiredAt: iso(u.retiredAt),
  mergedInto: u.mergedInto,
});
const presentSchool = (s: { id: string; code: string | null; name: string; type: string | null; townshipCode: string; retiredAt: Date | null }) => ({
  id: s.id,
  code: s.code,
  name: s.name,
  type: s.type,
  townshipCode: s.townshipCode,
  retiredAt: iso(s.retiredAt),
});
const presentOutcome = (o: ImportOutcome, parseRejections: ImportOutcome["rejections"]) => ({
  created: o.created,
  updated: o.renamed,
  unchanged: o.unchanged,
  rejections: [...parseRejections, ...o.rejections].sort((a, b) => a.rowNumber - b.rowNumber),
});

async function parseList<T>(parse: () => Promise<T>): Promise<T> {
  try {
    return await parse();
  } catch (err) {
    if (err instanceof ListFormatError) throw ValidationError.field("file", err.message);
    throw err;
  }
}

/**
 * Org units and schools are reference data: every signed-in user can read them (retired
 * ones on request). County admins keep them: create, rename, merge and retire units;
 * create, edit and retire schools; import the county's division table and school list.
 */
export function registerOrgUnitRoutes(app: ServiceApp, prisma: PrismaClient, now: () => Date = () => new Date()): void {
  app.get(
    "/api/v1/org-units",
    { schema: { tags: ["org-units"], summary: "行政区划（县/乡镇/村）", querystring: UnitQuery, response: { 200: OrgUnitList } } },
    async (request) => {
      return { items: (await listOrgUnits(prisma, request.query)).map(presentUnit) };
    },
  );

  app.get(
    "/api/v1/org-units/overview",
    { schema: { tags: ["org-units"], summary: "区划与学校管理：本县全部区划、学校及在册儿童数（县级管理员）", response: { 200: OrgOverview } } },
    async (request) => {
      const county = requireCountyKeeper(request.principal!, null, "管理区划与学校");
      const [units, schools, counts] = await Promise.all([
        prisma.orgUnit.findMany({ where: { code: { startsWith: county } }, orderBy: { code: "asc" } }),
        prisma.school.findMany({ where: { townshipCode: { startsWith: county } }, orderBy: [{ townshipCode: "asc" }, { name: "asc" }] }),
        childCounts(prisma, county),
      ]);
      const perTownship = new Map<string, number>();
      for (const [village, n] of counts.village) perTownship.set(townshipOf(village), (perTownship.get(townshipOf(village)) ?? 0) + n);
      const self = units.find((u) => u.code === county);
      return {
        county: { code: county, name: self?.name ?? county },
        units: units.map((u) => ({
          ...presentUnit(u),
          childCount: u.level === "village" ? (counts.village.get(u.code) ?? 0) : u.level === "township" ? (perTownship.get(u.code) ?? 0) : 0,
        })),
        schools: schools.map((s) => ({ ...presentSchool(s), childCount: counts.school.get(s.id) ?? 0 })),
      };
    },
  );

  app.get(
    "/api/v1/org-units/:code",
    { schema: { tags: ["org-units"], summary: "行政区划及其下级", params: CodeParams, response: { 200: OrgUnitDetail } } },
    async (request) => {
      const unit = await orgUnitWithChildren(prisma, request.params.code);
      if (!unit) throw new NotFoundError("行政区划", request.params.code);
      return { ...presentUnit(unit), children: unit.children.map(presentUnit) };
    },
  );

  app.post(
    "/api/v1/org-units",
    { schema: { tags: ["org-units"], summary: "新建乡镇或村（社区）", body: CreateUnitBody, response: { 201: OrgUnitDetail.omit({ children: true }) } } },
    async (request, reply) => {
      const principal = request.principal!;
      requireCountyKeeper(principal, request.body.code, "新建区划");
      const unit = await createOrgUnit(prisma, { code: request.body.code, name: request.body.name }, actorOf(principal));
      return reply.status(201).send(presentUnit(unit));
    },
  );

  app.patch(
    "/api/v1/org-units/:code",
    {
      schema: {
        tags: ["org-units"],
        summary: "区划改名（代码不变）",
        params: CodeParams,
        body: RenameBody,
        response: { 200: OrgUnitDetail.omit({ children: true }) },
      },
    },
    async (request) => {
      const principal = request.principal!;
      requireCountyKeeper(principal, request.params.code, "修改区划");
      return presentUnit(await renameOrgUnit(prisma, request.params.code, request.body.name, actorOf(principal)));
    },
  );

  app.post(
    "/api/v1/org-units/:code/merge",
    {
      schema: {
        tags: ["org-units"],
        summary: "合并区划：本区划的在册儿童（乡镇：学校）并入另一同级区划，本区划撤销",
        params: CodeParams,
        body: MergeBody,
        response: { 200: MergeResult },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const { code } = request.params;
      const { into } = request.body;
      requireCountyKeeper(principal, code, "合并区划");
      if (!contains(principal.orgUnit, into)) throw ValidationError.field("into", `${into} 不在本县`);
      if (into === code) throw ValidationError.field("into", "不能合并到自身");
      if (countyOf(into) !== countyOf(code)) throw ValidationError.field("into", "只能合并到本县的区划");
      return mergeOrgUnit(prisma, code, into, actorOf(principal), now());
    },
  );

  app.post(
    "/api/v1/org-units/:code/retire",
    {
      schema: {
        tags: ["org-units"],
        summary: "撤销区划（仍有在册儿童、学校或下级区划时拒绝，并给出数量）",
        params: CodeParams,
        response: { 200: OrgUnitDetail.omit({ children: true }) },
      },
    },
    async (request) => {
      const principal = request.principal!;
      requireCountyKeeper(principal, request.params.code, "撤销区划");
      if (request.params.code === principal.orgUnit) throw ValidationError.field("code", "不能撤销本县");
      return presentUnit(await retireOrgUnit(prisma, request.params.code, actorOf(principal), now()));
    },
  );

  app.post(
    "/api/v1/org-units/import",
    {
      schema: {
        tags: ["org-units"],
        summary: "导入本县统计用区划代码表（.xlsx：区划代码、名称、级别）",
        description: "multipart/form-data，字段 file。新代码新建，已有代码名称不同则改名；代码不变、已撤销的代码不再启用。逐行给出未导入原因。",
        response: { 200: ListImportResult },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const county = requireCountyKeeper(principal, null, "导入区划代码表");
      const { content } = await readUploadedXlsx(request, LIST_LIMITS);
      const parsed = await parseList(() => parseDivisionList(content, county));
      const outcome = await importDivisions(prisma, parsed.rows, actorOf(principal), county);
      return presentOutcome(outcome, parsed.rejections);
    },
  );

  app.get("/api/v1/schools", { schema: { tags: ["org-units"], summary: "学校", querystring: SchoolQuery, response: { 200: SchoolList } } }, async (request) => {
    return { items: (await listSchools(prisma, request.query.townshipCode, request.query.includeRetired)).map(presentSchool) };
  });

  app.post(
    "/api/v1/schools",
    { schema: { tags: ["org-units"], summary: "新建学校（学校标识码10位）", body: CreateSchoolBody, response: { 201: SchoolResponse } } },
    async (request, reply) => {
      const principal = request.principal!;
      requireCountyKeeper(principal, request.body.townshipCode, "新建学校");
      return reply.status(201).send(presentSchool(await createSchool(prisma, request.body, actorOf(principal))));
    },
  );

  app.post(
    "/api/v1/schools/import",
    {
      schema: {
        tags: ["org-units"],
        summary: "导入本县学校名单（.xlsx：学校名称、学校标识码、所在乡镇、办学类型）",
        description: "multipart/form-data，字段 file。新标识码新建，已有标识码更新名称、乡镇、类型；逐行给出未导入原因。",
        response: { 200: ListImportResult },
      },
    },
    async (request) => {
      const principal = request.principal!;
      const county = requireCountyKeeper(principal, null, "导入学校名单");
      const { content } = await readUploadedXlsx(request, LIST_LIMITS);
      const parsed = await parseList(() => parseSchoolList(content));
      const outcome = await importSchools(prisma, parsed.rows, actorOf(principal), county);
      return presentOutcome(outcome, parsed.rejections);
    },
  );

  async function ownSchool(principal: Principal, id: string, what: string) {
    const school = await findSchool(prisma, id);
    if (!school) throw new NotFoundError("学校", id);
    requireCountyKeeper(principal, school.townshipCode, what);
    return school;
  }

  app.patch(
    "/api/v1/schools/:id",
    {
      schema: {
        tags: ["org-units"],
        summary: "修改学校（名称、所在乡镇、办学类型；标识码不变）",
        params: SchoolParams,
        body: UpdateSchoolBody,
        response: { 200: SchoolResponse },
      },
    },
    async (request) => {
      const principal = request.principal!;
      requireCountyKeeper(principal, null, "修改学校");
      await ownSchool(principal, request.params.id, "修改学校");
      if (request.body.townshipCode && !contains(principal.orgUnit, request.body.townshipCode))
        throw ValidationError.field("townshipCode", "只能迁到本县的乡镇");
      const { name, townshipCode, type } = request.body;
      return presentSchool(await updateSchool(prisma, request.params.id, { name, townshipCode, type }, actorOf(principal)));
    },
  );

  app.post(
    "/api/v1/schools/:id/retire",
    { schema: { tags: ["org-units"], summary: "撤销学校（仍有在册儿童时拒绝，并给出人数）", params: SchoolParams, response: { 200: SchoolResponse } } },
    async (request) => {
      const principal = request.principal!;
      requireCountyKeeper(principal, null, "撤销学校");
      await ownSchool(principal, request.params.id, "撤销学校");
      return presentSchool(await retireSchool(prisma, request.params.id, actorOf(principal), now()));
    },
  );
}
