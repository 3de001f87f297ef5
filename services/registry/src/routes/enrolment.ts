import { z } from "zod";
import { markAudit, ValidationError, type ServiceApp } from "@shouhu/kit";
import { actorOf, applyLevel, childView, hasAnyRole, requireRole, scopeOf, type Principal } from "@shouhu/auth";
import { orgUnitCode, type Role } from "@shouhu/contracts";
import { semesterOf, todayInChina } from "@shouhu/cn";
import { readUploadedXlsx } from "@shouhu/spreadsheet";
import type { PrismaClient } from "../data/db.js";
import type { ChildReadDb } from "../data/child-read.js";
import { getVisibleChildAndView } from "../data/queries.js";
import { ROW_KIND_LABEL, SetEnrolmentBody, requireSemester, statusLabel, type ListRow } from "../domain/enrolment.js";
import {
  childEnrolments,
  confirmImport,
  enrolmentSchool,
  loadImport,
  matchRows,
  missingChildren,
  schoolTable,
  setEnrolment,
  storeImport,
  type ImportRecord,
} from "../data/enrolment.js";
import { parseEnrolmentList } from "../spreadsheet/enrolment-list.js";
import { ListFormatError } from "../spreadsheet/org-lists.js";

/** Who records enrolment (lists and by hand): the county, the townships, and teachers for their own school. */
export const enrolmentKeepers: Role[] = ["county-admin", "federation-officer", "township-supervisor", "teacher"];
/** Who reads the per-school table: the keepers, village directors and inspectors (counts only). */
export const enrolmentReaders: Role[] = [...enrolmentKeepers, "village-director", "inspector"];
/** Who reads the names of children missing from every list: those who follow them up (not inspectors). */
export const missingReaders: Role[] = [...enrolmentKeepers, "village-director"];

/** A school's list: a few thousand pupils at most. */
const LIST_LIMITS = { maxFileBytes: 5 * 1024 * 1024, maxRows: 20_000, maxColumns: 64, maxInflatedBytes: 64 * 1024 * 1024 };

const semesterField = z.string({ message: "请选择学期" }).max(20, { message: "学期格式应为“2026-2027-1”" });
const SchoolId = z.string({ message: "请选择学校" }).min(1, { message: "请选择学校" }).max(32, { message: "学校编号过长" });
const UploadQuery = z.object({ schoolId: SchoolId, semester: semesterField });
const ImportParams = z.object({ id: z.uuid({ message: "名单编号格式不正确" }) });
const ChildParams = z.object({ id: z.uuid({ message: "儿童档案编号格式不正确" }) });
const ConfirmBody = z.strictObject({ includeNameMismatches: z.boolean({ message: "includeNameMismatches 应为 true 或 false" }).optional() }).nullish();
const AreaQuery = z.object({
  semester: semesterField.optional(),
  orgUnit: orgUnitCode(["county", "township", "village"], "区划代码应为6、9或12位数字").optional(),
  limit: z.coerce.number().int().min(1).max(2000).optional(),
});

const Status = z.enum(["enrolled", "suspended", "dropped_out", "transferred_out"]);
/** What the enrolment routes answer, documented so the console's types are generated from them (fields left out here are left out of the answer). */
const ImportAnswer = z.object({
  id: z.uuid(),
  schoolId: z.string(),
  schoolName: z.string(),
  semester: z.string(),
  fileName: z.string(),
  state: z.enum(["preview", "confirmed"]),
  actorName: z.string().nullable(),
  createdAt: z.string(),
  confirmedAt: z.string().nullable(),
  summary: z.object({ total: z.number(), matched: z.number(), nameMismatch: z.number(), notInRegister: z.number(), invalid: z.number() }),
  rows: z.array(
    z.object({
      rowNumber: z.number(),
      idNumber: z.string().nullable(),
      name: z.string(),
      grade: z.string().nullable(),
      className: z.string().nullable(),
      status: Status.nullable(),
      kind: z.enum(["matched", "name_mismatch", "not_in_register", "invalid"]),
      childId: z.string().nullable(),
      registerName: z.string().nullable(),
      reasons: z.array(z.string()),
      kindLabel: z.string(),
      statusLabel: z.string().nullable(),
    }),
  ),
});
const ConfirmAnswer = z.object({ changed: z.number(), unchanged: z.number(), skipped: z.number(), import: ImportAnswer });
const SchoolsAnswer = z.object({
  semester: z.string(),
  semesterLabel: z.string(),
  items: z.array(
    z.object({
      schoolId: z.string(),
      schoolName: z.string(),
      townshipCode: z.string(),
      townshipName: z.string().nullable(),
      enrolled: z.number(),
      suspended: z.number(),
      droppedOut: z.number(),
      transferredOut: z.number(),
      registered: z.number(),
      missing: z.number(),
      lastImportAt: z.string().nullable(),
    }),
  ),
});
const MissingAnswer = z.object({
  semester: z.string(),
  semesterLabel: z.string(),
  total: z.number(),
  schoolsWithLists: z.number(),
  items: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      sex: z.string(),
      birthDate: z.string(),
      villageCode: z.string(),
      villageName: z.string().nullable(),
      schoolName: z.string().nullable(),
      grade: z.string().nullable(),
      className: z.string().nullable(),
    }),
  ),
});
const HistoryAnswer = z.object({
  childId: z.string(),
  items: z.array(
    z.object({
      semester: z.string(),
      status: Status,
      statusLabel: z.string(),
      schoolId: z.string().nullable(),
      schoolName: z.string().nullable(),
      source: z.string(),
      note: z.string().nullable(),
      actorName: z.string().nullable(),
      at: z.string(),
    }),
  ),
});
const SetAnswer = z.object({ changed: z.boolean(), semester: z.string(), status: Status });

function presentImport(imp: ImportRecord, principal: Principal) {
  const idLevel = childView(principal).idNumber;
  const count = (k: ListRow["kind"]) => imp.rows.filter((r) => r.kind === k).length;
  return {
    id: imp.id,
    schoolId: imp.schoolId,
    schoolName: imp.schoolName,
    semester: imp.semester,
    fileName: imp.fileName,
    state: imp.state,
    actorName: imp.actorName,
    createdAt: imp.createdAt.toISOString(),
    confirmedAt: imp.confirmedAt?.toISOString() ?? null,
    summary: {
      total: imp.rows.length,
      matched: count("matched"),
      nameMismatch: count("name_mismatch"),
      notInRegister: count("not_in_register"),
      invalid: count("invalid"),
    },
    rows: imp.rows.map((r) => ({
      ...r,
      // The list's own numbers, shown back only as far as the caller may see ID numbers.
      idNumber: applyLevel(idLevel, r.idNumber, "idNumber"),
      kindLabel: ROW_KIND_LABEL[r.kind],
      statusLabel: r.status ? statusLabel(r.status) : null,
    })),
  };
}

/**
 * 控辍保学 (issue 22.4): enrolment per child and semester, a school's list matched by ID number, the register's
 * school-age children in no list, and a child's status by hand. Every status change publishes `enrolment.changed`.
 */
export function registerEnrolmentRoutes(app: ServiceApp, deps: { prisma: PrismaClient; reads: ChildReadDb; now: () => Date }): void {
  const { prisma } = deps;
  const semesterFor = (code: string | undefined) => (code === undefined ? semesterOf(todayInChina(deps.now())) : requireSemester(code));

  app.post(
    "/api/v1/enrolment-imports",
    {
      schema: {
        tags: ["enrolment"],
        summary: "上传学校学籍名单（.xlsx：身份证号、姓名，可选年级、班级、就读状态），按身份证号比对，生成预览",
        description: "multipart/form-data，字段 file；?schoolId=&semester=2026-2027-1。不修改任何学籍，确认后才生效。",
        querystring: UploadQuery,
        response: { 201: ImportAnswer },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, enrolmentKeepers, "上传学籍名单");
      const semester = requireSemester(request.query.semester);
      const school = await enrolmentSchool(prisma, principal, request.query.schoolId);
      const { content, fileName } = await readUploadedXlsx(request, LIST_LIMITS);
      let parsed: ListRow[];
      try {
        parsed = await parseEnrolmentList(content, todayInChina(deps.now()));
      } catch (err) {
        if (err instanceof ListFormatError) throw ValidationError.field("file", err.message);
        throw err;
      }
      const rows = await matchRows(prisma, principal, school, parsed);
      const imp = await storeImport(prisma, { school, semester: semester.code, fileName, rows, actor: actorOf(principal) });
      markAudit(
        reply,
        "enrolment-preview",
        rows.filter((r) => r.childId).map((r) => r.childId!),
      );
      return reply.status(201).send(presentImport(imp, principal));
    },
  );

  app.get(
    "/api/v1/enrolment-imports/:id",
    { schema: { tags: ["enrolment"], summary: "学籍名单预览：已匹配、姓名不一致、未在档案中、未通过", params: ImportParams, response: { 200: ImportAnswer } } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, enrolmentKeepers, "查看学籍名单");
      const imp = await loadImport(prisma, principal, request.params.id);
      markAudit(
        reply,
        "enrolment-preview",
        imp.rows.filter((r) => r.childId).map((r) => r.childId!),
      );
      return presentImport(imp, principal);
    },
  );

  app.post(
    "/api/v1/enrolment-imports/:id/confirm",
    {
      schema: {
        tags: ["enrolment"],
        summary: "确认学籍名单：已匹配的儿童记入本学期学籍（姓名不一致的需 includeNameMismatches）；只能确认一次",
        params: ImportParams,
        body: ConfirmBody,
        response: { 200: ConfirmAnswer },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, enrolmentKeepers, "确认学籍名单");
      const result = await confirmImport(prisma, principal, request.params.id, request.body?.includeNameMismatches ?? false, actorOf(principal));
      markAudit(reply, "enrolment-confirm", result.changedChildIds);
      return { changed: result.changed, unchanged: result.unchanged, skipped: result.skipped, import: presentImport(result.import, principal) };
    },
  );

  app.get(
    "/api/v1/enrolments/schools",
    {
      schema: {
        tags: ["enrolment"],
        summary: "各校本学期学籍：在读、休学、辍学、转学人数，档案中未入名单人数",
        querystring: AreaQuery,
        response: { 200: SchoolsAnswer },
      },
    },
    async (request) => {
      const principal = request.principal!;
      requireRole(principal, enrolmentReaders, "查看学籍统计");
      const semester = semesterFor(request.query.semester);
      const orgUnit = scopeOf(principal, request.query.orgUnit);
      return { semester: semester.code, semesterLabel: semester.label, items: await schoolTable(prisma, principal, semester, orgUnit) };
    },
  );

  app.get(
    "/api/v1/enrolments/missing",
    {
      schema: {
        tags: ["enrolment"],
        summary: "未在任何学校名单中：辖区内6–15周岁在册儿童，本学期无学籍记录",
        querystring: AreaQuery,
        response: { 200: MissingAnswer },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, missingReaders, "查看未入学籍名单的儿童");
      const semester = semesterFor(request.query.semester);
      const orgUnit = scopeOf(principal, request.query.orgUnit);
      const result = await missingChildren(prisma, principal, semester, orgUnit, request.query.limit ?? 500);
      markAudit(
        reply,
        "enrolment-missing",
        result.items.map((c) => c.id),
      );
      return { semester: semester.code, semesterLabel: semester.label, ...result };
    },
  );

  app.get(
    "/api/v1/children/:id/enrolments",
    { schema: { tags: ["enrolment"], summary: "儿童学籍记录（每学期的状态变化，保留历史）", params: ChildParams, response: { 200: HistoryAnswer } } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, enrolmentReaders, "查看学籍记录");
      const { child } = await getVisibleChildAndView(deps.reads, principal, request.params.id);
      markAudit(reply, "enrolment-read", [child.id]);
      // Notes (病休, 外出务工 …) are narrative: inspectors get the statuses without them, or who wrote them.
      const narrative = hasAnyRole(principal, missingReaders);
      return {
        childId: child.id,
        items: (await childEnrolments(prisma, child.id)).map((e) => ({
          ...e,
          note: narrative ? e.note : null,
          actorName: narrative ? e.actorName : null,
          statusLabel: statusLabel(e.status),
        })),
      };
    },
  );

  app.put(
    "/api/v1/children/:id/enrolment",
    {
      schema: {
        tags: ["enrolment"],
        summary: "登记儿童本学期就读状态（在读、休学、辍学、转学）",
        params: ChildParams,
        body: SetEnrolmentBody,
        response: { 200: SetAnswer },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, enrolmentKeepers, "登记就读状态");
      const body = request.body;
      const semester = requireSemester(body.semester);
      const result = await setEnrolment(
        prisma,
        principal,
        request.params.id,
        { semester, status: body.status, schoolId: body.schoolId ?? null, note: body.note ?? null },
        actorOf(principal),
      );
      markAudit(reply, "enrolment-set", [request.params.id]);
      return { changed: result.changed === 1, semester: semester.code, status: body.status };
    },
  );
}
