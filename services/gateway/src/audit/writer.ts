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

interface Pending {
  record: AuditRecord;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Group commit: each audited request waits until its row is committed, but
 * rows of concurrent requests share one INSERT, so the trail is durable before
 * the response leaves without a database round trip per request.
 */
export class AuditWriter {
  private pending: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly options: { maxBatch?: number; maxDelayMs?: number } = {},
  ) {}

  record(record: AuditRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ record, resolve, reject });
      if (this.pending.length >= (this.options.maxBatch ?? 200)) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.options.maxDelayMs ?? 5);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const write = this.insert(batch.map((p) => p.record)).then(
      () => batch.forEach((p) => p.resolve()),
      (err: Error) => batch.forEach((p) => p.reject(err)),
    );
    this.inFlight.add(write);
    void write.finally(() => this.inFlight.delete(write));
  }

  private async insert(rows: AuditRecord[]): Promise<void> {
    await this.prisma.$executeRawUnsafe(
      `INSERT INTO audit_entries (user_id, username, roles, org_unit, action, child_ids, method, path, status, request_id)
       SELECT u.user_id, u.username, string_to_array(u.roles, ','), u.org_unit, u.action,
              CASE WHEN u.child_ids = '' THEN '{}'::uuid[] ELSE string_to_array(u.child_ids, ',')::uuid[] END,
              u.method, u.path, u.status, u.request_id
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[], $10::text[])
         AS u(user_id, username, roles, org_unit, action, child_ids, method, path, status, request_id)`,
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
    );
  }

  /** Writes what is queued and waits for writes in flight (shutdown). */
  async drain(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inFlight]);
  }
}
