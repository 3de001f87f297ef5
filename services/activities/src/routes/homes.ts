import { z } from "zod";
import { ActivityKind, contains, labels, orgUnitCode } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import { ForbiddenError, NotFoundError, ValidationError, markAudit, type ServiceApp } from "@shouhu/kit";
import { recordAccess, requireRole, type Principal } from "@shouhu/auth";
import type { PrismaClient } from "../data/db.js";
import {
  candidateChildren,
  createSite,
  listSessions,
  listSites,
  recordSession,
  retireSite,
  sessionsAttended,
  sessionsPerKind,
  siteChildren,
  siteHistory,
  siteInScope,
  updateSite,
} from "../data/homes.js";
import { photosOf } from "../data/photos.js";
import { PhotoResponse, presentPhoto, seesPhotos } from "./photos.js";
import { EQUIPMENT, RULES, SessionInput, SitePatch, SiteInput, checkSessionDate } from "../domain/homes.js";
import { scopeFor, siteKeepers, siteReaders, staffOf, teacherSchool } from "../access.js";

const IdParams = z.object({ id: z.uuid({ message: "儿童之家编号格式不正确" }) });
const ListQuery = z.object({
  orgUnit: orgUnitCode().optional(),
  status: z.enum(["active", "retired", "all"], { message: "状态应为 active、retired 或 all" }).default("active"),
  kind: z.enum(["village", "school"], { message: "类型应为 village 或 school" }).optional(),
  stale: z
    .enum(["true", "false"], { message: "停摆筛选应为 true 或 false" })
    .transform((v) => v === "true")
    .optional(),
});
const RetireBody = z.object({ reason: z.string().trim().min(1, "请填写撤销原因").max(500, "原因不超过500字") });

const day = z.string().describe("YYYY-MM-DD");
const Adult = z.object({ name: z.string(), duty: z.string(), phone: z.string().nullish() });
const SiteSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  kind: z.enum(["village", "school"]),
  orgUnit: z.string(),
  orgUnitName: z.string().nullable(),
  schoolId: z.string().nullable(),
  room: z.string().nullable(),
  equipment: z.array(z.string()),
  openingHours: z.string().nullable(),
  adults: z.array(Adult),
  rules: z.array(z.string()),
  plan: z.string().nullable(),
  status: z.enum(["active", "retired"]),
  createdOn: day,
  retiredAt: z.string().nullable(),
  childCount: z.number(),
  sessionCount: z.number(),
  /** Sessions in the last 30 days. */
  recentSessions: z.number(),
  lastActivity: day.nullable(),
  /** No activity for 30 days (停摆). */
  stale: z.boolean(),
});
const ChildSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  villageCode: z.string(),
  schoolId: z.string().nullable(),
  birthDate: day.nullable(),
  attended: z.number().optional(),
});
const SessionSchema = z.object({
  id: z.uuid(),
  date: day,
  kind: ActivityKind,
  kindLabel: z.string(),
  leader: z.string(),
  /** The written record; left out for inspectors (no narrative). */
  summary: z.string().optional(),
  recordedName: z.string(),
  attendanceCount: z.number(),
  attendance: z.array(z.object({ id: z.uuid(), name: z.string() })),
  /** Photos: kept by the attachments service (issue 21.1), not yet wired; always empty here. */
  photos: z.array(PhotoResponse),
});
const SiteDetail = SiteSchema.extend({
  children: z.array(ChildSchema),
  perKind: z.array(z.object({ kind: ActivityKind, kindLabel: z.string(), sessions: z.number(), attendances: z.number() })),
  history: z.array(z.object({ id: z.string(), action: z.string(), changes: z.unknown(), actorName: z.string(), at: z.string() })),
});
const Created = z.object({ id: z.uuid() });
const Options = z.object({
  equipment: z.array(z.string()),
  rules: z.array(z.string()),
  kinds: z.array(z.object({ value: ActivityKind, label: z.string() })),
});

/** 留守儿童之家: sites with the children they serve, and the activity sessions held there with attendance. */
export function registerHomeRoutes(app: ServiceApp, deps: { prisma: PrismaClient; now: () => Date; photos?: boolean }): void {
  const { prisma } = deps;
  const today = () => todayInChina(deps.now());
  /** all: names and summaries; summary: names, no narrative (inspectors); none: 403 (health workers). */
  const sessionAccess = (principal: Principal) => {
    requireRole(principal, siteReaders, "查看儿童之家");
    const level = recordAccess(principal, "visitRecords");
    if (level === "none") throw new ForbiddenError("当前角色无权查看儿童之家");
    return level === "summary" ? "summary" : "all";
  };
  const keep = (principal: Principal) => requireRole(principal, siteKeepers, "管理儿童之家");

  // Before /sites/:id in the file for the reader; find-my-way prefers the static segment either way.
  app.get(
    "/api/v1/sites/attended",
    {
      schema: {
        tags: ["homes"],
        summary: "某个儿童参加过的儿童之家活动（成长档案）",
        querystring: z.object({
          childId: z.uuid({ message: "儿童档案编号格式不正确" }),
          limit: z.coerce.number().int().min(1).max(500).default(200),
        }),
        response: {
          200: z.object({
            items: z.array(z.object({ id: z.uuid(), date: z.string(), kind: ActivityKind, kindLabel: z.string(), leader: z.string(), siteName: z.string() })),
          }),
        },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      sessionAccess(principal);
      const rows = await sessionsAttended(prisma, scopeFor(principal), request.query.childId, request.query.limit);
      // A child outside the caller's area answers as one that does not exist.
      if (!rows) throw new NotFoundError("儿童档案", request.query.childId);
      markAudit(reply, "list", [request.query.childId]);
      return { items: rows.map((r) => ({ ...r, kindLabel: labels.activityKind[r.kind] })) };
    },
  );

  app.get("/api/v1/sites/options", { schema: { tags: ["homes"], summary: "儿童之家的常用设施、制度与活动类型", response: { 200: Options } } }, async () => ({
    equipment: [...EQUIPMENT],
    rules: [...RULES],
    kinds: ActivityKind.options.map((value) => ({ value, label: labels.activityKind[value] })),
  }));

  app.get(
    "/api/v1/sites",
    {
      schema: {
        tags: ["homes"],
        summary: "儿童之家列表（含近30天活动次数与停摆标记）",
        querystring: ListQuery,
        response: { 200: z.object({ items: z.array(SiteSchema) }) },
      },
    },
    async (request) => {
      const principal = request.principal!;
      sessionAccess(principal);
      const q = request.query;
      return {
        items: await listSites(prisma, scopeFor(principal, q.orgUnit), { today: today(), status: q.status, stale: q.stale ?? null, kind: q.kind ?? null }),
      };
    },
  );

  app.post("/api/v1/sites", { schema: { tags: ["homes"], summary: "新建儿童之家", body: SiteInput, response: { 201: Created } } }, async (request, reply) => {
    const principal = request.principal!;
    keep(principal);
    const input = request.body;
    // Outside one's area: the place is refused as if it did not exist for the caller (403 naming the field, nothing stored).
    if (!contains(principal.orgUnit, input.orgUnit)) throw ValidationError.field("orgUnit", "只能在本辖区内设立儿童之家");
    const school = teacherSchool(principal);
    if (school && (input.kind !== "school" || input.schoolId !== school)) throw ValidationError.field("schoolId", "教师只能为本校设立儿童之家");
    const id = await createSite(prisma, input, staffOf(principal));
    markAudit(reply, "create", input.childIds);
    return reply.status(201).send({ id });
  });

  app.get(
    "/api/v1/sites/:id",
    { schema: { tags: ["homes"], summary: "儿童之家详情：服务儿童、各类活动次数、变更记录", params: IdParams, response: { 200: SiteDetail } } },
    async (request, reply) => {
      const principal = request.principal!;
      sessionAccess(principal);
      const site = await siteInScope(prisma, scopeFor(principal), request.params.id, today());
      const children = await siteChildren(prisma, site.id);
      const perKind = (await sessionsPerKind(prisma, site.id)).map((k) => ({ ...k, kindLabel: labels.activityKind[k.kind] }));
      const history = (await siteHistory(prisma, site.id)).map((h) => ({ ...h, at: new Date(h.at).toISOString() }));
      markAudit(
        reply,
        "read",
        children.map((c) => c.id),
      );
      return { ...site, children, perKind, history };
    },
  );

  app.patch(
    "/api/v1/sites/:id",
    { schema: { tags: ["homes"], summary: "修改儿童之家（设施、制度、负责人、服务儿童…）", params: IdParams, body: SitePatch } },
    async (request, reply) => {
      const principal = request.principal!;
      keep(principal);
      const site = await siteInScope(prisma, scopeFor(principal), request.params.id, today());
      await updateSite(prisma, site, request.body, staffOf(principal));
      markAudit(reply, "update", request.body.childIds ?? []);
      return { id: site.id };
    },
  );

  app.post(
    "/api/v1/sites/:id/retire",
    { schema: { tags: ["homes"], summary: "撤销儿童之家（保留记录）", params: IdParams, body: RetireBody } },
    async (request) => {
      const principal = request.principal!;
      keep(principal);
      const site = await siteInScope(prisma, scopeFor(principal), request.params.id, today());
      await retireSite(prisma, site, request.body.reason, staffOf(principal));
      return { id: site.id, status: "retired" };
    },
  );

  app.get(
    "/api/v1/sites/:id/candidates",
    {
      schema: {
        tags: ["homes"],
        summary: "可选服务儿童（本村或本校在册儿童）",
        params: IdParams,
        response: { 200: z.object({ items: z.array(ChildSchema) }) },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      keep(principal);
      const site = await siteInScope(prisma, scopeFor(principal), request.params.id, today());
      const items = await candidateChildren(prisma, site);
      markAudit(
        reply,
        "list",
        items.map((c) => c.id),
      );
      return { items };
    },
  );

  app.get(
    "/api/v1/sites/candidates",
    {
      schema: {
        tags: ["homes"],
        summary: "新建时可选服务儿童",
        querystring: z.object({
          orgUnit: orgUnitCode(["township", "village"]),
          schoolId: z
            .string()
            .regex(/^[A-Za-z0-9]{1,32}$/, "学校代码应为1–32位字母或数字")
            .optional(),
        }),
        response: { 200: z.object({ items: z.array(ChildSchema) }) },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      keep(principal);
      const { orgUnit, schoolId } = request.query;
      if (!contains(principal.orgUnit, orgUnit)) throw ValidationError.field("orgUnit", "只能选择本辖区内的村或乡镇");
      if (orgUnit.length === 9 && !schoolId) throw ValidationError.field("schoolId", "学校儿童之家请选择学校");
      const school = teacherSchool(principal);
      if (school && schoolId !== school) throw ValidationError.field("schoolId", "教师只能选择本校儿童");
      const items = await candidateChildren(prisma, { kind: schoolId ? "school" : "village", orgUnit, schoolId: schoolId ?? null });
      markAudit(
        reply,
        "list",
        items.map((c) => c.id),
      );
      return { items };
    },
  );

  app.get(
    "/api/v1/sites/:id/sessions",
    {
      schema: {
        tags: ["homes"],
        summary: "儿童之家活动记录（含签到）",
        params: IdParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
        response: { 200: z.object({ items: z.array(SessionSchema) }) },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const access = sessionAccess(principal);
      const site = await siteInScope(prisma, scopeFor(principal), request.params.id, today());
      const rows = await listSessions(prisma, site.id, request.query.limit);
      markAudit(reply, "list", [...new Set(rows.flatMap((r) => r.attendance.map((a) => a.id)))]);
      // Photos with the written record: not for inspectors (routes/photos.ts seesPhotos).
      const photos =
        deps.photos && seesPhotos(principal)
          ? await photosOf(
              prisma,
              rows.map((r) => r.id),
            )
          : [];
      return {
        items: rows.map((r) => ({
          ...r,
          summary: access === "all" ? r.summary : undefined,
          kindLabel: labels.activityKind[r.kind],
          attendanceCount: r.attendance.length,
          photos: photos.filter((p) => p.sessionId === r.id).map(presentPhoto),
        })),
      };
    },
  );

  app.post(
    "/api/v1/sites/:id/sessions",
    {
      schema: {
        tags: ["homes"],
        summary: "登记一次活动（日期、类型、组织人、签到、文字记录）",
        params: IdParams,
        body: SessionInput,
        response: { 201: Created },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      keep(principal);
      const site = await siteInScope(prisma, scopeFor(principal), request.params.id, today());
      const issue = checkSessionDate(request.body.date, today());
      if (issue) throw new ValidationError([issue]);
      const id = await recordSession(prisma, site, request.body, staffOf(principal), deps.now());
      markAudit(reply, "update", request.body.attendance);
      return reply.status(201).send({ id });
    },
  );
}
