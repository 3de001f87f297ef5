import { z } from "zod";
import { NotFoundError, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { inboxPage, markAllRead, markRead, unreadCount } from "../data/inbox.js";

const ListQuery = z.object({
  unread: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional(),
  cursor: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const IdParams = z.object({ id: z.uuid({ message: "消息编号格式不正确" }) });

/** The signed-in user's own in-app messages: nobody reads another's inbox, whatever their role. */
export function registerInboxRoutes(app: ServiceApp, prisma: PrismaClient): void {
  app.get("/api/v1/inbox", { schema: { tags: ["inbox"], summary: "我的站内消息", querystring: ListQuery } }, async (request) => {
    const { username } = request.principal!;
    const q = request.query;
    const rows = await inboxPage(prisma, username, { unread: q.unread ?? null, cursor: q.cursor ?? null, limit: q.limit });
    const more = rows.length > q.limit;
    const items = more ? rows.slice(0, q.limit) : rows;
    return { unread: await unreadCount(prisma, username), items, nextCursor: more ? items[items.length - 1]!.id : null };
  });

  app.post("/api/v1/inbox/:id/read", { schema: { tags: ["inbox"], summary: "标记为已读", params: IdParams } }, async (request) => {
    const read = await markRead(prisma, request.principal!.username, request.params.id);
    if (!read) throw new NotFoundError("消息", request.params.id);
    return read;
  });

  app.post("/api/v1/inbox/read-all", { schema: { tags: ["inbox"], summary: "全部标记为已读" } }, async (request) => ({
    marked: await markAllRead(prisma, request.principal!.username),
  }));
}
