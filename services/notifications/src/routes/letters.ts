import { z } from "zod";
import { orgUnitCode } from "@shouhu/contracts";
import { ConflictError, ForbiddenError, NotFoundError, type ServiceApp } from "@shouhu/kit";
import { assertWithinJurisdiction, hasAnyRole, withinJurisdiction, type Principal } from "@shouhu/auth";
import type { PrismaClient } from "../data/db.js";
import {
  addressees,
  createLetter,
  getLetter,
  letterReach,
  letterVars,
  listLetters,
  markSending,
  schoolsIn,
  updateDraft,
  withdrawLetter,
  type LetterInput,
  type LetterRow,
} from "../data/letters.js";
import { LETTER_CATEGORIES, LETTER_SENDERS, LETTER_VARIABLES, renderLetter, unknownVariables } from "../domain/letters.js";

const text = (max: number, what: string) =>
  z
    .string({ message: `请填写${what}` })
    .trim()
    .min(1, `请填写${what}`)
    .max(max, `${what}不能超过${max}个字`);
const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, `不能超过${max}个字`)
    .nullish()
    .transform((v) => v || null);

const Scope = z
  .object({
    townshipCode: orgUnitCode(["township"], "应为9位乡镇代码"),
    schoolId: optionalText(40),
    grade: optionalText(20),
    className: optionalText(20),
  })
  .refine((s) => s.schoolId || (!s.grade && !s.className), { message: "选择班级前请先选择学校", path: ["schoolId"] });

const templateText = (max: number, what: string) =>
  text(max, what).superRefine((v, ctx) => {
    const unknown = unknownVariables(v);
    if (unknown.length)
      ctx.addIssue({
        code: "custom",
        message: `不认识的变量：${unknown.map((u) => `{${u}}`).join("、")}；可用：${LETTER_VARIABLES.map((x) => `{${x}}`).join("")}`,
      });
  });

const LetterBody = z.object({
  title: text(40, "标题").refine((v) => !/[{}]/.test(v), { message: "标题不能包含变量" }),
  body: templateText(3000, "正文"),
  signature: text(40, "落款"),
  scope: Scope,
  categories: z
    .array(z.enum(LETTER_CATEGORIES, { message: "应为 guardian（监护人）、father（父亲）或 mother（母亲）" }))
    .min(1, "请至少选择一类收信人")
    .max(3)
    .transform((c) => [...new Set(c)]),
});

const IdParams = z.object({ id: z.uuid({ message: "信件编号格式不正确" }) });
const SchoolsQuery = z.object({ townshipCode: orgUnitCode(["township"], "应为9位乡镇代码") });

const LetterResponse = z.object({
  id: z.string(),
  orgUnit: z.string(),
  title: z.string(),
  body: z.string(),
  signature: z.string(),
  scope: z.object({ townshipCode: z.string(), schoolId: z.string().nullish(), grade: z.string().nullish(), className: z.string().nullish() }),
  categories: z.array(z.string()),
  status: z.enum(["draft", "sending", "sent", "withdrawn"]),
  createdBy: z.string(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
  recipients: z.number().int(),
});
const LetterList = z.object({ items: z.array(LetterResponse) });
const PreviewResponse = z.object({
  recipients: z.number().int(),
  byCategory: z.record(z.string(), z.number().int()),
  sample: z.object({ to: z.string().nullable(), title: z.string(), body: z.string(), signature: z.string() }).nullable(),
  unreachable: z.array(
    z.object({
      childId: z.string(),
      childName: z.string(),
      schoolName: z.string().nullable(),
      classLabel: z.string().nullable(),
      missing: z.array(z.string()),
    }),
  ),
  unreachableTotal: z.number().int(),
});
const ReachCounts = {
  recipients: z.number().int(),
  sent: z.number().int(),
  delivered: z.number().int(),
  failed: z.number().int(),
  read: z.number().int(),
  held: z.number().int(),
};
const ReachResponse = z.object({
  letterId: z.string(),
  status: z.string(),
  schools: z.array(z.object({ schoolId: z.string().nullable(), schoolName: z.string().nullable(), ...ReachCounts })),
  total: z.object(ReachCounts),
});
const SchoolsResponse = z.object({
  schools: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      children: z.number().int(),
      classes: z.array(z.object({ grade: z.string().nullable(), className: z.string().nullable(), children: z.number().int() })),
    }),
  ),
});

function requireSender(principal: Principal): void {
  if (!hasAnyRole(principal, LETTER_SENDERS)) throw new ForbiddenError("当前角色无权发送致家长的一封信");
}

/** A letter outside the caller's area is as absent as one that does not exist (its existence is not theirs to learn). */
async function letterFor(prisma: PrismaClient, principal: Principal, id: string): Promise<LetterRow> {
  requireSender(principal);
  const letter = await getLetter(prisma, id);
  if (!letter || !withinJurisdiction(principal, letter.orgUnit)) throw new NotFoundError("信件", id);
  return letter;
}

const present = (l: LetterRow) => ({
  id: l.id,
  orgUnit: l.orgUnit,
  title: l.title,
  body: l.body,
  signature: l.signature,
  scope: l.scope,
  categories: l.categories,
  status: l.status,
  createdBy: l.createdBy,
  createdAt: l.createdAt.toISOString(),
  sentAt: l.sentAt?.toISOString() ?? null,
  recipients: l.recipients,
});

export interface LetterRouteDeps {
  prisma: PrismaClient;
  /** Puts a letter on the sending queue (jobs/letters.ts). */
  enqueueLetter: (letterId: string) => Promise<void>;
  now?: () => Date;
}

/** 致家长的一封信: compose, preview, send (a background job), withdraw, reach per school. */
export function registerLetterRoutes(app: ServiceApp, deps: LetterRouteDeps): void {
  const { prisma } = deps;
  const now = deps.now ?? (() => new Date());
  const checkScope = (principal: Principal, input: LetterInput) => {
    requireSender(principal);
    assertWithinJurisdiction(principal, input.scope.townshipCode);
  };

  app.get("/api/v1/letters", { schema: { tags: ["letters"], summary: "致家长的一封信：列表", response: { 200: LetterList } } }, async (request) => {
    requireSender(request.principal!);
    return { items: (await listLetters(prisma, request.principal!.orgUnit)).map(present) };
  });

  app.get(
    "/api/v1/letters/schools",
    { schema: { tags: ["letters"], summary: "乡镇内的学校与班级（选择收信范围）", querystring: SchoolsQuery, response: { 200: SchoolsResponse } } },
    async (request) => {
      requireSender(request.principal!);
      assertWithinJurisdiction(request.principal!, request.query.townshipCode);
      return { schools: await schoolsIn(prisma, request.query.townshipCode) };
    },
  );

  app.post(
    "/api/v1/letters",
    { schema: { tags: ["letters"], summary: "起草一封信", body: LetterBody, response: { 201: LetterResponse } } },
    async (request, reply) => {
      checkScope(request.principal!, request.body);
      return reply.status(201).send(present(await createLetter(prisma, request.body, request.principal!.username)));
    },
  );

  app.get("/api/v1/letters/:id", { schema: { tags: ["letters"], summary: "一封信", params: IdParams, response: { 200: LetterResponse } } }, async (request) =>
    present(await letterFor(prisma, request.principal!, request.params.id)),
  );

  app.put(
    "/api/v1/letters/:id",
    { schema: { tags: ["letters"], summary: "修改草稿", params: IdParams, body: LetterBody, response: { 200: LetterResponse } } },
    async (request) => {
      await letterFor(prisma, request.principal!, request.params.id);
      checkScope(request.principal!, request.body);
      const updated = await updateDraft(prisma, request.params.id, request.body);
      if (!updated) throw new ConflictError("LETTER_NOT_DRAFT", "信已发出，不能再修改");
      return present(updated);
    },
  );

  app.get(
    "/api/v1/letters/:id/preview",
    { schema: { tags: ["letters"], summary: "预览：收信人数、示例、无手机号的儿童", params: IdParams, response: { 200: PreviewResponse } } },
    async (request) => {
      const letter = await letterFor(prisma, request.principal!, request.params.id);
      const { to, unreachable } = await addressees(prisma, letter.scope, letter.categories);
      const byCategory: Record<string, number> = {};
      for (const a of to) byCategory[a.category] = (byCategory[a.category] ?? 0) + 1;
      const first = to[0];
      return {
        recipients: to.length,
        byCategory,
        sample: first ? { to: first.name, title: letter.title, body: renderLetter(letter.body, letterVars(first)), signature: letter.signature } : null,
        unreachable: unreachable.slice(0, 200),
        unreachableTotal: unreachable.length,
      };
    },
  );

  app.post(
    "/api/v1/letters/:id/send",
    { schema: { tags: ["letters"], summary: "发送（后台逐一生成短信，免打扰时段顺延）", params: IdParams, response: { 202: LetterResponse } } },
    async (request, reply) => {
      const letter = await letterFor(prisma, request.principal!, request.params.id);
      // The scope is checked again: a draft written by someone with a wider area is sent within the sender's own.
      assertWithinJurisdiction(request.principal!, letter.orgUnit);
      if (!(await markSending(prisma, letter.id, request.principal!.username))) throw new ConflictError("LETTER_NOT_DRAFT", "这封信已经发送过");
      await deps.enqueueLetter(letter.id);
      return reply.status(202).send(present((await getLetter(prisma, letter.id))!));
    },
  );

  app.post(
    "/api/v1/letters/:id/withdraw",
    { schema: { tags: ["letters"], summary: "撤回（链接失效；尚未发出的短信不再发送）", params: IdParams, response: { 200: LetterResponse } } },
    async (request) => {
      const letter = await letterFor(prisma, request.principal!, request.params.id);
      if (!(await withdrawLetter(prisma, letter.id))) throw new ConflictError("LETTER_NOT_SENT", "只有已发送的信可以撤回");
      return present((await getLetter(prisma, letter.id))!);
    },
  );

  app.get(
    "/api/v1/letters/:id/reach",
    { schema: { tags: ["letters"], summary: "送达与阅读情况（按学校）", params: IdParams, response: { 200: ReachResponse } } },
    async (request) => {
      const letter = await letterFor(prisma, request.principal!, request.params.id);
      const schools = await letterReach(prisma, letter.id, now());
      const total = { recipients: 0, sent: 0, delivered: 0, failed: 0, read: 0, held: 0 };
      for (const s of schools) for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += s[k];
      return { letterId: letter.id, status: letter.status, schools, total };
    },
  );
}
