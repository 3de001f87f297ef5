import { z } from "zod";
import { contains } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import { ValidationError, markAudit, type ServiceApp } from "@shouhu/kit";
import { hasAnyRole, requireRole, type Principal } from "@shouhu/auth";
import type { PrismaClient } from "../data/db.js";
import { campaignChildren, campaignInView, createCampaign, listCampaigns, progress, recordReach, type ReachScope } from "../data/safety.js";
import { CampaignInput, ReachInput, SAFETY_TOPICS } from "../domain/homes.js";
import { campaignReaders, campaignSetters, reachRecorders, staffOf, teacherSchool } from "../access.js";

const IdParams = z.object({ id: z.uuid({ message: "专题教育编号格式不正确" }) });
const day = z.string().describe("YYYY-MM-DD");
const CampaignSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  topic: z.string(),
  description: z.string().nullable(),
  orgUnit: z.string(),
  orgUnitName: z.string().nullable(),
  deadline: day,
  createdName: z.string(),
  /** Children in the caller's view of the campaign, and how many of them were reached. */
  total: z.number(),
  reached: z.number(),
  overdue: z.boolean(),
});
const Group = z.object({ code: z.string(), name: z.string().nullable(), total: z.number(), reached: z.number() });
const ChildSchema = z.object({ id: z.uuid(), name: z.string(), villageCode: z.string(), schoolId: z.string().nullable(), reachedOn: day.nullable() });
const Detail = CampaignSchema.extend({
  villages: z.array(Group),
  schools: z.array(Group),
  /** Every child in view with the day reached; empty for inspectors (counts only). */
  children: z.array(ChildSchema),
});

const scopeFor = (principal: Principal): ReachScope => ({ orgUnit: principal.orgUnit, schoolId: teacherSchool(principal) });
/** Names of children: the roles that see them (need-to-know); inspectors get the counts. */
const seesNames = (principal: Principal) => hasAnyRole(principal, reachRecorders);

/** Safety-education campaigns (安全专题教育, e.g. 防溺水): set with a deadline, completion recorded per child by schools and villages. */
export function registerSafetyRoutes(app: ServiceApp, deps: { prisma: PrismaClient; now: () => Date }): void {
  const { prisma } = deps;
  const today = () => todayInChina(deps.now());
  const withOverdue = <T extends { deadline: string; total: number; reached: number }>(c: T) => ({
    ...c,
    overdue: c.deadline < today() && c.reached < c.total,
  });

  app.get(
    "/api/v1/safety-campaigns/topics",
    { schema: { tags: ["safety"], summary: "安全专题教育主题", response: { 200: z.object({ items: z.array(z.string()) }) } } },
    async () => ({
      items: [...SAFETY_TOPICS],
    }),
  );

  app.post(
    "/api/v1/safety-campaigns",
    { schema: { tags: ["safety"], summary: "布置安全专题教育（县或乡镇）", body: CampaignInput, response: { 201: z.object({ id: z.uuid() }) } } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, campaignSetters, "布置安全专题教育");
      if (!contains(principal.orgUnit, request.body.orgUnit)) throw ValidationError.field("orgUnit", "只能为本辖区布置专题教育");
      if (request.body.deadline < today()) throw ValidationError.field("deadline", `截止日期不能早于今天（${today()}）`);
      return reply.status(201).send({ id: await createCampaign(prisma, request.body, staffOf(principal)) });
    },
  );

  app.get(
    "/api/v1/safety-campaigns",
    { schema: { tags: ["safety"], summary: "安全专题教育列表（含本辖区完成进度）", response: { 200: z.object({ items: z.array(CampaignSchema) }) } } },
    async (request) => {
      const principal = request.principal!;
      requireRole(principal, campaignReaders, "查看安全专题教育");
      return { items: (await listCampaigns(prisma, scopeFor(principal))).map(withOverdue) };
    },
  );

  app.get(
    "/api/v1/safety-campaigns/:id",
    {
      schema: {
        tags: ["safety"],
        summary: "专题教育进度：按村、按学校，及未覆盖儿童",
        params: IdParams,
        querystring: z.object({
          unreached: z
            .enum(["true", "false"], { message: "未覆盖筛选应为 true 或 false" })
            .transform((v) => v === "true")
            .optional(),
        }),
        response: { 200: Detail },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, campaignReaders, "查看安全专题教育");
      const scope = scopeFor(principal);
      const campaign = await campaignInView(prisma, scope, request.params.id);
      const groups = await progress(prisma, scope, campaign);
      const children = seesNames(principal) ? await campaignChildren(prisma, scope, campaign, request.query.unreached ?? false) : [];
      markAudit(
        reply,
        "list",
        children.map((c) => c.id),
      );
      return { ...withOverdue(campaign), ...groups, children };
    },
  );

  app.post(
    "/api/v1/safety-campaigns/:id/reach",
    {
      schema: {
        tags: ["safety"],
        summary: "登记已完成教育的儿童",
        params: IdParams,
        body: ReachInput,
        response: { 200: z.object({ recorded: z.number(), already: z.number() }) },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, reachRecorders, "登记专题教育完成情况");
      const scope = scopeFor(principal);
      const campaign = await campaignInView(prisma, scope, request.params.id);
      if (request.body.date > today()) throw ValidationError.field("date", `日期不能晚于今天（${today()}）`);
      const result = await recordReach(prisma, scope, campaign, request.body, staffOf(principal));
      markAudit(reply, "update", request.body.childIds);
      return result;
    },
  );
}
