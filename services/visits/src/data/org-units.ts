import type { EventData } from "@shouhu/contracts";
import type { Tx } from "./db.js";

/** Keeps the names of townships and villages (the registry re-publishes them at every start). */
export async function applyOrgUnitNames(tx: Tx, d: EventData<"snapshot.org-units">): Promise<void> {
  if (d.units.length === 0) return;
  await tx.$executeRawUnsafe(
    `INSERT INTO org_units (code, name) SELECT code, name FROM jsonb_to_recordset($1::jsonb) AS x(code text, name text)
     ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name`,
    JSON.stringify(d.units.map((u) => ({ code: u.code, name: u.name }))),
  );
}
