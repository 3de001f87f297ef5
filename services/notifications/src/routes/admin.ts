import { z } from "zod";
import { NotificationChannel, jobQueues, contains, orgUnitCode } from "@shouhu/contracts";
import { ConflictError, ForbiddenError, NotFoundError, type ServiceApp } from "@shouhu/kit";
import { Queue } from "bullmq";
import { assertWithinJurisdiction, hasAnyRole, type Principal } from "@shouhu/auth";
import { listDeadLetters, replayDeadLetters, type DeadLetterOptions } from "@shouhu/messaging";
import type { PrismaClient } from "../data/db.js";
import { decideUnknown } from "../data/delivery.js";
import { findMessage, listMessages, markForDispatch, messagesWithin, requeueFailed } from "../data/message-admin.js";

const MessagesQuery = z.object({
  status: z.enum(["queued", "sending", "sent", "failed", "unknown", "read"]).optional(),
  channel: NotificationChannel.optional(),
  sourceEventType: z.string().max(40).optional(),
  childId: z.uuid().optional(),
  orgUnit: orgUnitCode().optional(),
  cursor: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
const ReplayBody = z.object({ ids: z.array(z.string().min(1)).max(1000).optional() });
const MessageParams = z.object({ id: z.uuid({ message: "消息编号格式不正确" }) });
const DecisionBody = z.object({ decision: z.enum(["resend", "mark-sent"], { message: "应为 resend（重发）或 mark-sent（确认已送达）" }) });

function requireCountyAdmin(principal: Principal): void {
  if (!hasAnyRole(principal, ["county-admin"])) throw new ForbiddenError("只有县级管理员可以查看消息发送情况");
}

/** Delivery status and dead letters: for county admins. */
export function registerAdminRoutes(app: ServiceApp, deps: { prisma: PrismaClient; deadLetters: DeadLetterOptions }): void {
  const { prisma } = deps;

  /**
   * The dead letters of messages about the admin's own county: the queue holds every
   * county's, and an admin may neither read nor replay another county's messages.
   */
  async function lettersOfCounty(principal: Principal) {
    // Filtered page by page, so other counties' letters cannot crowd this county's out of the list.
    return listDeadLetters(jobQueues.notificationsDeliver, {
      ...deps.deadLetters,
      filter: async (letters) => {
        const ids = letters.map((l) => (l.data as { messageId: string }).messageId);
        const mine = await messagesWithin(prisma, ids, principal.orgUnit);
        return letters.filter((l) => mine.has((l.data as { messageId: string }).messageId));
      },
    });
  }

  app.get(
    "/api/v1/notifications/messages",
    { schema: { tags: ["notifications"], summary: "消息发送状态（排队、已发送、失败、已读）", querystring: MessagesQuery } },
    async (request) => {
      const principal = request.principal!;
      requireCountyAdmin(principal);
      const q = request.query;
      if (q.orgUnit) assertWithinJurisdiction(principal, q.orgUnit);
      const rows = await listMessages(prisma, {
        orgUnit: q.orgUnit ?? principal.orgUnit,
        status: q.status ?? null,
        channel: q.channel ?? null,
        sourceEventType: q.sourceEventType ?? null,
        childId: q.childId ?? null,
        cursor: q.cursor ?? null,
        limit: q.limit,
      });
      const more = rows.length > q.limit;
      const items = more ? rows.slice(0, q.limit) : rows;
      return { items, nextCursor: more ? items[items.length - 1]!.id : null };
    },
  );

  app.get("/api/v1/notifications/dead-letters", { schema: { tags: ["notifications"], summary: "发送失败（死信）的消息及原因" } }, async (request) => {
    const principal = request.principal!;
    requireCountyAdmin(principal);
    const letters = await lettersOfCounty(principal);
    return {
      items: letters.map((l) => ({
        id: l.id,
        messageId: (l.data as { messageId: string }).messageId,
        reason: l.reason,
        attempts: l.attempts,
        failedAt: l.failedAt,
      })),
    };
  });

  app.post(
    "/api/v1/notifications/dead-letters/replay",
    { schema: { tags: ["notifications"], summary: "重新发送死信（修复原因后）", body: ReplayBody } },
    async (request) => {
      const principal = request.principal!;
      requireCountyAdmin(principal);
      const letters = await lettersOfCounty(principal);
      const chosen = request.body.ids ? letters.filter((l) => request.body.ids!.includes(l.id)) : letters;
      const messageIds = chosen.map((l) => (l.data as { messageId: string }).messageId);
      // Failed messages go back to the queue state the worker sends from.
      await requeueFailed(prisma, messageIds);
      const replayed = await replayDeadLetters(jobQueues.notificationsDeliver, { ...deps.deadLetters, ids: chosen.map((l) => l.id) });
      return { replayed };
    },
  );

  // 发送结果未知: the send may have reached the provider (a timeout, a crash mid-send). It is
  // never retried by itself; the county admin resends it or confirms it arrived.
  app.post(
    "/api/v1/notifications/messages/:id/decision",
    { schema: { tags: ["notifications"], summary: "处理发送结果未知的消息：重发或确认已送达", params: MessageParams, body: DecisionBody } },
    async (request) => {
      const principal = request.principal!;
      requireCountyAdmin(principal);
      const message = await findMessage(prisma, request.params.id);
      if (!message || !contains(principal.orgUnit, message.orgUnit)) throw new NotFoundError("消息", request.params.id);
      if (message.status !== "unknown") throw new ConflictError("NOT_UNKNOWN", "只有“发送结果未知”的消息需要人工处理");
      if (request.body.decision === "resend") {
        // The finished job keeps the message id as its job id; it goes, so the dispatcher can add the resend.
        const queue = new Queue(jobQueues.notificationsDeliver, { connection: deps.deadLetters.connection, prefix: deps.deadLetters.prefix });
        queue.on("error", () => undefined);
        try {
          await queue.remove(message.id);
        } finally {
          await queue.close();
        }
      }
      await decideUnknown(prisma, message.id, request.body.decision, principal.name || principal.username);
      if (request.body.decision === "resend") await markForDispatch(prisma, message.id);
      return { id: message.id, status: request.body.decision === "resend" ? "queued" : "sent" };
    },
  );
}
