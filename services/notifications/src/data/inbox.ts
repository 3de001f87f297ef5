import type { PrismaClient } from "./db.js";

export interface InboxItem {
  id: string;
  title: string;
  body: string;
  template: string;
  urgent: boolean;
  status: string;
  sourceEventType: string | null;
  childId: string | null;
  createdAt: Date;
  readAt: Date | null;
}

/** One user's in-app messages, newest first (uuidv7 ids: the id is the cursor); limit + 1 rows tell whether more follow. */
export async function inboxPage(
  prisma: PrismaClient,
  username: string,
  q: { unread: boolean | null; cursor: string | null; limit: number },
): Promise<InboxItem[]> {
  return prisma.$queryRawUnsafe<InboxItem[]>(
    `SELECT id, title, body, template, urgent, status, source_event_type AS "sourceEventType", child_id AS "childId",
            created_at AS "createdAt", read_at AS "readAt"
       FROM messages WHERE channel = 'inapp' AND recipient_username = $1
        AND ($2::boolean IS NOT TRUE OR read_at IS NULL) AND ($3::uuid IS NULL OR id < $3::uuid)
      ORDER BY id DESC LIMIT $4`,
    username,
    q.unread,
    q.cursor,
    q.limit + 1,
  );
}

export async function unreadCount(prisma: PrismaClient, username: string): Promise<number> {
  const [row] = await prisma.$queryRawUnsafe<{ unread: number }[]>(
    `SELECT count(*)::int AS unread FROM messages WHERE channel = 'inapp' AND recipient_username = $1 AND read_at IS NULL`,
    username,
  );
  return row?.unread ?? 0;
}

/** Marks one of the user's own messages read; null when it is not theirs or does not exist. */
export async function markRead(prisma: PrismaClient, username: string, id: string): Promise<{ id: string; readAt: Date } | null> {
  const [row] = await prisma.$queryRawUnsafe<{ id: string; readAt: Date }[]>(
    `UPDATE messages SET read_at = COALESCE(read_at, now()), status = 'read'
      WHERE id = $1::uuid AND channel = 'inapp' AND recipient_username = $2 RETURNING id, read_at AS "readAt"`,
    id,
    username,
  );
  return row ?? null;
}

export async function markAllRead(prisma: PrismaClient, username: string): Promise<number> {
  return prisma.$executeRawUnsafe(
    `UPDATE messages SET read_at = now(), status = 'read' WHERE channel = 'inapp' AND recipient_username = $1 AND read_at IS NULL`,
    username,
  );
}
