import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { createGunzip, createGzip } from "node:zlib";
import type pg from "pg";

/**
 * The audit trail's hash chain, checked from outside the database: each row's hash is
 * sha256(previous hash || canonical text), the canonical text being the fields joined by
 * U+001F in a fixed order — the same as the `audit_canonical` SQL function the insert
 * trigger uses (prisma/migrations/…_audit_chain). A row changed, removed or inserted out of
 * order breaks the chain at that row.
 */
const GENESIS = createHash("sha256").update("shouhu-audit-genesis", "utf8").digest();

/** The columns as the chain reads them; `at` already formatted by SQL exactly as the trigger formats it. */
const ROW_SQL = `SELECT seq::text, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, user_id, username,
  coalesce(array_to_string(roles, ','), '') AS roles, org_unit, action, outcome, coalesce(array_to_string(child_ids, ','), '') AS child_ids,
  method, path, status::text, request_id, coalesce(client_request_id, '') AS client_request_id, coalesce(source_ip, '') AS source_ip,
  encode(prev_hash, 'hex') AS prev_hash, encode(hash, 'hex') AS hash
  FROM audit_entries`;

interface ChainRow {
  seq: string;
  at: string;
  user_id: string;
  username: string;
  roles: string;
  org_unit: string;
  action: string;
  outcome: string;
  child_ids: string;
  method: string;
  path: string;
  status: string;
  request_id: string;
  client_request_id: string;
  source_ip: string;
  prev_hash: string;
  hash: string;
}

function canonical(r: ChainRow): string {
  return [
    r.seq,
    r.at,
    r.user_id,
    r.username,
    r.roles,
    r.org_unit,
    r.action,
    r.outcome,
    r.child_ids,
    r.method,
    r.path,
    r.status,
    r.request_id,
    r.client_request_id,
    r.source_ip,
  ].join("\x1f");
}

function rowHash(prev: Buffer, r: ChainRow): Buffer {
  return createHash("sha256").update(prev).update(canonical(r), "utf8").digest();
}

export type VerifyResult = { ok: true; rows: number; fromSeq: string | null; toSeq: string | null } | { ok: false; rows: number; seq: string; reason: string };

/** Walks rows in seq order (from `after`, whose hash is `prev`), recomputing every link. */
async function walk(rows: AsyncIterable<ChainRow>, prev: Buffer, after: bigint): Promise<VerifyResult> {
  let n = 0;
  let first: string | null = null;
  let last: string | null = null;
  let expectSeq = after + 1n;
  for await (const r of rows) {
    n++;
    first ??= r.seq;
    if (BigInt(r.seq) !== expectSeq) return { ok: false, rows: n, seq: r.seq, reason: `序号不连续：应为 ${expectSeq}（有记录被删除或插入）` };
    if (r.prev_hash !== prev.toString("hex")) return { ok: false, rows: n, seq: r.seq, reason: "前一条记录的哈希不符（前一条记录被改动或删除）" };
    const h = rowHash(prev, r);
    if (h.toString("hex") !== r.hash) return { ok: false, rows: n, seq: r.seq, reason: "本条记录的内容与其哈希不符（记录被改动）" };
    prev = h;
    last = r.seq;
    expectSeq++;
  }
  return { ok: true, rows: n, fromSeq: first, toSeq: last };
}

async function* pages(pool: pg.Pool, pageSize = 5000): AsyncGenerator<ChainRow> {
  let after = -1n;
  for (;;) {
    const { rows } = await pool.query<ChainRow>(`${ROW_SQL} WHERE seq > $1 ORDER BY audit_entries.seq LIMIT $2`, [after.toString(), pageSize]);
    for (const r of rows) yield r;
    if (rows.length < pageSize) return;
    after = BigInt(rows[rows.length - 1]!.seq);
  }
}

/** The chain in the database, from the genesis or from the newest archive's anchor. */
export async function verifyChain(pool: pg.Pool): Promise<VerifyResult> {
  const { rows: anchors } = await pool.query<{ last_seq: string; last_hash: Buffer }>(
    "SELECT last_seq::text, last_hash FROM audit_anchors ORDER BY last_seq DESC LIMIT 1",
  );
  const anchor = anchors[0];
  return walk(pages(pool), anchor ? anchor.last_hash : GENESIS, anchor ? BigInt(anchor.last_seq) : 0n);
}

/**
 * Archives the rows older than `retentionDays` (at least 180): writes them, chain columns
 * included, to a gzipped JSON-lines file in `dir` (fsynced, renamed into place), then the
 * database swaps them for one anchor row (`audit_archive_cut`, the owner's function).
 * Runs as the owner role; the gateway's runtime role cannot delete.
 */
export async function archiveChain(
  pool: pg.Pool,
  options: { dir: string; retentionDays: number; now?: Date },
): Promise<{ rows: number; file: string | null; lastSeq: string | null }> {
  if (!Number.isInteger(options.retentionDays) || options.retentionDays < 180)
    throw new Error(`retention ${options.retentionDays} days is under the 180 days MLPS level 3 requires`);
  const cutoff = new Date((options.now ?? new Date()).getTime() - options.retentionDays * 86_400_000);
  const { rows: bound } = await pool.query<{ last: string | null; n: string }>(
    "SELECT max(seq)::text AS last, count(*)::text AS n FROM audit_entries WHERE at < $1",
    [cutoff],
  );
  // Only a prefix of the chain can go: the newest seq before the cutoff, and everything before it.
  const lastSeq = bound[0]?.last ?? null;
  if (!lastSeq) return { rows: 0, file: null, lastSeq: null };
  await mkdir(options.dir, { recursive: true });
  const name = `audit-through-${lastSeq}-${cutoff.toISOString().slice(0, 10)}.jsonl.gz`;
  const file = path.join(options.dir, name);
  const partial = `${file}.partial`;
  const hash = createHash("sha256");
  async function* lines() {
    let after = -1n;
    for (;;) {
      const { rows } = await pool.query<ChainRow>(`${ROW_SQL} WHERE seq > $1 AND seq <= $2 ORDER BY audit_entries.seq LIMIT 5000`, [after.toString(), lastSeq]);
      for (const r of rows) yield `${JSON.stringify(r)}\n`;
      if (rows.length < 5000) return;
      after = BigInt(rows[rows.length - 1]!.seq);
    }
  }
  const out = createWriteStream(partial, { flags: "wx" });
  await pipeline(
    Readable.from(lines()),
    createGzip(),
    async function* (source) {
      for await (const chunk of source as AsyncIterable<Buffer>) {
        hash.update(chunk);
        yield chunk;
      }
    },
    out,
  );
  await rename(partial, file);
  const sha = hash.digest("hex");
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const { rows } = await client.query<{ n: string }>("SELECT audit_archive_cut($1, $2, $3, make_interval(days => $4)) AS n", [
      lastSeq,
      name,
      sha,
      options.retentionDays,
    ]);
    await client.query("COMMIT");
    return { rows: Number(rows[0]!.n), file, lastSeq };
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/**
 * An archive file against its anchor: the file's sha256 is the anchor's, its rows chain
 * from the previous anchor (or the genesis) and end in the anchor's last hash.
 */
export async function verifyArchive(pool: pg.Pool, file: string): Promise<VerifyResult> {
  const name = path.basename(file);
  const { rows: anchors } = await pool.query<{ first_seq: string; last_seq: string; last_hash: Buffer; rows: string; file_sha256: string }>(
    "SELECT first_seq::text, last_seq::text, last_hash, rows::text, file_sha256 FROM audit_anchors WHERE file_name = $1",
    [name],
  );
  const anchor = anchors[0];
  if (!anchor) return { ok: false, rows: 0, seq: "-", reason: `没有该归档文件的锚点记录：${name}` };
  const sha = createHash("sha256");
  for await (const chunk of createReadStream(file)) sha.update(chunk as Buffer);
  if (sha.digest("hex") !== anchor.file_sha256) return { ok: false, rows: 0, seq: anchor.first_seq, reason: "归档文件的 SHA-256 与锚点记录不符（文件被改动）" };
  const { rows: before } = await pool.query<{ last_hash: Buffer }>("SELECT last_hash FROM audit_anchors WHERE last_seq < $1 ORDER BY last_seq DESC LIMIT 1", [
    anchor.first_seq,
  ]);
  const prev = before[0]?.last_hash ?? GENESIS;
  const rows = createInterface({ input: createReadStream(file).pipe(createGunzip()), crlfDelay: Infinity });
  async function* parsed() {
    for await (const line of rows) if (line) yield JSON.parse(line) as ChainRow;
  }
  const result = await walk(parsed(), prev, BigInt(anchor.first_seq) - 1n);
  if (!result.ok) return result;
  if (result.toSeq !== anchor.last_seq || String(result.rows) !== anchor.rows)
    return { ok: false, rows: result.rows, seq: result.toSeq ?? "-", reason: "归档文件的行数或末条序号与锚点记录不符" };
  return result;
}
