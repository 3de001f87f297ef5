import type { ChildStatus, ExitReason } from "@shouhu/contracts";
import { ConflictError, ValidationError } from "@shouhu/kit";
import { ageOn } from "@shouhu/cn";

export const PROGRAMME_AGE_LIMIT = 16;

/** Exits after which a child can come back into the programme (e.g. parents leave again). */
const reversibleExits: ReadonlySet<ExitReason> = new Set(["parent_returned", "moved_away", "transferred_out"]);

export interface StatusChangeRequest {
  status: ChildStatus;
  reason?: ExitReason | null;
}

/**
 * Which status changes are allowed (动态管理): exits need a reason; a child can be
 * re-admitted only after a reversible exit and while under 16; death and ageing
 * out are final. Throws a 4xx naming the problem.
 */
export function assertStatusChange(
  current: { status: ChildStatus; exitReason: ExitReason | null; birthDate: string },
  next: StatusChangeRequest,
  today: string,
): void {
  if (current.status === next.status) {
    throw new ConflictError("STATUS_UNCHANGED", next.status === "active" ? "该儿童已在册" : "该儿童已退出");
  }
  const age = ageOn(current.birthDate, today);
  if (next.status === "exited") {
    if (!next.reason) throw ValidationError.field("reason", "退出时必须说明原因");
    if (next.reason === "turned_16" && age < PROGRAMME_AGE_LIMIT) {
      throw ValidationError.field("reason", `该儿童未满16周岁（${age}岁），不能以“年满16周岁”退出`);
    }
    return;
  }
  if (current.exitReason && !reversibleExits.has(current.exitReason)) {
    throw new ConflictError("STATUS_FINAL", current.exitReason === "deceased" ? "该儿童已登记死亡，不能恢复在册" : "该儿童已年满16周岁退出，不能恢复在册");
  }
  if (age >= PROGRAMME_AGE_LIMIT) {
    throw new ConflictError("AGED_OUT", "该儿童已满16周岁，不在关爱保护范围，不能恢复在册");
  }
}
