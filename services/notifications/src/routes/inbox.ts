import { z } from "zod";
import { NotFoundError, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";

const ListQuery = z.object({
  unread: z.enum(["true", "false"]).transform((v) => v === "true").optional(),
  cursor: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
const IdParams = z.object({ id: z.uuid({ message: "消息编号格式不正确" }) });

/** The signed-in user's own in-app messages: nobody reads another's inbox, whatever their role. */
export function registerInboxRoutes(app: ServiceApp, prisma: PrismaClient): void {
  app.get("/api/v1/inbox", { schema: { tags: ["inbox"], summary: "我的站内消息", querystring: ListQuery } }, async (request) => {
    const principal = request.principal!;
    const q = request.query;
    const rows = await prisma.$queryRawUnsafe<{ id: string }[]>(
      `SELECT id, title, body, template, urgent, status, source_event_type AS "sourceEventType", child_id AS "childId",
              created_at AS "createdAt", read_at AS "readAt"
         FROM messages WHERE channel = 'inapp' AND recipient_username = $1
          AND ($2::boolean IS NOT TRUE OR read_at IS NULL) AND ($3::uuid IS NULL OR id < $3::uuid)
        ORDER BY id DESC LIMIT $4`,
      principal.username,
      q.unread ?? null,
      q.cursor ?? null,
      q.limit + 1,
    );
    const more = rows.length > q.limit;
    const items = more ? rows.slice(0, q.limit) : rows;
    const [{ unread }] = (await prisma.$queryRawUnsafe<{ unread: number }[]>(
      `SELECT count(*)::int AS unread FROM messages WHERE channel = 'inapp' AND recipient_username = $1 AND read_at IS NULL`,
      principal.username,
    )) as [{ unread: number }];
    return { unread, items, nextCursor: more ? items[items.length - 1]!.id : null };
  });

  app.post("/api/v1/inbox/:id/read", { schema: { tags: ["inbox"], summary: "标记为已读", params: IdParams } }, async (request) => {
    const principal = request.principal!;
    const updated = await prisma.$queryRawUnsafe<{ id: string; readAt: Date }[]>(
      `UPDATE messages SET read_at = COALESCE(read_at, now()), status = 'read'
        WHERE id = $1::uuid AND channel = 'inapp' AND recipient_username = $2 RETURNING id, read_at AS "readAt"`,
      request.params.id,
      principal.username,
    );
    if (updated.length === 0) throw new NotFoundError("消息", request.params.id);
    return updated[0];
  });

  app.post("/api/v1/inbox/read-all", { schema: { tags: ["inbox"], summary: "全部标记为已读" } }, async (request) => {
    const principal = request.principal!;
    const marked = await prisma.$executeRawUnsafe(
      `UPDATE messages SET read_at = now(), status = 'read' WHERE channel = 'inapp' AND recipient_username = $1 AND read_at IS NULL`,
      principal.username,
    );
    return { marked };
  });
}
