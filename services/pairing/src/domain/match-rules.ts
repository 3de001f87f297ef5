import { contains, type DifficultyCategory, type HelperKind, type LeftBehindType, type PairingKind, type RiskLevel, type Sex } from "@shouhu/contracts";

/** A child as the optimiser sees it. */
export interface MatchChild {
  id: string;
  sex: Sex;
  /** YYYY-MM-DD */
  birthDate: string;
  villageCode: string;
  townshipCode: string;
  schoolId: string | null;
  riskLevel: RiskLevel;
  leftBehindType: LeftBehindType;
  difficultyCategories: readonly DifficultyCategory[];
}

/** A helper as the optimiser sees it; `load` counts open (proposed or active) pairings of the kind. */
export interface MatchHelper {
  id: string;
  kind: HelperKind;
  sex: Sex | null;
  birthDate: string | null;
  orgUnitCode: string;
  townshipCode: string;
  schoolId: string | null;
  capacity: number;
  load: number;
}

export type MatchReason = "same_school" | "same_village" | "township" | "township_teacher" | "village_director" | "peer";

export interface Edge {
  cost: number;
  reason: MatchReason;
}

/** The most children one helper may take (the API refuses more). */
export const MAX_CAPACITY = 50;

/**
 * The cost of a helper's (k+1)-th child. Rising, so the optimiser spreads
 * children over helpers of the same tier before filling any one of them; flat
 * after MAX_CAPACITY places (still never falling, which min-cost flow needs), so
 * it stays below the tier gaps even for a director given a larger capacity.
 */
export function slotCost(k: number): number {
  return 4 * Math.min(k, MAX_CAPACITY - 1);
}

/**
 * Edge costs, lower is better. The seed documents' order: adults from the child's
 * school or village first, then the township; the village child director covers
 * who is left. Each gap between tiers (290, 280) is wider than the dearest place
 * (slotCost(MAX_CAPACITY - 1) = 196), so load only ever breaks ties within a
 * tier: a child's own school or village is used up before anyone from elsewhere
 * is proposed, and the director only takes who the others cannot.
 */
export const mentorCosts: Record<Exclude<MatchReason, "peer">, number> = {
  same_school: 10,
  same_village: 10,
  township: 300,
  township_teacher: 320,
  village_director: 600,
};

function mentorEdge(child: MatchChild, helper: MatchHelper): Edge | null {
  if (helper.townshipCode !== child.townshipCode) return null;
  switch (helper.kind) {
    case "teacher":
      return helper.schoolId !== null && helper.schoolId === child.schoolId
        ? { cost: mentorCosts.same_school, reason: "same_school" }
        : { cost: mentorCosts.township_teacher, reason: "township_teacher" };
    case "proxy_parent":
    case "volunteer":
      return helper.orgUnitCode === child.villageCode
        ? { cost: mentorCosts.same_village, reason: "same_village" }
        : { cost: mentorCosts.township, reason: "township" };
    case "village_cadre":
      // A 村干部 looks after their own village's children (包村到户), like a proxy parent of that
      // village, and is not sent across the township (that is what proxy parents and volunteers are for).
      return helper.orgUnitCode === child.villageCode ? { cost: mentorCosts.same_village, reason: "same_village" } : null;
    case "village_director":
      return helper.orgUnitCode === child.villageCode ? { cost: mentorCosts.village_director, reason: "village_director" } : null;
    case "peer_student":
      return null;
  }
}

/** Whole months between two dates, ignoring order (2015-03-07 → 2017-03-07 is 24). */
export function monthsBetween(a: string, b: string): number {
  const [from, to] = a <= b ? [a, b] : [b, a];
  const [fy, fm, fd] = from.split("-").map(Number) as [number, number, number];
  const [ty, tm, td] = to.split("-").map(Number) as [number, number, number];
  return (ty - fy) * 12 + (tm - fm) - (td < fd ? 1 : 0);
}

/** True when the birth dates are at most two calendar years apart (string compare of ISO dates). */
export function withinTwoYears(a: string, b: string): boolean {
  const [from, to] = a <= b ? [a, b] : [b, a];
  return to <= `${Number(from.slice(0, 4)) + 2}${from.slice(4)}`;
}

/** 手拉手: same school, same sex, age gap at most two years; nearer in age and from the same village is better. */
export function peerEdge(child: MatchChild, helper: MatchHelper): Edge | null {
  if (helper.kind !== "peer_student") return null;
  if (child.schoolId === null || helper.schoolId !== child.schoolId) return null;
  if (helper.sex !== child.sex || helper.birthDate === null) return null;
  if (!withinTwoYears(child.birthDate, helper.birthDate)) return null;
  const nearby = helper.orgUnitCode === child.villageCode ? 0 : 10;
  return { cost: 10 + monthsBetween(child.birthDate, helper.birthDate) + nearby, reason: "peer" };
}

export function edgeFor(kind: PairingKind, child: MatchChild, helper: MatchHelper): Edge | null {
  return kind === "mentor" ? mentorEdge(child, helper) : peerEdge(child, helper);
}

/** Helper kinds that can take each pairing kind. */
export function servesKind(helperKind: HelperKind, kind: PairingKind): boolean {
  return kind === "peer" ? helperKind === "peer_student" : helperKind !== "peer_student";
}

/**
 * What it costs to leave a child unpaired. Far above any pairing cost, so the
 * optimiser covers as many children as it can; within that, high-risk and
 * both-parents-away children are served first. Every bonus is below the base,
 * so covering two children always beats covering one.
 */
export function unpairedPenalty(child: MatchChild): number {
  let penalty = 100_000;
  if (child.riskLevel === "high") penalty += 40_000;
  else if (child.riskLevel === "medium") penalty += 15_000;
  if (child.leftBehindType === "both_parents_away") penalty += 30_000;
  else if (child.leftBehindType === "one_away_other_unable") penalty += 20_000;
  if (child.difficultyCategories.some((c) => c === "de_facto_unattended" || c === "orphan")) penalty += 20_000;
  return penalty;
}

export type Proximity = "same_village" | "same_school" | "same_township" | "other_township";

/**
 * How near a helper is to a child, by the register's own geography: the register
 * holds no coordinates, so distance is the administrative one staff reason with
 * (同村 is walking distance, 同乡镇 a ride, 跨乡镇 rarely workable).
 */
export function proximityOf(
  child: { villageCode: string; townshipCode: string; schoolId: string | null },
  helper: { orgUnitCode: string; schoolId: string | null },
): Proximity {
  if (helper.orgUnitCode === child.villageCode) return "same_village";
  if (helper.schoolId !== null && helper.schoolId === child.schoolId) return "same_school";
  return contains(child.townshipCode, helper.orgUnitCode) ? "same_township" : "other_township";
}

export const proximityLabel: Record<Proximity, string> = {
  same_village: "同村",
  same_school: "同校",
  same_township: "同乡镇",
  other_township: "跨乡镇",
};
