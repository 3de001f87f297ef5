import { townshipOf } from "@shouhu/contracts";

export interface CoverageRow {
  villageCode: string;
  inScope: number;
  examined: number;
}
export interface FlagRow {
  villageCode: string;
  kind: string;
  n: number;
}
interface Sum {
  inScope: number;
  examined: number;
  missed: number;
  flags: Record<string, number>;
}

const empty = (): Sum => ({ inScope: 0, examined: 0, missed: 0, flags: {} });
function add(t: Sum, r: Sum): Sum {
  for (const [k, n] of Object.entries(r.flags)) t.flags[k] = (t.flags[k] ?? 0) + n;
  return { ...t, inScope: t.inScope + r.inScope, examined: t.examined + r.examined, missed: t.missed + r.missed };
}

/** Coverage per village (with its findings by kind), summed per township and in total. */
export function summariseCoverage(rows: CoverageRow[], flags: FlagRow[]) {
  const villages = rows.map((r) => ({
    ...r,
    missed: r.inScope - r.examined,
    flags: Object.fromEntries(flags.filter((f) => f.villageCode === r.villageCode).map((f) => [f.kind, f.n])),
  }));
  const townships = new Map<string, Sum>();
  for (const v of villages) townships.set(townshipOf(v.villageCode), add(townships.get(townshipOf(v.villageCode)) ?? empty(), v));
  return {
    villages,
    townships: [...townships].map(([townshipCode, t]) => ({ townshipCode, ...t })),
    total: villages.reduce(add, empty()),
  };
}
