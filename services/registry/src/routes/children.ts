import type pg from "pg";
import { z } from "zod";
import { ChildStatus, ExitReason } from "@shouhu/contracts";
import { ValidationError, markAudit, type ServiceApp } from "@shouhu/kit";
import { actorOf, childView, type Principal, requireRole } from "@shouhu/auth";
import { ChildInput, ChildPatch, validateChildInput, validateChildPatch } from "../domain/child.js";
import { historyFieldLevel, presentChild } from "../domain/present.js";
import type { ChildRecord } from "../domain/child-record.js";
import { todayInChina } from "@shouhu/cn";
import { DuplicateChildError, changeStatus, createChild, duplicateFor, updateChild } from "../data/children.js";
import { childCounts, childHistory, getVisibleChild, getVisibleChildAndView, listChildren } from "../data/queries.js";
import { contactCard } from "../data/contact-card.js";
import type { PrismaClient } from "../data/db.js";
import { ChildFilterFields } from "./exports.js";
import { registrars, requireWithin } from "./permissions.js";
import { ChildCounts, ChildPage, ChildResponse } from "./schemas.js";

export interface ChildRoutesDeps {
  prisma: PrismaClient;
  /** Plain pg pool for single-child reads (one prepared statement); without it Prisma runs the same SQL. */
  pool?: pg.Pool;
  now: () => Date;
}

/** The child as this caller may see it (need-to-know table); `paired`: the caller is its current helper. */
const show = (principal: Principal, child: ChildRecord, paired = false) => presentChild(child, childView(principal, { paired }));

const IdParams = z.object({ id: z.uuid({ message: "儿童档案编号格式不正确" }) });

const ListQuery = z.object({
  ...ChildFilterFields,
  q: z.string().min(1).max(40).optional(),
  paired: z
    .enum(["true", "false"], { message: "paired 应为 true 或 false" })
    .transform((v) => v === "true")
    .optional(),
  cursor: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const StatusBody = z.object({
  status: ChildStatus,
  reason: ExitReason.nullish(),
  note: z.string().max(500).nullish(),
});

/** GET /children/:id/history (data/queries.ts childHistory, masked per view); documented so the console's types are generated. */
const HistoryResponse = z.object({
  childId: z.uuid(),
  items: z.array(
    z.object({
      revision: z.number().int(),
      action: z.enum(["created", "updated", "status_changed", "promoted", "school_assigned", "transferred"]),
      actor: z.object({ id: z.string(), name: z.string().nullable(), role: z.string().nullable() }),
      reason: z.string().nullable(),
      at: z.string(),
      changes: z.array(z.object({ field: z.string(), before: z.unknown(), after: z.unknown() })),
    }),
  ),
});

/** GET /children/:id/contact-card (data/contact-card.ts); nullish where stored JSON may lack a key. */
const ContactHelper = z.object({
  name: z.string(),
  phone: z.string().nullish(),
  helperKind: z.string().optional(),
  helperKindLabel: z.string().optional(),
  since: z.string().optional(),
  source: z.enum(["pairing", "register"]),
});
const ContactCardResponse = z.object({
  child: z.object({
    id: z.uuid(),
    name: z.string(),
    sex: z.enum(["male", "female"]),
    sexLabel: z.string(),
    birthDate: z.string(),
    idNumber: z.string().nullable(),
    status: ChildStatus,
    leftBehindType: z.string(),
    leftBehindTypeLabel: z.string(),
    riskLevel: z.enum(["low", "medium", "high"]),
  }),
  address: z.object({ villageCode: z.string(), village: z.string().nullable(), township: z.string().nullable(), detail: z.string().nullish() }),
  school: z.object({ id: z.string(), name: z.string().nullish(), grade: z.string().nullish(), className: z.string().nullish() }).nullable(),
  guardians: z.array(
    z.object({ name: z.string(), relation: z.string(), phone: z.string().nullish(), age: z.number().nullish(), health: z.string().nullish() }),
  ),
  parents: z.array(
    z.object({
      role: z.enum(["father", "mother"]),
      name: z.string().nullish(),
      phone: z.string().nullish(),
      workProvince: z.string().nullish(),
      workCity: z.string().nullish(),
      employer: z.string().nullish(),
      awaySince: z.string().nullish(),
    }),
  ),
  helper: ContactHelper.nullable(),
  /** The secondary helper (协助帮扶人), beside the primary. */
  assistantHelper: ContactHelper.nullable(),
  peerBuddy: ContactHelper.nullable(),
});

const PatchBody = z.object({ revision: z.number().int().positive().optional() }).catchall(z.unknown());

/** A duplicate ID number, told to this caller only as far as their jurisdiction reaches. */
const rethrowDuplicateFor =
  (principal: Principal) =>
  (err: unknown): never => {
    throw err instanceof DuplicateChildError ? duplicateFor(principal.orgUnit, err) : err;
  };

export function registerChildRoutes(app: ServiceApp, deps: ChildRoutesDeps): void {
  const { prisma } = deps;
  const reads = { prisma, pool: deps.pool };
  const today = () => todayInChina(deps.now());

  app.post(
    "/api/v1/children",
    { schema: { tags: ["children"], summary: "建档：登记一名儿童", body: ChildInput, response: { 201: ChildResponse } } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, registrars, "建档");
      const input = validateChildInput(request.body, today());
      if (!input.ok) throw new ValidationError(input.issues);
      requireWithin(principal, input.value.villageCode);
      const child = await createChild(prisma, input.value, actorOf(principal)).catch(rethrowDuplicateFor(principal));
      markAudit(reply, "create", [child.id]);
      return reply.status(201).send(show(principal, child));
    },
  );

  app.get(
    "/api/v1/children",
    { schema: { tags: ["children"], summary: "查询儿童名册（游标分页）", querystring: ListQuery, response: { 200: ChildPage } } },
    async (request, reply) => {
      const principal = request.principal!;
      // Searching by ID number only for those who see it whole: a search is an oracle too.
      const page = await listChildren(prisma, principal, request.query, childView(principal).idNumber === "full");
      markAudit(
        reply,
        "list",
        page.items.map((c) => c.id),
      );
      return { items: page.items.map((c) => show(principal, c, page.pairedIds.has(c.id))), nextCursor: page.nextCursor };
    },
  );

  // Counts only, no child's data: every role may see how many children its jurisdiction holds.
  app.get(
    "/api/v1/children/counts",
    { schema: { tags: ["children"], summary: "辖区在册儿童数（按风险等级、留守类型）", response: { 200: ChildCounts } } },
    async (request) => childCounts(prisma, request.principal!),
  );

  app.get(
    "/api/v1/children/:id",
    // The hottest read: one request span, not one per hook and handler too (~6 % of its CPU).
    {
      schema: { tags: ["children"], summary: "查看儿童档案", params: IdParams, response: { 200: ChildResponse } },
      config: { otel: { instrumentHooks: false, instrumentHandler: false } },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const { child, view } = await getVisibleChildAndView(reads, principal, request.params.id);
      markAudit(reply, "read", [child.id]);
      return presentChild(child, view);
    },
  );

  app.patch(
    "/api/v1/children/:id",
    {
      schema: {
        tags: ["children"],
        summary: "修改儿童档案（动态管理，保留修改记录）",
        params: IdParams,
        body: ChildPatch.extend({ revision: z.number().int().positive().optional() }),
        response: { 200: ChildResponse },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, registrars, "修改档案");
      const current = await getVisibleChild(reads, principal, request.params.id);
      const { revision, ...raw } = PatchBody.parse(request.body);
      const patch = validateChildPatch(raw, current, today());
      if (!patch.ok) throw new ValidationError(patch.issues);
      if (patch.value.villageCode) requireWithin(principal, patch.value.villageCode);
      const { child } = await updateChild(prisma, current.id, patch.value, actorOf(principal), revision).catch(rethrowDuplicateFor(principal));
      markAudit(reply, "update", [child.id]);
      return show(principal, child);
    },
  );

  app.post(
    "/api/v1/children/:id/status",
    { schema: { tags: ["children"], summary: "变更在册状态（退出/恢复），须说明原因", params: IdParams, body: StatusBody, response: { 200: ChildResponse } } },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, registrars, "变更状态");
      const current = await getVisibleChild(reads, principal, request.params.id);
      const child = await changeStatus(prisma, current.id, request.body, actorOf(principal), today());
      markAudit(reply, "status-change", [child.id]);
      return show(principal, child);
    },
  );

  app.get(
    "/api/v1/children/:id/history",
    { schema: { tags: ["children"], summary: "档案修改记录", params: IdParams, response: { 200: HistoryResponse } } },
    async (request, reply) => {
      const principal = request.principal!;
      const { child, view } = await getVisibleChildAndView(reads, principal, request.params.id);
      markAudit(reply, "history", [child.id]);
      // History must not leak what the current view withholds or masks.
      const items = (await childHistory(prisma, child.id)).map((h) => ({
        ...h,
        changes: h.changes.map((c) => (historyFieldLevel(view, c.field) === "full" ? c : { field: c.field, before: "***", after: "***" })),
      }));
      return { childId: child.id, items };
    },
  );

  app.get(
    "/api/v1/children/:id/contact-card",
    {
      schema: {
        tags: ["children"],
        summary: "联系卡：儿童、监护人、父母、学校、结对帮扶人与手拉手伙伴",
        params: IdParams,
        response: { 200: ContactCardResponse },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      const { child, view } = await getVisibleChildAndView(reads, principal, request.params.id);
      markAudit(reply, "contact-card", [child.id]);
      return contactCard(reads, presentChild(child, view), view);
    },
  );
}
