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
  requestId: string;
}

/** What the writer needs of a pg pool (`createPgPool` from @shouhu/db). */
export interface AuditPool {
  query(config: { name: string; text: string; values: unknown[] }): Promise<unknown>;
}

interface Pending {
  record: AuditRecord;
  resolve: () => void;
  reject: (err: Error) => void;
}

const INSERT_SQL = `INSERT INTO audit_entries (user_id, username, roles, org_unit, action, child_ids, method, path, status, request_id)
  SELECT u.user_id, u.username, string_to_array(u.roles, ','), u.org_unit, u.action,
         CASE WHEN u.child_ids = '' THEN '{}'::uuid[] ELSE string_to_array(u.child_ids, ',')::uuid[] END,
         u.method, u.path, u.status, u.request_id
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::text[])
    AS u(user_id, username, roles, org_unit, action, child_ids, method, path, status, request_id)`;

/**
 * Group commit: each audited request waits until its row is committed (the
 * response is released only then), but rows of concurrent requests share one
 * INSERT. No timer: a row is written at once when fewer than `maxInFlight`
 * INSERTs are running; otherwise it joins the batch that goes when one ends, so
 * batches grow with load while a lone request pays one commit and nothing more.
 */
export class AuditWriter {
  private pending: Pending[] = [];
  private scheduled = false;
  private writing = 0;
  private inFlight = new Set<Promise<void>>();
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly pool: AuditPool | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    options: { maxBatch?: number; maxInFlight?: number; pool?: AuditPool | undefined } = {},
  ) {
    this.maxBatch = options.maxBatch ?? 200;
    this.maxInFlight = options.maxInFlight ?? 1;
    this.pool = options.pool;
  }

  record(record: AuditRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ record, resolve, reject });
      // setImmediate, not now: responses that completed in the same event-loop turn go together.
      if (!this.scheduled && this.writing < this.maxInFlight) {
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.flush();
        });
      }
    });
  }

  private flush(): void {
    while (this.pending.length > 0 && this.writing < this.maxInFlight) {
      const batch = this.pending.splice(0, this.maxBatch);
      this.writing++;
      const write = this.insert(batch.map((p) => p.record)).then(
        () => batch.forEach((p) => p.resolve()),
        (err: Error) => batch.forEach((p) => p.reject(err)),
      );
      this.inFlight.add(write);
      void write.finally(() => {
        this.inFlight.delete(write);
        this.writing--;
        this.flush();
      });
    }
  }

  private async insert(rows: AuditRecord[]): Promise<void> {
    const values = [
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
    ];
    if (this.pool) await this.pool.query({ name: "gateway-audit-insert", text: INSERT_SQL, values });
    else await this.prisma.$executeRawUnsafe(INSERT_SQL, ...values);
  }

  /** Writes what is queued and waits for writes in flight (shutdown). */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
      this.flush();
    }
  }
}
