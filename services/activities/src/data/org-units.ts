import type { EventData } from "@shouhu/contracts";
import type { SqlTx } from "@shouhu/messaging";

/** Keeps the names of townships and villages (the registry re-publishes them at every start). */
export async function applyOrgUnitNames(tx: Pick<SqlTx, "$executeRawUnsafe">, d: EventData<"snapshot.org-units">): Promise<void> {
  if (d.units.length === 0) return;
  await tx.$executeRawUnsafe(
    `INSERT INTO org_units (code, name) SELECT code, name FROM jsonb_to_recordset($1::jsonb) AS x(code text, name text)
     ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name`,
    JSON.stringify(d.units.map((u) => ({ code: u.code, name: u.name }))),
  );
}
