import {
  closeSync,
  fdatasync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Logger } from "@shouhu/kit";
import type { PrismaClient } from "../generated/prisma/client.js";

export interface AuditRecord {
  userId: string;
  username: string;
  roles: string[];
  orgUnit: string;
  action: string;
  childIds: string[];
  method: string;
  path: string;
  status: number;
  /** The gateway's own id of the request: unique per row, which makes a replay idempotent. */
  requestId: string;
  /** What the client sent as x-request-id, kept for correlation, never used as the id. */
  clientRequestId?: string | null;
  /** allowed: the data was served; refused: the request was answered 401/403/404. */
  outcome: "allowed" | "refused";
  /** The client's address (request.ip: X-Forwarded-For only from a trusted proxy). */
  sourceIp: string | null;
}

/** A record as the journal holds it: with the time it was served, which becomes the row's `at`. */
type JournalEntry = AuditRecord & { at: string };

/** What the writer needs of a pg pool (`createPgPool` from @shouhu/db). */
export interface AuditPool {
  query(config: { name: string; text: string; values: unknown[] }): Promise<unknown>;
}

/** The journal holds as much unwritten audit as it may: the request must not be served. */
export class AuditJournalFullError extends Error {
  constructor(bytes: number, max: number) {
    super(`audit journal holds ${bytes} unwritten bytes (limit ${max}): PostgreSQL has been unreachable too long`);
  }
}

export interface AuditWriterOptions {
  /** pg pool for the INSERTs (a prepared statement); without it Prisma runs the same SQL. */
  pool?: AuditPool | undefined;
  /**
   * The journal's directory, one per gateway instance, on a disk that outlives the process
   * (config AUDIT_JOURNAL_DIR). Absent: a private temporary directory, removed on close —
   * for tests and tools only, since nothing would replay it after a crash.
   */
  dir?: string | undefined;
  /** Most rows per INSERT. */
  maxBatch?: number;
  /** Least time between the starts of two INSERTs: under load each carries what came in meanwhile. */
  minIntervalMs?: number;
  /** Unwritten bytes past which a record is refused (AuditJournalFullError → 503). */
  maxBytes?: number;
  /** Journal bytes whose records are also kept as objects; unwritten records beyond it (an outage) are read back from the files. */
  cacheBytes?: number;
  /** A segment file is closed for appends past this size; it is deleted once all its rows are in PostgreSQL. */
  segmentBytes?: number;
  /**
   * "none": a record is on its way to disk once written (the page cache): it survives a crash
   * of the process, not a power loss in the OS's writeback window (~30 s). "group": a record
   * resolves only after an fdatasync covering it (one for all records written meanwhile).
   */
  sync?: "none" | "group";
  /** Waiting after a failed INSERT: doubles from the first value to the second. */
  retryMs?: [number, number];
  logger?: Pick<Logger, "info" | "warn" | "error"> | undefined;
  /**
   * The database the rows are for (host:port/name, no credentials), kept beside the journal:
   * a journal left with rows for another database is refused rather than replayed into this one.
   */
  database?: string | undefined;
}

// seq, prev_hash and hash are set by the audit_chain trigger (one order across replicas).
// A row whose request_id is already there is skipped before the trigger runs (a replay
// after a crash, or a retry of an INSERT whose commit was not confirmed): ON CONFLICT
// would fire the trigger first and advance the chain head for a row never written.
const INSERT_SQL = `INSERT INTO audit_entries (at, user_id, username, roles, org_unit, action, child_ids, method, path, status, request_id, client_request_id, outcome, source_ip)
  SELECT u.at, u.user_id, u.username, string_to_array(u.roles, ','), u.org_unit, u.action,
         CASE WHEN u.child_ids = '' THEN '{}'::uuid[] ELSE string_to_array(u.child_ids, ',')::uuid[] END,
         u.method, u.path, u.status, u.request_id, u.client_request_id, u.outcome, u.source_ip
  FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::int[], $11::text[], $12::text[], $13::text[], $14::text[])
    WITH ORDINALITY AS u(at, user_id, username, roles, org_unit, action, child_ids, method, path, status, request_id, client_request_id, outcome, source_ip, n)
  WHERE NOT EXISTS (SELECT 1 FROM audit_entries e WHERE e.request_id = u.request_id)
  ORDER BY u.n`;

const SEGMENT = /^audit-(\d{12})\.jsonl$/;
const segmentName = (no: number) => `audit-${String(no).padStart(12, "0")}.jsonl`;
const LOCK = "journal.lock";
const META = "journal.json";
const READ_WINDOW = 1024 * 1024;

interface Segment {
  no: number;
  file: string;
  fd: number;
  /** Bytes in the file. */
  size: number;
  /** Bytes from the start whose rows are committed (or skipped as unreadable). */
  flushed: number;
  /**
   * The records appended by this process not yet written, as objects, so the flusher need not
   * read and parse back what it just wrote: `next` is the first unwritten. Null for segments
   * found at start, and once the cache outgrew its bound (an outage): then the file is read.
   */
  cache: { entries: JournalEntry[]; sizes: number[]; next: number } | null;
}

const emptyCache = () => ({ entries: [] as JournalEntry[], sizes: [] as number[], next: 0 });

/** Directories held by a writer of this process (the lock file names the process only). */
const held = new Set<string>();

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The audit trail's write path, off the request's: each record is appended to a local
 * journal (one JSON line, a synchronous write, before the response is released), and a
 * background flusher INSERTs what the journal holds into PostgreSQL in batches, then
 * moves past it. A crash of the gateway loses nothing the journal holds: the next start
 * replays it, and rows already committed are skipped by their request id. While
 * PostgreSQL is unreachable responses are still served and the journal grows, up to
 * `maxBytes`; past that records are refused (the proxy answers 503) until it drains.
 *
 * The journal is a series of segment files, appended to the newest; the flusher reads
 * from the oldest, so memory holds no more than one read window however long an outage
 * lasts. A segment is deleted once all its rows are committed, and the newest is
 * truncated whenever everything is, so a restart after a clean run replays nothing.
 */
export class AuditWriter {
  readonly dir: string;
  private readonly ownDir: boolean;
  private readonly pool: AuditPool | undefined;
  private readonly maxBatch: number;
  private readonly minIntervalMs: number;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly cacheBytes: number;
  private readonly sync: "none" | "group";
  private readonly retryMs: [number, number];
  private readonly logger: AuditWriterOptions["logger"];
  private readonly segments: Segment[] = [];
  /** Bytes ever appended and ever flushed (this process, plus what it found at start). */
  private written = 0;
  private committed = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private lastStart = -Infinity;
  private failures = 0;
  private waiters: { upTo: number; resolve: () => void }[] = [];
  private syncing = false;
  private syncQueue: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private closed = false;
  /** For metrics: rows inserted, rows found already there, unreadable lines skipped, failed INSERTs. */
  readonly counts = { inserted: 0, duplicates: 0, unreadable: 0, failures: 0 };
  /** When the oldest unwritten record was journaled (ms since epoch); undefined when none. */
  private oldestAt: number | undefined;
  /** Journal bytes of the cached, unwritten records. */
  private cachedBytes = 0;
  private refusing = false;

  constructor(
    private readonly prisma: PrismaClient,
    options: AuditWriterOptions = {},
  ) {
    this.pool = options.pool;
    this.maxBatch = options.maxBatch ?? 500;
    this.minIntervalMs = options.minIntervalMs ?? 10;
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.segmentBytes = options.segmentBytes ?? 8 * 1024 * 1024;
    this.cacheBytes = options.cacheBytes ?? 16 * 1024 * 1024;
    this.sync = options.sync ?? "none";
    this.retryMs = options.retryMs ?? [100, 5000];
    this.logger = options.logger;
    this.ownDir = !options.dir;
    this.dir = path.resolve(options.dir ?? mkdtempSync(path.join(os.tmpdir(), "shouhu-audit-journal-")));
    mkdirSync(this.dir, { recursive: true });
    this.lock();
    try {
      this.recover();
      this.claim(options.database);
    } catch (err) {
      this.release();
      throw err;
    }
    this.open(this.segments.reduce((n, s) => Math.max(n, s.no), 0) + 1);
    if (this.written > this.committed) {
      this.logger?.warn({ dir: this.dir, bytes: this.written - this.committed, segments: this.segments.length - 1 }, "replaying the audit journal");
      this.oldestAt = Date.now();
      this.kick();
    }
  }

  /** Unwritten bytes in the journal. */
  get pendingBytes(): number {
    return this.written - this.committed;
  }

  /** Seconds since the oldest unwritten record was journaled (0 when none). */
  get lagSeconds(): number {
    return this.oldestAt === undefined ? 0 : (Date.now() - this.oldestAt) / 1000;
  }

  /** Whether a record was refused for want of room since PostgreSQL last took rows. */
  get full(): boolean {
    return this.refusing;
  }

  /** Journals the record; throws if it cannot be (journal full, disk error, closed). */
  record(record: AuditRecord): void {
    if (this.closed) throw new Error("audit writer is closed");
    const entry: JournalEntry = { ...record, at: new Date().toISOString() };
    const line = Buffer.from(`${JSON.stringify(entry)}\n`, "utf8");
    if (this.pendingBytes + line.length > this.maxBytes) {
      this.refusing = true;
      throw new AuditJournalFullError(this.pendingBytes, this.maxBytes);
    }
    let seg = this.segments.at(-1)!;
    if (seg.size > 0 && seg.size + line.length > this.segmentBytes) seg = this.rotate();
    let n = 0;
    try {
      n = writeSync(seg.fd, line);
    } finally {
      // A short or failed write (disk full) leaves no partial line for the flusher to trip on.
      if (n !== line.length) ftruncateSync(seg.fd, seg.size);
    }
    if (n !== line.length) throw new Error(`audit journal write was short (${n} of ${line.length} bytes)`);
    seg.size += n;
    this.written += n;
    if (seg.cache) {
      if (this.cachedBytes + n <= this.cacheBytes) {
        seg.cache.entries.push(entry);
        seg.cache.sizes.push(n);
        this.cachedBytes += n;
      } else this.dropCache(seg);
    }
    this.oldestAt ??= Date.now();
    this.kick();
  }

  /**
   * With `sync: "group"`: resolves once every record journaled so far is on disk (one
   * fdatasync for all records written meanwhile). With "none": undefined, nothing to wait for.
   */
  onDisk(): Promise<void> | undefined {
    return this.sync === "group" ? this.durable() : undefined;
  }

  /** Resolves once everything journaled before the call is committed to PostgreSQL (waits out an outage). */
  drain(): Promise<void> {
    const upTo = this.written;
    if (this.committed >= upTo) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ upTo, resolve });
      // Now, not after the batch interval or a retry's back-off.
      if (this.timer && !this.writing) {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.failures = 0;
      }
      this.kick(true);
    });
  }

  /**
   * Shutdown: writes what it can within `timeoutMs`, then stops. What is left stays in the
   * journal for the next start (a private temporary journal is removed only if empty).
   */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)));
    await Promise.race([this.drain(), deadline]);
    this.closed = true;
    clearTimeout(this.timer);
    await Promise.race([this.writing, deadline]);
    clearTimeout(timer);
    while (this.syncing) await new Promise((r) => setTimeout(r, 1));
    const empty = this.pendingBytes === 0;
    for (const seg of this.segments) {
      if (this.sync === "group") fsyncSync(seg.fd);
      closeSync(seg.fd);
      if (seg.flushed >= seg.size) unlinkSync(seg.file);
    }
    this.segments.length = 0;
    this.release();
    if (this.ownDir && empty) rmSync(this.dir, { recursive: true, force: true });
  }

  /** One writer per directory: a second process on the same journal would replay rows the first is still writing. */
  private lock(): void {
    const file = path.join(this.dir, LOCK);
    if (held.has(this.dir)) throw new Error(`audit journal ${this.dir} is already open in this process`);
    try {
      writeFileSync(file, String(process.pid), { flag: "wx" });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const pid = Number(readFileSync(file, "utf8"));
      // The same pid is a restarted container (pid 1 again) or an earlier writer of this process that died with it.
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new Error(`audit journal ${this.dir} is in use by process ${pid} (give each gateway instance its own AUDIT_JOURNAL_DIR)`);
      }
      writeFileSync(file, String(process.pid));
    }
    held.add(this.dir);
  }

  private release(): void {
    for (const seg of this.segments) closeSync(seg.fd);
    this.segments.length = 0;
    rmSync(path.join(this.dir, LOCK), { force: true });
    held.delete(this.dir);
  }

  /** Rows left for another database are not replayed into this one; the journal is then marked as this database's. */
  private claim(database: string | undefined): void {
    const file = path.join(this.dir, META);
    let previous: string | undefined;
    try {
      previous = (JSON.parse(readFileSync(file, "utf8")) as { database?: string }).database;
    } catch {
      previous = undefined;
    }
    if (this.written > 0 && previous && database && previous !== database) {
      throw new Error(
        `audit journal ${this.dir} holds unwritten rows for ${previous}, not ${database}: start a gateway on that database to write them, or move the journal away`,
      );
    }
    if (database && database !== previous) writeFileSync(file, JSON.stringify({ database }));
  }

  /** Segments left by an earlier run: all unwritten as far as this process knows; the INSERT skips what is there. */
  private recover(): void {
    const found = readdirSync(this.dir)
      .map((name) => SEGMENT.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const no of found) {
      const file = path.join(this.dir, segmentName(no));
      const size = statSync(file).size;
      if (size === 0) {
        unlinkSync(file);
        continue;
      }
      this.segments.push({ no, file, fd: openSync(file, "r"), size, flushed: 0, cache: null });
      this.written += size;
    }
  }

  private open(no: number): Segment {
    const file = path.join(this.dir, segmentName(no));
    const seg: Segment = { no, file, fd: openSync(file, "a+"), size: 0, flushed: 0, cache: emptyCache() };
    if (this.sync === "group") {
      // The new file's directory entry must be on disk too, or its records are not.
      const dirFd = openSync(this.dir, "r");
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    }
    this.segments.push(seg);
    return seg;
  }

  private rotate(): Segment {
    const old = this.segments.at(-1)!;
    if (this.sync === "group") fsyncSync(old.fd); // records waiting on its fdatasync are covered
    return this.open(old.no + 1);
  }

  /** Resolves after an fdatasync that started after the call: one for every record written meanwhile. */
  private durable(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.syncQueue.push({ resolve, reject });
      if (!this.syncing) this.syncNow();
    });
  }

  private syncNow(): void {
    const waiting = this.syncQueue;
    this.syncQueue = [];
    this.syncing = true;
    fdatasync(this.segments.at(-1)!.fd, (err) => {
      this.syncing = false;
      for (const w of waiting) {
        if (err) w.reject(err);
        else w.resolve();
      }
      if (this.syncQueue.length) this.syncNow();
    });
  }

  /** Schedules the next INSERT: at once when idle, else after the interval since the last one, or a back-off after a failure. */
  private kick(now = false): void {
    if (this.closed || this.writing || this.timer || this.committed >= this.written) return;
    const backoff = this.failures ? Math.min(this.retryMs[1], this.retryMs[0] * 2 ** (this.failures - 1)) : 0;
    const wait = now ? 0 : Math.max(backoff, this.lastStart + this.minIntervalMs - performance.now());
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.writing = this.step()
          .catch((err: unknown) => this.logger?.error({ err }, "audit journal flush failed"))
          .finally(() => {
            this.writing = undefined;
            this.kick();
          });
      },
      Math.max(0, wait),
    );
    this.timer.unref();
  }

  private async step(): Promise<void> {
    this.dropFlushed();
    const seg = this.segments.find((s) => s.flushed < s.size);
    if (!seg) return;
    const cache = seg.cache;
    const { rows, bytes, unreadable } = cache ? this.fromCache(cache) : this.read(seg);
    if (unreadable) {
      this.counts.unreadable += unreadable;
      this.logger?.error({ file: seg.file, offset: seg.flushed, lines: unreadable }, "unreadable lines in the audit journal skipped (a torn write?)");
    }
    if (rows.length) {
      this.lastStart = performance.now();
      try {
        const inserted = await this.insert(rows);
        if (inserted !== undefined) {
          this.counts.inserted += inserted;
          this.counts.duplicates += rows.length - inserted;
        }
      } catch (err) {
        this.counts.failures++;
        if (this.failures++ === 0) this.logger?.warn({ err, pendingBytes: this.pendingBytes }, "audit rows not written; kept in the journal, retrying");
        return;
      }
      if (this.failures) this.logger?.info({ after: this.failures, pendingBytes: this.pendingBytes }, "audit rows written again");
      this.failures = 0;
    }
    seg.flushed += bytes;
    this.committed += bytes;
    // Still the same cache (not dropped meanwhile): move past the rows just written.
    if (cache && seg.cache === cache) {
      cache.next += rows.length;
      this.cachedBytes -= bytes;
      if (cache.next === cache.entries.length || cache.next >= 4096) {
        cache.entries = cache.entries.slice(cache.next);
        cache.sizes = cache.sizes.slice(cache.next);
        cache.next = 0;
      }
    }
    this.settle(rows.at(-1)?.at);
  }

  /** Segments behind the newest whose rows are all in: done with. Not while an fdatasync may still use an fd. */
  private dropFlushed(): void {
    while (this.segments.length > 1 && this.segments[0]!.flushed >= this.segments[0]!.size && !this.syncing) {
      const done = this.segments.shift()!;
      closeSync(done.fd);
      unlinkSync(done.file);
    }
  }

  /** After a batch: wake drain() callers, and empty the journal when everything is in. */
  private settle(lastAt: string | undefined): void {
    this.refusing = false;
    if (this.committed >= this.written) {
      this.oldestAt = undefined;
      this.dropFlushed();
      if (this.segments.length === 1 && !this.syncing) {
        const seg = this.segments[0]!;
        ftruncateSync(seg.fd, 0);
        seg.size = seg.flushed = 0;
        if (!seg.cache) seg.cache = emptyCache(); // everything is in: caching can start again
      }
    } else if (lastAt) {
      // The next unwritten record was journaled no earlier than the last one written.
      this.oldestAt = Date.parse(lastAt);
    }
    if (this.waiters.length) {
      const ready = this.waiters.filter((w) => w.upTo <= this.committed);
      this.waiters = this.waiters.filter((w) => w.upTo > this.committed);
      for (const w of ready) w.resolve();
    }
  }

  /** The next rows from a segment's cache and the journal bytes they span. */
  private fromCache(cache: NonNullable<Segment["cache"]>): { rows: JournalEntry[]; bytes: number; unreadable: number } {
    const end = Math.min(cache.entries.length, cache.next + this.maxBatch);
    let bytes = 0;
    for (let i = cache.next; i < end; i++) bytes += cache.sizes[i]!;
    return { rows: cache.entries.slice(cache.next, end), bytes, unreadable: 0 };
  }

  /** Past the bound (a long outage): this segment's unwritten records are read back from its file from now on. */
  private dropCache(seg: Segment): void {
    const cache = seg.cache!;
    for (let i = cache.next; i < cache.sizes.length; i++) this.cachedBytes -= cache.sizes[i]!;
    seg.cache = null;
  }

  /** Whole lines from the segment's flushed position: up to maxBatch rows, the bytes they span, and lines that did not parse. */
  private read(seg: Segment): { rows: JournalEntry[]; bytes: number; unreadable: number } {
    const left = seg.size - seg.flushed;
    let window = Math.min(left, READ_WINDOW);
    let buf = Buffer.allocUnsafe(window);
    let got = readSync(seg.fd, buf, 0, window, seg.flushed);
    // One line longer than the window (a list naming thousands of children): read more.
    while (buf.subarray(0, got).indexOf(10) < 0 && window < left) {
      window = Math.min(left, window * 4);
      buf = Buffer.allocUnsafe(window);
      got = readSync(seg.fd, buf, 0, window, seg.flushed);
    }
    const rows: JournalEntry[] = [];
    let unreadable = 0;
    let pos = 0;
    while (rows.length < this.maxBatch) {
      const nl = buf.indexOf(10, pos);
      if (nl < 0 || nl >= got) break;
      const entry = parse(buf.toString("utf8", pos, nl));
      if (entry) rows.push(entry);
      else unreadable++;
      pos = nl + 1;
    }
    // No newline up to the segment's end: a line cut short by a crash mid-write (older segments only; ours end whole).
    if (pos === 0 && rows.length === 0 && got === left) return { rows, bytes: left, unreadable: 1 };
    return { rows, bytes: pos, unreadable };
  }

  /** The rows inserted (pg reports it; Prisma's raw execute too), those already present being skipped. */
  private async insert(rows: JournalEntry[]): Promise<number | undefined> {
    const values = [
      rows.map((r) => r.at),
      rows.map((r) => r.userId),
      rows.map((r) => r.username),
      rows.map((r) => r.roles.join(",")),
      rows.map((r) => r.orgUnit),
      rows.map((r) => r.action),
      rows.map((r) => r.childIds.join(",")),
      rows.map((r) => r.method),
      rows.map((r) => r.path),
      rows.map((r) => r.status),
      rows.map((r) => r.requestId),
      // Bounded: a client's header is its own business, not a way to grow the audit table.
      rows.map((r) => r.clientRequestId?.slice(0, 128) ?? null),
      rows.map((r) => r.outcome),
      rows.map((r) => r.sourceIp?.slice(0, 45) ?? null),
    ];
    if (this.pool) {
      const result = (await this.pool.query({ name: "gateway-audit-insert-v2", text: INSERT_SQL, values })) as { rowCount?: number | null } | undefined;
      return typeof result?.rowCount === "number" ? result.rowCount : undefined;
    }
    return this.prisma.$executeRawUnsafe(INSERT_SQL, ...values);
  }
}

function parse(line: string): JournalEntry | undefined {
  try {
    const e = JSON.parse(line) as JournalEntry;
    return typeof e.requestId === "string" && typeof e.at === "string" && Array.isArray(e.childIds) && Array.isArray(e.roles) ? e : undefined;
  } catch {
    return undefined;
  }
}
