import { z } from "zod";
import { NotFoundError, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { inboxPage, markAllRead, markRead, unreadCount, type InboxItem } from "../data/inbox.js";

// Documented answers: the console's types are generated from them.
const InboxMessage = z.object({
  id: z.uuid(),
  title: z.string(),
  body: z.string(),
  template: z.string(),
  urgent: z.boolean(),
  status: z.string(),
  sourceEventType: z.string().nullable(),
  childId: z.uuid().nullable(),
  createdAt: z.string(),
  readAt: z.string().nullable(),
});
const InboxPage = z.object({ unread: z.number().int(), items: z.array(InboxMessage), nextCursor: z.string().nullable() });
const ReadResponse = z.object({ id: z.uuid(), readAt: z.string() });
const ReadAllResponse = z.object({ marked: z.number().int() });

const present = (m: InboxItem) => ({ ...m, createdAt: m.createdAt.toISOString(), readAt: m.readAt?.toISOString() ?? null });

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
  app.get("/api/v1/inbox", { schema: { tags: ["inbox"], summary: "我的站内消息", querystring: ListQuery, response: { 200: InboxPage } } }, async (request) => {
    const { username } = request.principal!;
    const q = request.query;
    const rows = await inboxPage(prisma, username, { unread: q.unread ?? null, cursor: q.cursor ?? null, limit: q.limit });
    const more = rows.length > q.limit;
    const items = more ? rows.slice(0, q.limit) : rows;
    return { unread: await unreadCount(prisma, username), items: items.map(present), nextCursor: more ? items[items.length - 1]!.id : null };
  });

  app.post(
    "/api/v1/inbox/:id/read",
    { schema: { tags: ["inbox"], summary: "标记为已读", params: IdParams, response: { 200: ReadResponse } } },
    async (request) => {
      const read = await markRead(prisma, request.principal!.username, request.params.id);
      if (!read) throw new NotFoundError("消息", request.params.id);
      return { id: read.id, readAt: read.readAt.toISOString() };
    },
  );

  app.post("/api/v1/inbox/read-all", { schema: { tags: ["inbox"], summary: "全部标记为已读", response: { 200: ReadAllResponse } } }, async (request) => ({
    marked: await markAllRead(prisma, request.principal!.username),
  }));
}
