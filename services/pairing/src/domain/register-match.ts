import { normalizeName } from "@shouhu/cn";

/** Why the register's 帮扶责任人 was not paired: staff read the label on the unpaired list. */
export type RegisterMatchIssue = "not_found" | "ambiguous" | "full" | "inactive";

export const registerMatchIssueLabel: Record<RegisterMatchIssue, string> = {
  not_found: "未找到此人",
  ambiguous: "多人同名",
  full: "已满额",
  inactive: "已停用",
};

/** A helper of the child's township whose name is the register's 帮扶责任人 (a mentor kind). */
export interface RegisterCandidate {
  id: string;
  orgUnitCode: string;
  active: boolean;
  capacity: number;
  /** Active pairings now (any kind and role). */
  load: number;
}

export type RegisterMatch = { helperId: string } | { issue: RegisterMatchIssue };

/**
 * The register's name as compared with helpers' names (helpers are stored through normalizeName
 * too), without a note in brackets (张伟（教师）); empty → none.
 */
export function registerName(value: string | null | undefined): string | null {
  if (!value) return null;
  const name = normalizeName(value.replace(/[（(][^)）]*[)）]/gu, ""));
  return name === "" ? null : name;
}

/**
 * Decides the helper a register's 帮扶责任人 names, among the active-or-not helpers of the
 * child's township with exactly that name: the active ones of the child's village first
 * (a village's own 张伟 over the next village's), else the township's; one person or none —
 * two of the same name is a decision for a person (多人同名), never a guess. A stopped helper
 * (已停用) or one at capacity (已满额) is not paired either.
 */
export function matchRegisterHelper(child: { villageCode: string }, candidates: readonly RegisterCandidate[]): RegisterMatch {
  if (candidates.length === 0) return { issue: "not_found" };
  const active = candidates.filter((c) => c.active);
  if (active.length === 0) return { issue: "inactive" };
  const sameVillage = active.filter((c) => c.orgUnitCode === child.villageCode);
  const pool = sameVillage.length > 0 ? sameVillage : active;
  if (pool.length > 1) return { issue: "ambiguous" };
  const helper = pool[0]!;
  if (helper.load >= helper.capacity) return { issue: "full" };
  return { helperId: helper.id };
}
