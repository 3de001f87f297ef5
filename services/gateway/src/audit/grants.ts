import type pg from "pg";

/**
 * What the gateway's runtime role may do, given by the owner at every start (idempotent,
 * so a role created after the migrations ran gets them too): read and append the audit
 * trail and read its anchors. No UPDATE, DELETE or TRUNCATE: with the append-only triggers
 * and the chain, a compromised gateway can add rows but not rewrite the record.
 */
export async function grantRuntimeRole(owner: Pick<pg.Pool, "query">, role: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(role)) throw new Error(`runtime role name ${role} is not a plain identifier`);
  const { rows } = await owner.query<{ exists: boolean }>("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1) AS exists", [role]);
  if (!rows[0]?.exists) throw new Error(`PostgreSQL role ${role} (DATABASE_RUNTIME_URL) does not exist`);
  await owner.query(`REVOKE ALL ON audit_entries, audit_head, audit_anchors FROM "${role}"`);
  await owner.query(`GRANT SELECT, INSERT ON audit_entries TO "${role}"`);
  await owner.query(`GRANT USAGE ON SEQUENCE audit_entries_id_seq TO "${role}"`);
  await owner.query(`GRANT SELECT ON audit_anchors TO "${role}"`);
  // The staff accounts' history: appended by the accounts API, read by its history view.
  await owner.query(`REVOKE ALL ON account_events FROM "${role}"`);
  await owner.query(`GRANT SELECT, INSERT ON account_events TO "${role}"`);
  await owner.query(`GRANT USAGE ON SEQUENCE account_events_id_seq TO "${role}"`);
}
