import type pg from "pg";
import { Queue, type ConnectionOptions, type JobsOptions } from "bullmq";
import { eventsQueue, type EventType } from "@shouhu/contracts";
import { eventJobOptions } from "./defaults.js";
import { silentLogger, type MessagingLogger } from "./logger.js";

export interface RelayOptions {
  pool: pg.Pool;
  connection: ConnectionOptions;
  prefix?: string;
  producer: string;
  /** Event type → consuming services (`subscriptions` from contracts). */
  routes: Partial<Record<EventType, readonly string[]>>;
  batchSize?: number;
  pollIntervalMs?: number;
  jobOptions?: JobsOptions;
  logger?: MessagingLogger;
  /** Test hook: runs after the events are in Redis and before they are marked published. */
  beforeMarkPublished?: (ids: string[]) => Promise<void> | void;
}

/**
 * Moves committed outbox rows to each consuming service's queue. The job id is
 * the event id, so republishing after a crash (rows added but not yet marked)
 * does not create a second job while the first still exists; the consumer's
 * inbox covers the rest. Several relays can run at once (SKIP LOCKED).
 */
export class OutboxRelay {
  private readonly queues = new Map<string, Queue>();
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly logger: MessagingLogger;

  constructor(private readonly options: RelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 250;
    this.logger = options.logger ?? silentLogger;
  }

  private queue(service: string): Queue {
    let queue = this.queues.get(service);
    if (!queue) {
      queue = new Queue(eventsQueue(service), { connection: this.options.connection, prefix: this.options.prefix });
      queue.on("error", (err) => this.logger.error({ err, queue: queue!.name }, "queue error"));
      this.queues.set(service, queue);
    }
    return queue;
  }

  /** Publishes one batch; returns how many events it moved. */
  async publishOnce(): Promise<number> {
    const client = await this.options.pool.connect();
    let ids: string[] = [];
    try {
      await client.query("BEGIN");
      const { rows } = await client.query<{ id: string; type: EventType; envelope: unknown }>(
        `SELECT id, type, envelope FROM outbox WHERE published_at IS NULL
         ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [this.batchSize],
      );
      if (rows.length === 0) {
        await client.query("COMMIT");
        return 0;
      }
      ids = rows.map((r) => r.id);
      const opts = { ...eventJobOptions, ...this.options.jobOptions };
      await Promise.all(
        rows.flatMap((row) => (this.options.routes[row.type] ?? []).map((service) => this.queue(service).add(row.type, row.envelope, { ...opts, jobId: row.id }))),
      );
      await this.options.beforeMarkPublished?.(ids);
      await client.query("UPDATE outbox SET published_at = now(), publish_attempts = publish_attempts + 1 WHERE id = ANY($1::uuid[])", [ids]);
      await client.query("COMMIT");
      return rows.length;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      if (ids.length) {
        await this.options.pool
          .query("UPDATE outbox SET publish_attempts = publish_attempts + 1, last_error = $2 WHERE id = ANY($1::uuid[])", [ids, String((err as Error).message)])
          .catch(() => undefined);
      }
      throw err;
    } finally {
      client.release();
    }
  }

  /** Publishes now instead of at the next poll (call after a commit). */
  kick(): void {
    this.wake?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        let moved = 0;
        try {
          moved = await this.publishOnce();
        } catch (err) {
          this.logger.error({ err }, "outbox relay failed; will retry");
        }
        if (moved < this.batchSize && this.running) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, this.pollIntervalMs);
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.wake = undefined;
        }
      }
    })();
  }

  /** Finishes the current batch, then closes its queues. */
  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    await this.loop;
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }

  /** Deletes published rows older than the retention; the outbox is not an archive. */
  async prune(olderThanHours = 72): Promise<number> {
    const { rowCount } = await this.options.pool.query(
      "DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < now() - make_interval(hours => $1)",
      [olderThanHours],
    );
    return rowCount ?? 0;
  }
}
