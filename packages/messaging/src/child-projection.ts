import type { ChildSnapshot } from "@shouhu/contracts";
import type { SqlTx } from "./outbox.js";

/**
 * How a service keeps its copy of "the child as the registry last said" — pairing (whom to
 * match), visits (whose visits are due), health (who is in a campaign's scope), notifications
 * (birthdays, the guardian's phone), reporting (the counts). One implementation of the rules
 * every copy shares:
 * - one multi-row upsert per batch (`jsonb_to_recordset`), rows written in id order so two
 *   batches touching the same children wait for each other and never deadlock;
 * - the newest revision wins: an older or repeated snapshot changes nothing, so redelivered
 *   or reordered events converge on the same row;
 * - at most one snapshot per child per call (a consumer batch passes them in `rounds`).
 * Each service names its columns (SQL type and the value taken from its input) and, where it
 * needs one, a column's own update rule; what it does besides (end pairings, close visit
 * items or follow-ups) follows from the rows returned.
 */
export interface ChildProjection<In> {
  /** The table; its primary key is `id` (uuid) and it has a `revision` int column. */
  table: string;
  /** Columns besides id and revision: SQL type, and the value from the input. */
  columns: Record<string, { type: string; value: (input: In) => unknown }>;
  /** The child (id, revision) an input describes. */
  child: (input: In) => Pick<ChildSnapshot, "id" | "revision">;
  /** A column's update rule other than `= EXCLUDED.column` (SQL over the table and EXCLUDED). */
  onUpdate?: Record<string, string>;
  /** Extra columns to return besides id (SQL expressions over the table's row). */
  returning?: Record<string, string>;
}

type Exec = Pick<SqlTx, "$queryRawUnsafe">;

/**
 * Upserts the inputs whose revision is newer than the row held; returns the rows written
 * (id as lower-case text, plus `returning`), in id order. Inputs not newer return nothing.
 */
export async function upsertChildren<In, Out extends Record<string, unknown> = Record<string, never>>(
  tx: Exec,
  p: ChildProjection<In>,
  inputs: readonly In[],
): Promise<({ id: string } & Out)[]> {
  if (inputs.length === 0) return [];
  const names = Object.keys(p.columns);
  const all = ["id", ...names, "revision"];
  const types = ["uuid", ...names.map((n) => p.columns[n]!.type), "int"];
  const sets = [...names, "revision"].map((c) => `${c} = ${p.onUpdate?.[c] ?? `EXCLUDED.${c}`}`);
  const returning = Object.entries(p.returning ?? {}).map(([as, expr]) => `, ${expr} AS "${as}"`);
  return tx.$queryRawUnsafe<({ id: string } & Out)[]>(
    `INSERT INTO ${p.table} (${all.join(", ")})
     SELECT ${all.join(", ")} FROM jsonb_to_recordset($1::jsonb) AS c(${all.map((c, i) => `${c} ${types[i]}`).join(", ")})
      ORDER BY id
     ON CONFLICT (id) DO UPDATE SET ${sets.join(", ")}
     WHERE ${p.table}.revision < EXCLUDED.revision
     RETURNING id::text${returning.join("")}`,
    JSON.stringify(
      inputs.map((input) => {
        const { id, revision } = p.child(input);
        const row: Record<string, unknown> = { id, revision };
        for (const n of names) row[n] = p.columns[n]!.value(input);
        return row;
      }),
    ),
  );
}
