import type { PrismaClient, Prisma } from "../generated/prisma/client.js";

export interface AuditFilter {
  /** Entries by staff of this org unit (a county admin: their county). */
  orgUnit: string;
  childId?: string;
  userId?: string;
  /** The sign-in name staff know each other by. */
  username?: string;
  action?: string;
  outcome?: "allowed" | "refused";
  from?: string;
  to?: string;
  cursor?: number;
  limit: number;
}

/** Audit entries newest first, keyset paged by id; limit + 1 rows tell whether more follow. */
export async function queryAudit(prisma: PrismaClient, q: AuditFilter) {
  const where: Prisma.AuditEntryWhereInput = {
    ...(q.childId ? { childIds: { has: q.childId } } : {}),
    ...(q.userId ? { userId: q.userId } : {}),
    ...(q.username ? { username: q.username } : {}),
    ...(q.action ? { action: q.action } : {}),
    ...(q.outcome ? { outcome: q.outcome } : {}),
    ...(q.from || q.to ? { at: { ...(q.from ? { gte: new Date(q.from) } : {}), ...(q.to ? { lt: new Date(q.to) } : {}) } } : {}),
    ...(q.cursor ? { id: { lt: BigInt(q.cursor) } } : {}),
    orgUnit: { startsWith: q.orgUnit },
  };
  return prisma.auditEntry.findMany({ where, orderBy: { id: "desc" }, take: q.limit + 1 });
}
