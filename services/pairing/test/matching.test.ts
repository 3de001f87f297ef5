import { describe, expect, it } from "vitest";
import { greedyMatching, optimiseMatching, scoreAssignments, type MatchInput } from "../src/domain/matching.js";
import { MinCostFlow } from "../src/domain/min-cost-flow.js";
import {
  edgeFor,
  monthsBetween,
  peerEdge,
  proximityOf,
  unpairedPenalty,
  withinTwoYears,
  type MatchChild,
  type MatchHelper,
} from "../src/domain/match-rules.js";

const T = "360999101";
const V1 = "360999101201";
const V2 = "360999101202";

function child(id: string, over: Partial<MatchChild> = {}): MatchChild {
  return {
    id,
    sex: "female",
    birthDate: "2015-03-07",
    villageCode: V1,
    townshipCode: T,
    schoolId: "S1",
    riskLevel: "low",
    leftBehindType: "one_parent_away",
    difficultyCategories: [],
    ...over,
  };
}

function helper(id: string, over: Partial<MatchHelper> = {}): MatchHelper {
  return { id, kind: "proxy_parent", sex: null, birthDate: null, orgUnitCode: V1, townshipCode: T, schoolId: null, capacity: 1, load: 0, ...over };
}

describe("min-cost flow", () => {
  it("finds the cheapest way to send the flow on a hand-solved graph", () => {
    // s=0, t=3; paths: 0-1-3 cost 1+5, 0-2-3 cost 2+1, 0-1-2-3 cost 1+1+1; capacities 1.
    const g = new MinCostFlow(4);
    g.addEdge(0, 1, 1, 1);
    g.addEdge(0, 2, 1, 2);
    g.addEdge(1, 3, 1, 5);
    g.addEdge(2, 3, 1, 1);
    g.addEdge(1, 2, 1, 1);
    // Two units: the only way is 0-1-3 and 0-2-3 (cost 6 + 3 = 9); the first
    // augmentation takes 0-1-2-3 (3) and the second must undo 1-2 (a negative residual edge).
    expect(g.solve(0, 3)).toEqual({ flow: 2, cost: 9 });
  });

  it("rejects negative and fractional costs", () => {
    const g = new MinCostFlow(2);
    expect(() => g.addEdge(0, 1, 1, -1)).toThrow();
    expect(() => g.addEdge(0, 1, 1, 0.5)).toThrow();
  });
});

describe("match rules", () => {
  it("prefers the child's school or village, then the township, then the village director", () => {
    const c = child("c");
    expect(edgeFor("mentor", c, helper("h", { kind: "teacher", schoolId: "S1", orgUnitCode: T }))).toEqual({ cost: 10, reason: "same_school" });
    expect(edgeFor("mentor", c, helper("h", { orgUnitCode: V1 }))).toEqual({ cost: 10, reason: "same_village" });
    expect(edgeFor("mentor", c, helper("h", { orgUnitCode: V2 }))).toEqual({ cost: 300, reason: "township" });
    expect(edgeFor("mentor", c, helper("h", { kind: "teacher", schoolId: "S2", orgUnitCode: T }))).toEqual({ cost: 320, reason: "township_teacher" });
    expect(edgeFor("mentor", c, helper("h", { kind: "village_director", orgUnitCode: V1 }))).toEqual({ cost: 600, reason: "village_director" });
    expect(edgeFor("mentor", c, helper("h", { kind: "village_director", orgUnitCode: V2 }))).toBeNull();
    expect(edgeFor("mentor", c, helper("h", { townshipCode: "360999102", orgUnitCode: "360999102201" }))).toBeNull();
    expect(edgeFor("mentor", c, helper("h", { kind: "peer_student" }))).toBeNull();
  });

  it("pairs peers only in the same school, of the same sex, at most two years apart", () => {
    const c = child("c", { birthDate: "2015-03-07" });
    const peer = (over: Partial<MatchHelper>) =>
      helper("p", { kind: "peer_student", sex: "female", birthDate: "2015-09-07", schoolId: "S1", orgUnitCode: V1, ...over });
    expect(peerEdge(c, peer({}))).toEqual({ cost: 10 + 6, reason: "peer" });
    expect(peerEdge(c, peer({ orgUnitCode: V2 }))).toEqual({ cost: 10 + 6 + 10, reason: "peer" });
    expect(peerEdge(c, peer({ sex: "male" }))).toBeNull();
    expect(peerEdge(c, peer({ schoolId: "S2" }))).toBeNull();
    expect(peerEdge(c, peer({ birthDate: "2017-03-07" }))).toEqual({ cost: 10 + 24, reason: "peer" });
    expect(peerEdge(c, peer({ birthDate: "2017-03-08" }))).toBeNull();
    expect(peerEdge(c, peer({ birthDate: "2013-03-07" }))).not.toBeNull();
    expect(peerEdge(c, peer({ birthDate: "2013-03-06" }))).toBeNull();
    expect(peerEdge(child("c", { schoolId: null }), peer({}))).toBeNull();
  });

  it("counts months and two-year windows across leap days", () => {
    expect(monthsBetween("2015-03-07", "2015-09-06")).toBe(5);
    expect(monthsBetween("2015-09-07", "2015-03-07")).toBe(6);
    expect(withinTwoYears("2016-02-29", "2018-02-28")).toBe(true);
    expect(withinTwoYears("2016-02-29", "2018-03-01")).toBe(false);
  });

  it("ranks unpaired children: coverage first, then risk and family situation", () => {
    const plain = unpairedPenalty(child("a"));
    const high = unpairedPenalty(child("b", { riskLevel: "high", leftBehindType: "both_parents_away", difficultyCategories: ["de_facto_unattended"] }));
    expect(high).toBeGreaterThan(plain);
    expect(high).toBeLessThan(2 * plain);
  });
});

describe("optimal matching", () => {
  it("solves a hand-checked instance exactly", () => {
    // Helpers: A (village V1, capacity 2), B (township-level, capacity 1), D (V1 director, capacity 3).
    // Children in V1: c1 high risk both away, c2, c3, c4.
    // By hand: A takes two (10, then 10 + 4 for its second place), B takes one (300), D the last (600):
    // all four covered at 10 + 14 + 300 + 600 = 924. Any other cover puts two children with D
    // (600 + 604) or leaves one out (100,000): dearer.
    const input: MatchInput = {
      kind: "mentor",
      children: [child("c1", { riskLevel: "high", leftBehindType: "both_parents_away" }), child("c2"), child("c3"), child("c4")],
      helpers: [helper("A", { capacity: 2 }), helper("B", { orgUnitCode: T }), helper("D", { kind: "village_director", capacity: 3 })],
    };
    const out = optimiseMatching(input);
    expect(out.score).toEqual({ covered: 4, uncovered: 0, pairingCost: 924, penaltyCost: 0, total: 924 });
    const byHelper = (id: string) => out.assignments.filter((a) => a.helperId === id).length;
    expect([byHelper("A"), byHelper("B"), byHelper("D")]).toEqual([2, 1, 1]);
  });

  it("serves the high-risk child when places run out", () => {
    const input: MatchInput = {
      kind: "mentor",
      children: [child("low"), child("high", { riskLevel: "high" })],
      helpers: [helper("A")],
    };
    const out = optimiseMatching(input);
    expect(out.assignments).toEqual([{ childId: "high", helperId: "A", cost: 10, reason: "same_village" }]);
    expect(out.unmatched).toEqual([{ childId: "low", reason: "capacity" }]);
  });

  it("says when nobody in reach could take a child", () => {
    const out = optimiseMatching({
      kind: "mentor",
      children: [child("c", { villageCode: V2 })],
      helpers: [helper("D", { kind: "village_director", orgUnitCode: V1 })],
    });
    expect(out.unmatched).toEqual([{ childId: "c", reason: "no_candidate" }]);
  });

  // Two children with no school: "urgent" (high risk) in V1, "next" in V3.
  // P is a proxy parent in V3: same village for next (10), township for urgent (300).
  const V3 = "360999101203";
  const urgent = child("urgent", { riskLevel: "high", villageCode: V1, schoolId: null });
  const next = child("next", { villageCode: V3, schoolId: null });
  const P = helper("P", { orgUnitCode: V3 });
  const D1 = helper("D1", { kind: "village_director", orgUnitCode: V1 }); // urgent only (600)
  const D3 = helper("D3", { kind: "village_director", orgUnitCode: V3 }); // next only (600)

  it("covers a child greedy leaves unpaired", () => {
    // Greedy serves urgent first and gives it the cheaper P (300 < 600); next's only helper is then full.
    // Optimal: urgent → its village director D1, next → P.
    const input: MatchInput = { kind: "mentor", children: [urgent, next], helpers: [P, D1] };
    const greedy = greedyMatching(input);
    const optimal = optimiseMatching(input);
    expect(greedy.score.covered).toBe(1);
    expect(greedy.unmatched).toEqual([{ childId: "next", reason: "capacity" }]);
    expect(optimal.score.covered).toBe(2);
    expect(optimal.assignments).toEqual(
      expect.arrayContaining([
        { childId: "urgent", helperId: "D1", cost: 600, reason: "village_director" },
        { childId: "next", helperId: "P", cost: 10, reason: "same_village" },
      ]),
    );
  });

  it("costs less than greedy when both cover everyone", () => {
    // Greedy: urgent → P (300), next → D3 (600) = 900. Optimal: urgent → D1 (600), next → P (10) = 610.
    const input: MatchInput = { kind: "mentor", children: [urgent, next], helpers: [P, D1, D3] };
    const greedy = greedyMatching(input);
    const optimal = optimiseMatching(input);
    expect(greedy.score).toMatchObject({ covered: 2, pairingCost: 900 });
    expect(optimal.score).toMatchObject({ covered: 2, pairingCost: 610 });
  });

  it("spreads load evenly over helpers of the same tier", () => {
    // Three proxy parents in the village with three places each, one already carrying a child; five children.
    // Even spread: X 2, Y 2, Z 1 (+1 carried) — every helper ends with two.
    const input: MatchInput = {
      kind: "mentor",
      children: ["a", "b", "c", "d", "e"].map((id) => child(id)),
      helpers: [helper("X", { capacity: 3 }), helper("Y", { capacity: 3 }), helper("Z", { capacity: 3, load: 1 })],
    };
    const out = optimiseMatching(input);
    const count = (id: string) => out.assignments.filter((a) => a.helperId === id).length;
    expect([count("X"), count("Y"), count("Z") + 1]).toEqual([2, 2, 2]);
    // Filling X up first covers the same children at a higher cost.
    const fillFirst = ["X", "X", "X", "Y", "Y"].map((helperId, i) => ({ childId: "abcde"[i]!, helperId, cost: 10, reason: "same_village" as const }));
    expect(out.score.pairingCost).toBeLessThan(scoreAssignments(input, fillFirst).pairingCost);
  });

  it("uses the child's own school or village before the township, and the director last, whatever the load", () => {
    // The local volunteer already carries 49 of 50 children; the township one has none.
    const local = helper("L", { kind: "volunteer", capacity: 50, load: 49 });
    const township = helper("T", { kind: "volunteer", orgUnitCode: V2, capacity: 50 });
    expect(optimiseMatching({ kind: "mentor", children: [child("c")], helpers: [local, township] }).assignments).toEqual([
      { childId: "c", helperId: "L", cost: 10, reason: "same_village" },
    ]);
    // A teacher of the child's school, nearly full, beats an empty proxy parent from another village.
    const teacher = helper("S", { kind: "teacher", schoolId: "S1", orgUnitCode: T, capacity: 50, load: 49 });
    expect(optimiseMatching({ kind: "mentor", children: [child("c")], helpers: [teacher, township] }).assignments[0]!.helperId).toBe("S");
    // A township helper with 49 children still comes before the village director with none.
    const busy = helper("B", { kind: "volunteer", orgUnitCode: V2, capacity: 50, load: 49 });
    const director = helper("D", { kind: "village_director", capacity: 300 });
    expect(optimiseMatching({ kind: "mentor", children: [child("c")], helpers: [busy, director] }).assignments[0]!.helperId).toBe("B");
  });

  it("serves both-parents-away and de-facto-unattended children before others when places run out", () => {
    const input: MatchInput = {
      kind: "mentor",
      children: [
        child("one-away", { leftBehindType: "one_parent_away" }),
        child("both-away", { leftBehindType: "both_parents_away" }),
        child("unattended", { leftBehindType: "one_parent_away", difficultyCategories: ["de_facto_unattended"] }),
      ],
      helpers: [helper("A", { capacity: 2 })],
    };
    const out = optimiseMatching(input);
    expect(out.assignments.map((a) => a.childId).sort()).toEqual(["both-away", "unattended"]);
    expect(out.unmatched).toEqual([{ childId: "one-away", reason: "capacity" }]);
  });

  it("matches brute force on random small instances", () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const villages = [V1, V2, "360999101203"];
    for (let round = 0; round < 150; round++) {
      const kind = round % 4 === 0 ? "peer" : "mentor";
      const children = Array.from({ length: 1 + rnd(6) }, (_, i) =>
        child(`c${i}`, {
          villageCode: villages[rnd(3)]!,
          schoolId: rnd(4) === 0 ? null : `S${rnd(2)}`,
          sex: rnd(2) ? "male" : "female",
          birthDate: `${2012 + rnd(5)}-0${1 + rnd(9)}-1${rnd(9)}`,
          riskLevel: (["low", "medium", "high"] as const)[rnd(3)]!,
          leftBehindType: (["both_parents_away", "one_parent_away"] as const)[rnd(2)]!,
        }),
      );
      const kinds = kind === "peer" ? (["peer_student"] as const) : (["teacher", "proxy_parent", "volunteer", "village_director"] as const);
      const helpers = Array.from({ length: 1 + rnd(4) }, (_, j) => {
        const k = kinds[rnd(kinds.length)]!;
        const capacity = kind === "peer" ? 1 : 1 + rnd(3);
        return helper(`h${j}`, {
          kind: k,
          orgUnitCode: k === "teacher" ? T : villages[rnd(3)]!,
          schoolId: k === "teacher" || k === "peer_student" ? `S${rnd(2)}` : null,
          sex: k === "peer_student" ? (rnd(2) ? "male" : "female") : null,
          birthDate: k === "peer_student" ? `${2012 + rnd(5)}-0${1 + rnd(9)}-1${rnd(9)}` : null,
          capacity,
          load: rnd(capacity + 1) === 0 ? 0 : rnd(capacity),
        });
      });
      // Identical children share a node in the optimiser: make sure some rounds have them.
      if (round % 5 === 0) children.push({ ...children[0]!, id: "twin" });
      // Now and then a supervisor has rejected a pair: it must never come back.
      const forbidden = new Set<string>();
      if (round % 3 === 0) forbidden.add(`c0:h${rnd(helpers.length)}`);
      const input: MatchInput = { kind, children, helpers, forbidden };
      const best = bruteForce(input);
      const out = optimiseMatching(input);
      expect(out.score.total, `round ${round}`).toBe(best);
      for (const a of out.assignments) expect(forbidden.has(`${a.childId}:${a.helperId}`)).toBe(false);
      expect(out.score.total).toBeLessThanOrEqual(greedyMatching(input).score.total);
    }
  });
});

/** Every assignment of each child to a helper or to nobody, keeping capacities: the minimum objective. */
function bruteForce(input: MatchInput): number {
  let best = Number.POSITIVE_INFINITY;
  const chosen: { childId: string; helperId: string; cost: number; reason: "peer" }[] = [];
  const load = new Map(input.helpers.map((h) => [h.id, h.load]));
  const walk = (i: number) => {
    if (i === input.children.length) {
      best = Math.min(best, scoreAssignments(input, chosen).total);
      return;
    }
    walk(i + 1);
    const c = input.children[i]!;
    for (const h of input.helpers) {
      if (load.get(h.id)! >= h.capacity || !edgeFor(input.kind, c, h) || input.forbidden?.has(`${c.id}:${h.id}`)) continue;
      load.set(h.id, load.get(h.id)! + 1);
      chosen.push({ childId: c.id, helperId: h.id, cost: 0, reason: "peer" });
      walk(i + 1);
      chosen.pop();
      load.set(h.id, load.get(h.id)! - 1);
    }
  };
  walk(0);
  return best;
}

describe("proximity shown to approvers", () => {
  it("grades a helper by village, school, township", () => {
    const c = { villageCode: V1, townshipCode: T, schoolId: "S1" };
    expect(proximityOf(c, { orgUnitCode: V1, schoolId: null })).toBe("same_village");
    expect(proximityOf(c, { orgUnitCode: V2, schoolId: "S1" })).toBe("same_school");
    expect(proximityOf(c, { orgUnitCode: T, schoolId: "S2" })).toBe("same_township");
    expect(proximityOf(c, { orgUnitCode: "360999102201", schoolId: null })).toBe("other_township");
  });
});
