import { systemActor } from "@shouhu/contracts";
import { bornOnOrBefore } from "@shouhu/cn";
import { PROGRAMME_AGE_LIMIT } from "../domain/status-rules.js";
import { changeStatusInTx } from "../data/children.js";
import type { PrismaClient } from "../data/db.js";

export const AGE_OUT_JOB = "age-out";

/**
 * Children who have turned 16 leave the programme (DESIGN.md: 动态管理), each
 * with history and a `child.status-changed` event. Safe to run twice or on two
 * workers at once: the row lock plus the status rule make a second exit a no-op.
 */
export async function ageOutChildren(prisma: PrismaClient, today: string, batchSize = 200): Promise<{ exited: number }> {
  const cutoff = new Date(`${bornOnOrBefore(today, PROGRAMME_AGE_LIMIT)}T00:00:00Z`);
  const actor = systemActor(AGE_OUT_JOB);
  let exited = 0;
  let after: string | undefined;
  for (;;) {
    const due = await prisma.child.findMany({
      where: { status: "active", birthDate: { lte: cutoff }, ...(after ? { id: { gt: after } } : {}) },
      select: { id: true },
      orderBy: { id: "asc" },
      take: batchSize,
    });
    if (due.length === 0) return { exited };
    after = due[due.length - 1]!.id;
    await prisma.$transaction(async (tx) => {
      // Claim the rows: a second worker running the same job skips what this one holds,
      // and rows it already exited are no longer 'active'.
      const claimed = await tx.$queryRawUnsafe<{ id: string }[]>(
        "SELECT id FROM children WHERE id = ANY($1::uuid[]) AND status = 'active' FOR UPDATE SKIP LOCKED",
        due.map((d) => d.id),
      );
      for (const { id } of claimed) {
        await changeStatusInTx(tx, id, { status: "exited", reason: "turned_16", note: "年满16周岁，自动退出关爱保护范围" }, actor, today);
        exited += 1;
      }
    });
  }
}
