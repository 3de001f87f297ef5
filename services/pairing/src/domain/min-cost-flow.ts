/**
 * Minimum-cost flow by successive shortest paths with Johnson potentials and
 * Dijkstra (binary heap). Costs must be non-negative integers, which keeps the
 * potentials exact.
 *
 * Each augmentation starts from one node with supply (`augment(from, to)`), as in
 * the generic successive-shortest-path method: any order of supplies ends in a
 * minimum-cost flow, since every step keeps all reduced costs non-negative.
 * Dijkstra stops once the target is settled; potentials then change by
 * min(dist, dist(target)), which keeps the reduced costs non-negative (for nodes
 * not reached that is the same constant for all, so only reached nodes are touched).
 */
export class MinCostFlow {
  private readonly head: Int32Array;
  private next: Int32Array;
  private to: Int32Array;
  private cap: Int32Array;
  private cost: Float64Array;
  private edges = 0;
  private readonly potential: Float64Array;
  private readonly dist: Float64Array;
  private readonly prevEdge: Int32Array;
  /** Dijkstra run in which a node got a distance / was settled; avoids clearing arrays per run. */
  private readonly seenIn: Int32Array;
  private readonly settledIn: Int32Array;
  private readonly touched: Int32Array;
  private run = 0;
  private readonly heap: BinaryHeap;

  constructor(
    readonly nodeCount: number,
    expectedEdges = 16,
  ) {
    this.head = new Int32Array(nodeCount).fill(-1);
    const size = Math.max(16, expectedEdges * 2);
    this.next = new Int32Array(size);
    this.to = new Int32Array(size);
    this.cap = new Int32Array(size);
    this.cost = new Float64Array(size);
    this.potential = new Float64Array(nodeCount);
    this.dist = new Float64Array(nodeCount);
    this.prevEdge = new Int32Array(nodeCount);
    this.seenIn = new Int32Array(nodeCount);
    this.settledIn = new Int32Array(nodeCount);
    this.touched = new Int32Array(nodeCount);
    this.heap = new BinaryHeap(nodeCount);
  }

  /** Adds u→v and its residual twin; returns the forward edge's index. */
  addEdge(u: number, v: number, capacity: number, cost: number): number {
    if (cost < 0 || !Number.isInteger(cost)) throw new Error(`edge cost must be a non-negative integer, got ${cost}`);
    if (this.edges + 2 > this.to.length) this.grow();
    const e = this.edges;
    this.link(e, u, v, capacity, cost);
    this.link(e + 1, v, u, 0, -cost);
    this.edges += 2;
    return e;
  }

  /** Flow currently on a forward edge returned by addEdge. */
  flowOn(edge: number): number {
    return this.cap[edge ^ 1]!;
  }

  /** Sends up to maxFlow units from s to t at minimum cost (add edges before the first call). */
  solve(s: number, t: number, maxFlow = Number.POSITIVE_INFINITY): { flow: number; cost: number } {
    let flow = 0;
    let cost = 0;
    while (flow < maxFlow) {
      const pushed = this.augment(s, t, maxFlow - flow);
      if (!pushed) break;
      flow += pushed.flow;
      cost += pushed.cost;
    }
    return { flow, cost };
  }

  /** One augmentation along a cheapest from → to path; null when `to` is unreachable. */
  augment(from: number, to: number, limit = Number.POSITIVE_INFINITY): { flow: number; cost: number } | null {
    const run = ++this.run;
    const { dist, potential, prevEdge, seenIn, settledIn, touched, heap } = this;
    let touchedCount = 0;
    dist[from] = 0;
    prevEdge[from] = -1;
    seenIn[from] = run;
    touched[touchedCount++] = from;
    heap.clear();
    heap.push(from, 0);
    let reached = false;
    while (heap.size > 0) {
      const u = heap.pop();
      if (settledIn[u] === run) continue;
      settledIn[u] = run;
      if (u === to) {
        reached = true;
        break;
      }
      const du = dist[u]! + potential[u]!;
      for (let e = this.head[u]!; e !== -1; e = this.next[e]!) {
        if (this.cap[e]! <= 0) continue;
        const v = this.to[e]!;
        if (settledIn[v] === run) continue;
        const nd = du + this.cost[e]! - potential[v]!;
        if (seenIn[v] !== run) {
          seenIn[v] = run;
          touched[touchedCount++] = v;
        } else if (nd >= dist[v]!) continue;
        dist[v] = nd;
        prevEdge[v] = e;
        heap.push(v, nd);
      }
    }
    if (!reached) return null;
    const dt = dist[to]!;
    for (let i = 0; i < touchedCount; i++) {
      const v = touched[i]!;
      if (dist[v]! < dt) potential[v]! += dist[v]! - dt;
    }
    let push = limit;
    for (let v = to; v !== from; v = this.to[prevEdge[v]! ^ 1]!) push = Math.min(push, this.cap[prevEdge[v]!]!);
    let cost = 0;
    for (let v = to; v !== from; v = this.to[prevEdge[v]! ^ 1]!) {
      const e = prevEdge[v]!;
      this.cap[e]! -= push;
      this.cap[e ^ 1]! += push;
      cost += push * this.cost[e]!;
    }
    return { flow: push, cost };
  }

  private link(e: number, u: number, v: number, capacity: number, cost: number): void {
    this.to[e] = v;
    this.cap[e] = capacity;
    this.cost[e] = cost;
    this.next[e] = this.head[u]!;
    this.head[u] = e;
  }

  private grow(): void {
    const size = this.to.length * 2;
    const resize = <A extends Int32Array | Float64Array>(a: A, make: (n: number) => A): A => {
      const b = make(size);
      b.set(a);
      return b;
    };
    this.next = resize(this.next, (k) => new Int32Array(k));
    this.to = resize(this.to, (k) => new Int32Array(k));
    this.cap = resize(this.cap, (k) => new Int32Array(k));
    this.cost = resize(this.cost, (k) => new Float64Array(k));
  }
}

/** Min-heap of (node, key) with lazy deletion; sized for the pushes of one Dijkstra run. */
class BinaryHeap {
  private nodes: Int32Array;
  private keys: Float64Array;
  size = 0;

  constructor(capacity: number) {
    this.nodes = new Int32Array(Math.max(16, capacity));
    this.keys = new Float64Array(Math.max(16, capacity));
  }

  clear(): void {
    this.size = 0;
  }

  push(node: number, key: number): void {
    if (this.size === this.nodes.length) {
      const nodes = new Int32Array(this.size * 2);
      nodes.set(this.nodes);
      const keys = new Float64Array(this.size * 2);
      keys.set(this.keys);
      this.nodes = nodes;
      this.keys = keys;
    }
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.keys[parent]! <= key) break;
      this.nodes[i] = this.nodes[parent]!;
      this.keys[i] = this.keys[parent]!;
      i = parent;
    }
    this.nodes[i] = node;
    this.keys[i] = key;
  }

  pop(): number {
    const top = this.nodes[0]!;
    const last = --this.size;
    if (last > 0) {
      const node = this.nodes[last]!;
      const key = this.keys[last]!;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= last) break;
        const r = l + 1;
        const c = r < last && this.keys[r]! < this.keys[l]! ? r : l;
        if (this.keys[c]! >= key) break;
        this.nodes[i] = this.nodes[c]!;
        this.keys[i] = this.keys[c]!;
        i = c;
      }
      this.nodes[i] = node;
      this.keys[i] = key;
    }
    return top;
  }
}
