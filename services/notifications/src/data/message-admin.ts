import type { PrismaClient } from "./db.js";

/** Of these message ids, those about children and offices inside `orgUnit`. */
export async function messagesWithin(prisma: PrismaClient, ids: string[], orgUnit: string): Promise<Set<string>> {
  const rows = await prisma.message.findMany({ where: { id: { in: ids }, orgUnit: { startsWith: orgUnit } }, select: { id: true } });
  return new Set(rows.map((m) => m.id));
}

export interface MessageFilter {
  orgUnit: string;
  status: string | null;
  channel: string | null;
  sourceEventType: string | null;
  childId: string | null;
  cursor: string | null;
  limit: number;
}

/** Messages inside the org unit, newest first; limit + 1 rows tell whether more follow. */
export async function listMessages(prisma: PrismaClient, q: MessageFilter): Promise<{ id: string }[]> {
  return prisma.$queryRawUnsafe<{ id: string }[]>(
    `SELECT id, source_event_type AS "sourceEventType", rule, channel, template, urgent, recipient_username AS "recipientUsername",
            recipient_name AS "recipientName", org_unit AS "orgUnit", child_id AS "childId", title, status, attempts,
            last_error AS "lastError", not_before AS "notBefore", created_at AS "createdAt", sent_at AS "sentAt", read_at AS "readAt", failed_at AS "failedAt"
       FROM messages
      WHERE org_unit LIKE $1 || '%' AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR channel = $3)
        AND ($4::text IS NULL OR source_event_type = $4) AND ($5::uuid IS NULL OR child_id = $5::uuid) AND ($6::uuid IS NULL OR id < $6::uuid)
      ORDER BY id DESC LIMIT $7`,
    q.orgUnit,
    q.status,
    q.channel,
    q.sourceEventType,
    q.childId,
    q.cursor,
    q.limit + 1,
  );
}

/** Failed messages back to the state the worker sends from (before their dead letters are replayed). */
export async function requeueFailed(prisma: PrismaClient, messageIds: string[]): Promise<void> {
  await prisma.$executeRawUnsafe(`UPDATE messages SET status = 'queued', failed_at = NULL WHERE id = ANY($1::uuid[]) AND status = 'failed'`, messageIds);
}

export async function findMessage(prisma: PrismaClient, id: string): Promise<{ id: string; orgUnit: string; status: string } | null> {
  return prisma.message.findUnique({ where: { id }, select: { id: true, orgUnit: true, status: true } });
}

/** A resend: the dispatcher enqueues the message again. */
export async function markForDispatch(prisma: PrismaClient, id: string): Promise<void> {
  await prisma.$executeRawUnsafe(`UPDATE messages SET enqueued_at = NULL WHERE id = $1::uuid`, id);
}

export async function setOfficeChannel(prisma: PrismaClient, c: { orgUnit: string; kind: string; url: string; secret: string | null }): Promise<void> {
  await prisma.officeChannel.upsert({
    where: { orgUnit_kind: { orgUnit: c.orgUnit, kind: c.kind } },
    create: c,
    update: { url: c.url, secret: c.secret },
  });
}
