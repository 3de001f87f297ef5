import type { EventData } from "@shouhu/contracts";
import type { SqlTx } from "@shouhu/messaging";

/**
 * 控辍保学: keeps the registry's latest enrolment status per child and semester. An event is applied only when it
 * is newer than the one held, by the enrolment's revision and then `occurredAt` (events published before the
 * revision was carried count as revision 0, so they sort below every later one). Returns false for an older or a
 * repeated event: a stale 辍学 arriving after the child was recorded back 在读, or one redelivered by a rebuild,
 * must change nothing. The row lock of the upsert orders two workers applying the same child and semester.
 */
export async function applyEnrolment(
  tx: Pick<SqlTx, "$queryRawUnsafe">,
  d: Pick<EventData<"enrolment.changed">, "child" | "semester" | "status" | "revision">,
  occurredAt: string,
): Promise<boolean> {
  const applied = await tx.$queryRawUnsafe<unknown[]>(
    `INSERT INTO enrolments (child_id, semester, status, revision, occurred_at) VALUES ($1::uuid, $2, $3, $4, $5::timestamptz)
     ON CONFLICT (child_id, semester) DO UPDATE SET status = EXCLUDED.status, revision = EXCLUDED.revision, occurred_at = EXCLUDED.occurred_at
      WHERE (enrolments.revision, enrolments.occurred_at) < (EXCLUDED.revision, EXCLUDED.occurred_at)
     RETURNING 1 AS applied`,
    d.child.id,
    d.semester,
    d.status,
    d.revision ?? 0,
    occurredAt,
  );
  return applied.length > 0;
}
