import { z } from "zod";
import { ConcernCategory, contains, labels, type Role } from "@shouhu/contracts";
import { todayInChina } from "@shouhu/cn";
import { AppError, ConflictError, NotFoundError, ValidationError, markAudit, type ServiceApp } from "@shouhu/kit";
import { maskPhone, mintTaskLink, requireRole, verifyTaskLink, type TaskLinkClaims } from "@shouhu/auth";
import { visitorOf } from "./permissions.js";
import type { PrismaClient } from "../data/db.js";
import { checkFollowUp, checkRecordDate, type RecordInput } from "../domain/record.js";
import {
  ItemNotOpenError,
  LinkUsedError,
  auditLinkUse,
  itemForLink,
  linkTarget,
  recordByLink,
  requestLinkSms,
  type LinkAction,
  type LinkOutcome,
  type LinkTarget,
} from "../data/task-links.js";

export interface TaskLinkOptions {
  /** TASK_LINK_SECRET, shared with notifications (which mints the links it sends); empty: no link is valid. */
  secret: string;
  ttlHours: number;
  /** The console's public origin: links read `${baseUrl}/t/<token>`. */
  baseUrl: string;
}

export interface TaskLinkRoutesDeps {
  prisma: PrismaClient;
  now: () => Date;
  backdateDays: number;
  links: TaskLinkOptions;
}

/** Who may hand a link to a proxy parent: the people who answer for the child's visits being done. */
export const taskLinkIssuers: readonly Role[] = ["county-admin", "township-supervisor", "village-director"];

/**
 * The token as a wildcard, not a `:token` parameter: Fastify answers a parameter over 100 characters with its own
 * 414 before any handler (neither our error shape nor audited); a wildcard reaches the handler, which refuses it.
 */
const Token = z.object({ "*": z.string().describe("短信链接中的令牌") });
const tokenOf = (params: { "*": string }) => params["*"];

/** What a proxy parent may write: one visit or call, no location, no other child, no other item. */
const LinkRecordInput = z
  .object({
    date: z.iso.date("日期格式应为 YYYY-MM-DD"),
    durationMinutes: z
      .number()
      .int()
      .min(1, "时长至少1分钟")
      .max(24 * 60, "时长不超过24小时")
      .nullish(),
    /** Who was met, or which parent spoke on the phone. */
    metWith: z.string().trim().min(1, "请填写见到了谁（或和谁通了电话）").max(200),
    /** How it went, in the helper's words. */
    howItWent: z.string().trim().max(1000).nullish(),
    followUpNeeded: z.boolean().default(false),
    followUpNote: z.string().trim().max(1000).nullish(),
    /** A safety or abuse suspicion: opens a concern case at once (强制报告), as on any record. */
    concern: z.object({ category: ConcernCategory, description: z.string().trim().min(1, "请描述发现的情况").max(2000) }).nullish(),
  })
  .strict();

const day = z.string().describe("YYYY-MM-DD");
const LinkView = z.object({
  childName: z.string(),
  villageName: z.string(),
  kind: z.string(),
  kindLabel: z.string(),
  period: z.string(),
  dueDate: day,
  helperName: z.string(),
  /** The dates the form accepts. */
  earliestDate: day,
  today: day,
  expiresAt: z.string(),
});
const LinkRecorded = z.object({ kindLabel: z.string(), date: day, onTime: z.boolean(), concernRaised: z.boolean() });
const IssuedLink = z.object({ url: z.string(), expiresAt: z.string() });
const LinkSent = z.object({ sent: z.literal(true), to: z.string().describe("手机号（脱敏）") });

/** What the link checks read of a request (its headers and socket address). */
type LinkRequest = { headers: Record<string, string | string[] | undefined>; ip: string };

/** The caller's address as the gateway saw it (it sets x-forwarded-for on token-less routes), else the socket's. */
function sourceOf(request: LinkRequest): string | null {
  const xff = request.headers["x-forwarded-for"];
  const first = (Array.isArray(xff) ? xff[0] : xff)?.split(",")[0]?.trim();
  return first || request.ip || null;
}

/** 404 says nothing about why (forged, garbled, another service's): the page only says the link is not valid. */
const invalid = () => new AppError(404, "LINK_INVALID", "链接无效，请检查短信中的链接是否完整");
const refusals: Record<Exclude<LinkOutcome, "ok" | "invalid" | "bad_input">, () => AppError> = {
  expired: () => new AppError(410, "LINK_EXPIRED", "链接已过期。如还需登记，请联系村儿童主任或乡镇工作人员重新发送"),
  used: () => new AppError(410, "LINK_USED", "此链接已使用过，记录已提交，无需再填"),
  gone: () => new AppError(410, "LINK_GONE", "此事项已不由您负责或已取消，链接已失效"),
  done: () => new ConflictError("ALREADY_DONE", "此事项已有人登记完成，无需再填"),
};

/** The end of a link's life: its TTL, but never past the day its item is escalated to the township. */
function linkExpiry(now: Date, ttlHours: number, escalateOn: string): Date {
  return new Date(Math.min(now.getTime() + ttlHours * 3600_000, Date.parse(`${escalateOn}T00:00:00+08:00`)));
}

export function registerTaskLinkRoutes(app: ServiceApp, deps: TaskLinkRoutesDeps): void {
  const { prisma, now, links } = deps;

  /** Verifies the token and its item; every refusal is audited before it is thrown. */
  async function resolve(request: LinkRequest, token: string, action: LinkAction): Promise<{ claims: TaskLinkClaims; target: LinkTarget; at: Date }> {
    const at = now();
    const address = sourceOf(request);
    const check = verifyTaskLink(links.secret, token, at);
    const refuse = async (outcome: LinkOutcome, claims: TaskLinkClaims | null, error: AppError): Promise<never> => {
      await auditLinkUse(prisma, {
        tokenId: claims?.tokenId ?? null,
        itemId: claims?.itemId ?? null,
        childId: claims?.childId ?? null,
        action,
        outcome,
        address,
        at,
      });
      throw error;
    };
    if (!check.ok) return check.reason === "expired" ? refuse("expired", check.claims, refusals.expired()) : refuse("invalid", null, invalid());
    const { claims } = check;
    const target = await linkTarget(prisma, claims);
    if (!target) return refuse("invalid", claims, invalid());
    if (target.used) return refuse("used", claims, refusals.used());
    if (todayInChina(at) >= target.escalateOn) return refuse("expired", claims, refusals.expired());
    if (target.status === "done") return refuse("done", claims, refusals.done());
    if (target.status !== "open" || target.child.status !== "active" || target.helperId !== claims.helperId) return refuse("gone", claims, refusals.gone());
    return { claims, target, at };
  }

  app.get(
    "/api/v1/public/task-links/*",
    {
      schema: {
        tags: ["task-links"],
        summary: "打开一次性填报链接（无需登录）",
        description: "短信中的签名链接：只回答填报页所需（儿童姓名、村、事项、应完成日期、帮扶人姓名）。链接无效 404，过期或已使用 410，已由他人完成 409。",
        params: Token,
        response: { 200: LinkView },
      },
    },
    async (request, reply) => {
      const { claims, target, at } = await resolve(request, tokenOf(request.params), "open");
      await auditLinkUse(prisma, {
        tokenId: claims.tokenId,
        itemId: claims.itemId,
        childId: claims.childId,
        action: "open",
        outcome: "ok",
        address: sourceOf(request),
        at,
      });
      const today = todayInChina(at);
      const backdated = new Date(Date.parse(`${today}T00:00:00Z`) - deps.backdateDays * 86_400_000).toISOString().slice(0, 10);
      markAudit(reply, "read", [target.child.id]);
      return {
        childName: target.child.name,
        villageName: target.villageName ?? target.child.villageCode,
        kind: target.kind,
        kindLabel: labels.visitKind[target.kind],
        period: target.period,
        dueDate: target.dueDate,
        helperName: target.helperName ?? "",
        earliestDate: target.periodStart > backdated ? target.periodStart : backdated,
        today,
        // The link ends at its own expiry or its item's escalation, whichever comes first.
        expiresAt: new Date(Math.min(claims.exp * 1000, Date.parse(`${target.escalateOn}T00:00:00+08:00`))).toISOString(),
      };
    },
  );

  app.post(
    "/api/v1/public/task-links/*",
    {
      // Bad input is audited too: validated in the handler, after the link.
      attachValidation: true,
      schema: {
        tags: ["task-links"],
        summary: "通过一次性链接登记走访或亲情电话（无需登录）",
        description: "以该帮扶人的名义登记、完成链接所指的事项；链接随即失效（再次提交 410，不会重复登记）。发现安全问题即开启关注事项（强制报告）。",
        params: Token,
        body: LinkRecordInput,
        response: { 201: LinkRecorded },
      },
    },
    async (request, reply) => {
      const { claims, target, at } = await resolve(request, tokenOf(request.params as { "*": string }), "submit");
      const address = sourceOf(request);
      const badInput = async (error: Error): Promise<never> => {
        await auditLinkUse(prisma, {
          tokenId: claims.tokenId,
          itemId: claims.itemId,
          childId: claims.childId,
          action: "submit",
          outcome: "bad_input",
          address,
          at,
        });
        throw error;
      };
      if (request.validationError) return badInput(request.validationError);
      const body = request.body;
      const issues = [checkRecordDate(body.date, todayInChina(at), deps.backdateDays)].filter((i) => i !== null);
      if (!issues.length && body.date < target.periodStart) issues.push({ field: "date", message: `日期应在本期开始（${target.periodStart}）之后` });
      const input: RecordInput = {
        childId: target.child.id,
        kind: target.kind,
        date: body.date,
        durationMinutes: body.durationMinutes ?? null,
        findings: { metWith: body.metWith, mood: body.howItWent ?? null },
        followUpNeeded: body.followUpNeeded,
        followUpNote: body.followUpNote ?? null,
        concern: body.concern ?? null,
      };
      const followUp = checkFollowUp(input);
      if (followUp) issues.push(followUp);
      if (issues.length) return badInput(new ValidationError(issues));
      const visitorId = `task-link:${claims.helperId}`;
      const name = target.helperName ?? "代理家长";
      let result;
      try {
        result = await recordByLink(
          prisma,
          claims,
          target,
          input,
          { userId: visitorId, name, actor: { kind: "user", id: visitorId, name, role: "proxy-parent" } },
          at,
        );
      } catch (err) {
        const outcome = err instanceof LinkUsedError ? "used" : err instanceof ItemNotOpenError ? "done" : null;
        if (!outcome) throw err;
        await auditLinkUse(prisma, { tokenId: claims.tokenId, itemId: claims.itemId, childId: claims.childId, action: "submit", outcome, address, at });
        throw refusals[outcome]();
      }
      await auditLinkUse(prisma, { tokenId: claims.tokenId, itemId: claims.itemId, childId: claims.childId, action: "submit", outcome: "ok", address, at });
      markAudit(reply, "create", [target.child.id]);
      return reply
        .status(201)
        .send({ kindLabel: labels.visitKind[target.kind], date: input.date, onTime: result.satisfied.onTime, concernRaised: result.concernId !== null });
    },
  );

  app.post(
    "/api/v1/task-links",
    {
      schema: {
        tags: ["task-links"],
        summary: "为无账号的帮扶人（代理家长等）生成或短信发送一次性填报链接",
        description:
          "仅限负责人没有系统账号的待办事项。`send: false`（默认）回答链接一次（201，不保存），由工作人员转发；" +
          "`send: true` 由通知服务生成链接并短信发送给该帮扶人（202，链接不经过本接口），需登记了手机号。",
        body: z.object({ itemId: z.uuid({ message: "事项编号格式不正确" }), send: z.boolean().default(false) }),
        response: { 201: IssuedLink, 202: LinkSent },
      },
    },
    async (request, reply) => {
      const principal = request.principal!;
      requireRole(principal, [...taskLinkIssuers], "生成填报链接");
      const at = now();
      const item = await itemForLink(prisma, request.body.itemId);
      if (!item || !contains(principal.orgUnit, item.child.villageCode)) throw new NotFoundError("事项", request.body.itemId);
      if (item.status !== "open") throw new ConflictError("ITEM_NOT_OPEN", "该事项已完成或已取消，无需发送链接", { field: "itemId" });
      const helperId = item.helperId;
      if (!helperId || item.helperUsername)
        throw new ConflictError("HELPER_HAS_ACCOUNT", "该事项的负责人有系统账号（或由村儿童主任负责），请在系统中登记", { field: "itemId" });
      if (!links.secret) throw new ConflictError("LINKS_DISABLED", "未配置填报链接（TASK_LINK_SECRET），无法生成");
      const expiresAt = linkExpiry(at, links.ttlHours, item.escalateOn);
      if (expiresAt <= at) throw new ConflictError("ITEM_ESCALATED", "该事项已上报乡镇督办，不能再发送填报链接", { field: "itemId" });
      markAudit(reply, "create", [item.child.id]);
      if (request.body.send) {
        if (!item.helperPhone)
          throw new ConflictError("NO_PHONE", `${item.helperName ?? "该帮扶人"}没有登记手机号，无法短信发送；请生成链接后转交`, { field: "send" });
        await requestLinkSms(prisma, { ...item, helperId }, visitorOf(principal), at, sourceOf(request));
        return reply.status(202).send({ sent: true as const, to: maskPhone(item.helperPhone) });
      }
      const minted = mintTaskLink(links.secret, { itemId: item.itemId, childId: item.child.id, helperId, expiresAt });
      await auditLinkUse(prisma, {
        tokenId: minted.tokenId,
        itemId: item.itemId,
        childId: item.child.id,
        action: "issue",
        outcome: "ok",
        address: sourceOf(request),
        at,
      });
      return reply.status(201).send({ url: `${links.baseUrl.replace(/\/+$/, "")}/t/${minted.token}`, expiresAt: minted.expiresAt.toISOString() });
    },
  );
}
