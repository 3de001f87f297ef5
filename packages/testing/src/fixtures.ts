// What several services' tests build alike: a child as the registry's events carry
// it, a mentor pairing as the pairing service's events carry it, and a poll that
// waits for a consumer's effect. Event data only: envelopes are built with
// @shouhu/messaging's buildEvent by the test (messaging's own tests use this package).
import { randomUUID } from "node:crypto";
import type { ChildSnapshot, EventData } from "@shouhu/contracts";

/** A registry child snapshot in 长岭村 (长岭乡, 示范县), at 长岭乡中心小学; `over` sets what a test relies on. */
export function childSnapshot(over: Partial<ChildSnapshot> = {}): ChildSnapshot {
  return {
    id: randomUUID(),
    name: "李小花",
    sex: "female",
    birthDate: "2015-03-07",
    villageCode: "360999101201",
    townshipCode: "360999101",
    countyCode: "360999",
    schoolId: "S360999101001",
    schoolName: "长岭乡中心小学",
    grade: null,
    className: null,
    leftBehindType: "both_parents_away",
    difficultyCategories: [],
    riskLevel: "medium",
    status: "active",
    exitReason: null,
    guardian: null,
    parents: [],
    revision: 1,
    ...over,
  };
}

export interface TestHelper {
  id: string;
  name: string;
  /** The helper's login, when they have one (teachers and staff do; volunteers may not). */
  username: string | null;
}

/** A teacher as mentor: a new id each call, so two calls are two people. */
export const teacherHelper = (name: string, username: string | null): TestHelper => ({ id: randomUUID(), name, username });

type MentorPairing = Omit<EventData<"pairing.started">, "startDate" | "approvedBy">;

/**
 * What pairing.started and pairing.ended both say of a mentor pairing: the child and
 * the helper, a teacher of 长岭乡中心小学 (so of 长岭乡, wherever the child lives).
 */
export function mentorPairing(
  child: ChildSnapshot,
  helper: TestHelper,
  pairingId: string,
  phone = "13907300302",
  role: MentorPairing["role"] = "primary",
): MentorPairing {
  return {
    pairingId,
    kind: "mentor",
    role,
    child: { id: child.id, name: child.name, villageCode: child.villageCode, townshipCode: child.townshipCode, schoolId: child.schoolId },
    helper: { id: helper.id, kind: "teacher", name: helper.name, phone, username: helper.username, orgUnitCode: "360999101", schoolId: "S360999101001" },
  };
}

export const pairingStartedData = (pairing: MentorPairing, startDate = "2026-11-20"): EventData<"pairing.started"> => ({
  ...pairing,
  startDate,
  approvedBy: "督导员",
});

export const pairingEndedData = (pairing: MentorPairing, endDate = "2026-11-21"): EventData<"pairing.ended"> => ({
  ...pairing,
  endDate,
  reason: "helper_deactivated",
  note: null,
});

/** Polls `check` every 25 ms until it holds; fails naming `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
