import type { PairingKind } from "@shouhu/contracts";
import { MinCostFlow } from "./min-cost-flow.js";
import { edgeFor, mentorCosts, servesKind, slotCost, unpairedPenalty, type MatchChild, type MatchHelper, type MatchReason } from "./match-rules.js";

export interface MatchInput {
  kind: PairingKind;
  /** Children that need a pairing of this kind (none open yet). */
  children: readonly MatchChild[];
  /** Active helpers, with their current load. */
  helpers: readonly MatchHelper[];
  /** `childId:helperId` pairs a supervisor rejected: never proposed again. */
  forbidden?: ReadonlySet<string>;
}

const noneForbidden: ReadonlySet<string> = new Set();

export interface Assignment {
  childId: string;
  helperId: string;
  cost: number;
  reason: MatchReason;
}

/** `no_candidate`: nobody in reach could ever take the child; `capacity`: everyone in reach is full. */
export interface Unmatched {
  childId: string;
  reason: "no_candidate" | "capacity";
}

export interface Score {
  covered: number;
  uncovered: number;
  /** Edge costs plus helpers' load costs of the new assignments. */
  pairingCost: number;
  /** Sum of unpaired penalties: what leaving children (and which ones) unpaired costs. */
  penaltyCost: number;
  total: number;
}

export interface MatchOutcome {
  assignments: Assignment[];
  unmatched: Unmatched[];
  score: Score;
}

/**
 * The optimal proposal set: minimum-cost flow, one unit from each child → helper → sink,
 * where each helper's free places are unit edges of increasing cost (load is
 * spread) and each child may instead take a direct child → sink edge at its
 * unpaired penalty (coverage first, priority children first). Townships are
 * independent (helpers serve their own township), so each is solved alone.
 */
export function optimiseMatching(input: MatchInput): MatchOutcome {
  const assignments: Assignment[] = [];
  const unmatched: Unmatched[] = [];
  const forbidden = input.forbidden ?? noneForbidden;
  for (const group of byTownship(input)) {
    const solved = solveTownship(input.kind, group.children, group.helpers, forbidden);
    assignments.push(...solved);
    unmatched.push(...unmatchedOf(input.kind, group.children, group.helpers, solved, forbidden));
  }
  return { assignments, unmatched, score: scoreAssignments(input, assignments) };
}

/**
 * The baseline the optimiser must beat: children in priority order, each taking
 * the cheapest helper with a free place at that moment.
 */
export function greedyMatching(input: MatchInput): MatchOutcome {
  const assignments: Assignment[] = [];
  const unmatched: Unmatched[] = [];
  const forbidden = input.forbidden ?? noneForbidden;
  for (const group of byTownship(input)) {
    const load = new Map(group.helpers.map((h) => [h.id, h.load]));
    const chosen: Assignment[] = [];
    const ordered = [...group.children].sort((a, b) => unpairedPenalty(b) - unpairedPenalty(a) || a.id.localeCompare(b.id));
    for (const child of ordered) {
      let best: { helper: MatchHelper; cost: number; reason: MatchReason; total: number } | null = null;
      for (const helper of group.helpers) {
        const used = load.get(helper.id)!;
        if (used >= helper.capacity || forbidden.has(`${child.id}:${helper.id}`)) continue;
        const edge = edgeFor(input.kind, child, helper);
        if (!edge) continue;
        const total = edge.cost + slotCost(used);
        if (!best || total < best.total) best = { helper, cost: edge.cost, reason: edge.reason, total };
      }
      if (best) {
        load.set(best.helper.id, load.get(best.helper.id)! + 1);
        chosen.push({ childId: child.id, helperId: best.helper.id, cost: best.cost, reason: best.reason });
      }
    }
    assignments.push(...chosen);
    unmatched.push(...unmatchedOf(input.kind, group.children, group.helpers, chosen, forbidden));
  }
  return { assignments, unmatched, score: scoreAssignments(input, assignments) };
}

/** The objective both methods are judged by. */
export function scoreAssignments(input: MatchInput, assignments: readonly Assignment[]): Score {
  const children = new Map(input.children.map((c) => [c.id, c]));
  const helpers = new Map(input.helpers.map((h) => [h.id, h]));
  const added = new Map<string, number>();
  let pairingCost = 0;
  for (const a of assignments) {
    const child = children.get(a.childId)!;
    const helper = helpers.get(a.helperId)!;
    const edge = edgeFor(input.kind, child, helper);
    if (!edge) throw new Error(`assignment ${a.childId} → ${a.helperId} breaks the rules`);
    const k = added.get(a.helperId) ?? 0;
    if (helper.load + k >= helper.capacity) throw new Error(`helper ${a.helperId} over capacity`);
    added.set(a.helperId, k + 1);
    pairingCost += edge.cost + slotCost(helper.load + k);
  }
  const covered = new Set(assignments.map((a) => a.childId));
  let penaltyCost = 0;
  for (const child of input.children) if (!covered.has(child.id)) penaltyCost += unpairedPenalty(child);
  return {
    covered: covered.size,
    uncovered: input.children.length - covered.size,
    pairingCost,
    penaltyCost,
    total: pairingCost + penaltyCost,
  };
}

interface TownshipGroup {
  children: MatchChild[];
  helpers: MatchHelper[];
}

function byTownship(input: MatchInput): TownshipGroup[] {
  const groups = new Map<string, TownshipGroup>();
  const group = (code: string) => {
    let g = groups.get(code);
    if (!g) groups.set(code, (g = { children: [], helpers: [] }));
    return g;
  };
  for (const child of input.children) group(child.townshipCode).children.push(child);
  for (const helper of input.helpers) {
    if (servesKind(helper.kind, input.kind) && groups.has(helper.townshipCode)) group(helper.townshipCode).helpers.push(helper);
  }
  return [...groups.values()];
}

const SINK = 0;

/**
 * Children the rules cannot tell apart (same village, school and priority; for
 * peers also sex and birth date) share one node whose supply is their number:
 * the graph shrinks several-fold, and one search can place several of them —
 * above all, when places run out, all remaining members of a class are left
 * unpaired by a single search instead of one full search each.
 */
interface ChildClass {
  members: MatchChild[];
  penalty: number;
  /** Members not yet given a helper while the flow is decomposed. */
  next: number;
}

function classify(kind: PairingKind, children: MatchChild[], singled: ReadonlySet<string>): ChildClass[] {
  const classes = new Map<string, ChildClass>();
  for (const child of children) {
    const penalty = unpairedPenalty(child);
    const key = singled.has(child.id)
      ? `child:${child.id}`
      : kind === "mentor"
        ? `${child.villageCode}|${child.schoolId}|${penalty}`
        : `${child.villageCode}|${child.schoolId}|${child.sex}|${child.birthDate}|${penalty}`;
    const existing = classes.get(key);
    if (existing) existing.members.push(child);
    else classes.set(key, { members: [child], penalty, next: 0 });
  }
  // Any order of supplies gives the optimum; the most urgent first is the natural reading of a trace.
  return [...classes.values()].sort((a, b) => b.penalty - a.penalty);
}

function solveTownship(kind: PairingKind, children: MatchChild[], allHelpers: MatchHelper[], forbidden: ReadonlySet<string>): Assignment[] {
  const helpers = allHelpers.filter((h) => h.capacity > h.load);
  if (children.length === 0 || helpers.length === 0) return [];
  // A child with a rejected helper is a class of its own and cannot use a pool
  // (the pool might hand it that helper): it gets an edge to every other helper.
  const withRejections = new Set([...forbidden].map((pair) => pair.slice(0, pair.indexOf(":"))));
  const classes = classify(kind, children, withRejections);
  const classNode = (i: number) => 1 + i;
  const helperNode = (j: number) => 1 + classes.length + j;
  const poolBase = 1 + classes.length + helpers.length;

  // Mentors from elsewhere in the township are reached through two pool nodes
  // (other villages' proxy parents and volunteers; other schools' teachers),
  // instead of an edge from every child to every such helper: same optimum,
  // a graph of O(children + helpers) edges.
  const pools =
    kind === "mentor"
      ? [
          {
            reason: "township" as const,
            cost: mentorCosts.township,
            members: indexesWhere(helpers, (h) => h.kind === "proxy_parent" || h.kind === "volunteer"),
          },
          { reason: "township_teacher" as const, cost: mentorCosts.township_teacher, members: indexesWhere(helpers, (h) => h.kind === "teacher") },
        ].filter((p) => p.members.length > 0)
      : [];

  const graph = new MinCostFlow(poolBase + pools.length, classes.length * 6 + helpers.length * 4);
  const direct: { edge: number; cls: number; helper: number }[] = [];
  const intoPool: { edge: number; cls: number; pool: number }[] = [];
  const outOfPool: { edge: number; pool: number; helper: number }[] = [];

  const local = localIndex(kind, helpers);
  classes.forEach((cls, i) => {
    const rep = cls.members[0]!;
    const size = cls.members.length;
    graph.addEdge(classNode(i), SINK, size, cls.penalty);
    const single = withRejections.has(rep.id);
    for (const j of single ? helpers.keys() : local(rep)) {
      if (forbidden.has(`${rep.id}:${helpers[j]!.id}`)) continue;
      const edge = edgeFor(kind, rep, helpers[j]!);
      if (!edge) continue;
      if (!single && kind === "mentor" && (edge.reason === "township" || edge.reason === "township_teacher")) continue;
      direct.push({ edge: graph.addEdge(classNode(i), helperNode(j), size, edge.cost), cls: i, helper: j });
    }
    if (!single) pools.forEach((pool, p) => intoPool.push({ edge: graph.addEdge(classNode(i), poolBase + p, size, pool.cost), cls: i, pool: p }));
  });
  pools.forEach((pool, p) => {
    for (const j of pool.members) outOfPool.push({ edge: graph.addEdge(poolBase + p, helperNode(j), helpers[j]!.capacity, 0), pool: p, helper: j });
  });
  helpers.forEach((helper, j) => {
    for (let k = helper.load; k < helper.capacity; k++) graph.addEdge(helperNode(j), SINK, 1, slotCost(k));
  });

  // Each class supplies its size; its own unpaired edge always reaches the sink.
  classes.forEach((cls, i) => {
    for (let supply = cls.members.length; supply > 0;) supply -= graph.augment(classNode(i), SINK, supply)!.flow;
  });

  const result: Assignment[] = [];
  const assign = (i: number, j: number) => {
    const cls = classes[i]!;
    const child = cls.members[cls.next++]!;
    const helper = helpers[j]!;
    const edge = edgeFor(kind, child, helper)!;
    result.push({ childId: child.id, helperId: helper.id, cost: edge.cost, reason: edge.reason });
  };
  for (const d of direct) for (let f = graph.flowOn(d.edge); f > 0; f--) assign(d.cls, d.helper);
  // Any split of a pool's flow between its classes and helpers has the same cost.
  pools.forEach((_, p) => {
    const entering: number[] = [];
    for (const e of intoPool) if (e.pool === p) for (let f = graph.flowOn(e.edge); f > 0; f--) entering.push(e.cls);
    let next = 0;
    for (const out of outOfPool) {
      if (out.pool !== p) continue;
      for (let f = graph.flowOn(out.edge); f > 0; f--) assign(entering[next++]!, out.helper);
    }
  });
  return result;
}

/** For each child, the helpers reached by a direct edge (same school or village; for peers, same school and sex). */
function localIndex(kind: PairingKind, helpers: MatchHelper[]): (child: MatchChild) => number[] {
  const byKey = new Map<string, number[]>();
  const add = (key: string, j: number) => {
    const list = byKey.get(key);
    if (list) list.push(j);
    else byKey.set(key, [j]);
  };
  helpers.forEach((h, j) => {
    if (kind === "peer") {
      if (h.schoolId && h.sex) add(`peer:${h.schoolId}:${h.sex}`, j);
    } else if (h.kind === "teacher") {
      if (h.schoolId) add(`school:${h.schoolId}`, j);
    } else {
      add(`village:${h.orgUnitCode}`, j);
    }
  });
  const none: number[] = [];
  return (child) =>
    kind === "peer"
      ? ((child.schoolId ? byKey.get(`peer:${child.schoolId}:${child.sex}`) : undefined) ?? none)
      : [...(child.schoolId ? (byKey.get(`school:${child.schoolId}`) ?? none) : none), ...(byKey.get(`village:${child.villageCode}`) ?? none)];
}

function unmatchedOf(kind: PairingKind, children: MatchChild[], helpers: MatchHelper[], assigned: Assignment[], forbidden: ReadonlySet<string>): Unmatched[] {
  const covered = new Set(assigned.map((a) => a.childId));
  const reachable = (child: MatchChild) => helpers.some((h) => !forbidden.has(`${child.id}:${h.id}`) && edgeFor(kind, child, h) !== null);
  return children
    .filter((c) => !covered.has(c.id))
    .map((child) => ({ childId: child.id, reason: reachable(child) ? ("capacity" as const) : ("no_candidate" as const) }));
}

function indexesWhere<T>(items: T[], test: (item: T) => boolean): number[] {
  const out: number[] = [];
  items.forEach((item, i) => {
    if (test(item)) out.push(i);
  });
  return out;
}
