import { createHash } from "node:crypto";
import type pg from "pg";
import { Queue, type ConnectionOptions, type JobsOptions } from "bullmq";
import { eventsQueue, type EventType } from "@shouhu/contracts";
import { eventJobOptions } from "./defaults.js";
import { silentLogger, type MessagingLogger } from "./logger.js";
import { OUTBOX_CHANNEL } from "./outbox.js";
import { watchOutbox } from "./metrics.js";
import { BATCH_JOB } from "./batch-job.js";

export interface RelayOptions {
  pool: pg.Pool;
  /** ioredis options, an ioredis instance, or a redis:// URL. */
  connection: ConnectionOptions | string;
  prefix?: string;
  producer: string;
  /** Event type → consuming services (`subscriptions` from contracts). */
  routes: Partial<Record<EventType, readonly string[]>>;
  batchSize?: number;
  /** Fallback poll; with `listen` most events go out on the commit's NOTIFY. */
  pollIntervalMs?: number;
  /** LISTEN on the `outbox` channel (holds one pool connection). Default true. */
  listen?: boolean;
  /** Published rows older than this are deleted by `prune()` (and hourly while started). Default 72 h. */
  retentionHours?: number;
  jobOptions?: JobsOptions;
  /**
   * "batch" (default): one BullMQ job per claimed batch and consuming queue, carrying the
   * batch's envelopes in outbox order (see batch-job.ts); "event": one job per event and
   * queue, its id the event id (how every relay published until issue 20).
   */
  jobs?: "batch" | "event";
  logger?: MessagingLogger;
  /** Fault-injection hook for tests: runs after the events are in Redis, before they are marked published. */
  beforeMarkPublished?: (ids: string[]) => Promise<void> | void;
}

interface OutboxRow {
  id: string;
  type: string;
  envelope: unknown;
}

/**
 * Moves committed outbox rows to each consuming service's queue: by default one job per
 * claimed batch and queue, holding that queue's events of the batch in outbox order, its
 * id a hash of their ids; so republishing the same rows after a crash (added but not yet
 * marked) does not create a second job while the first still exists, and the consumer's
 * inbox covers the rest (a republish that claims a different set of rows, or comes after
 * the job was removed, is a real second delivery: each event applies once all the same).
 * One job per batch instead of one per event and queue: BullMQ's per-job work (scripts,
 * job hashes, fetch, lock, completion) was what kept a 10,000-child import from the read
 * models, five jobs per child. Several relays can run at once: each batch is claimed
 * with FOR UPDATE SKIP LOCKED and held until it is marked.
 */
export class OutboxRelay {
  private readonly queues = new Map<string, Queue>();
  private readonly connection: ConnectionOptions;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly logger: MessagingLogger;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** A kick that arrived while a batch was running: go again instead of sleeping. */
  private kicked = false;
  private listener: pg.PoolClient | undefined;
  private failing = false;
  private lastPrune = 0;

  constructor(private readonly options: RelayOptions) {
    this.connection = typeof options.connection === "string" ? { url: options.connection } : options.connection;
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.logger = options.logger ?? silentLogger;
    watchOutbox(options.producer, options.pool);
  }

  private queue(service: string): Queue {
    let queue = this.queues.get(service);
    if (!queue) {
      const name = eventsQueue(service);
      queue = new Queue(name, { connection: this.connection, prefix: this.options.prefix });
      queue.on("error", (err) => this.logger.error({ err, queue: name }, "queue error"));
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
      const { rows } = await client.query<OutboxRow>(
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
      // An event nobody subscribes to is still marked: there is nothing to deliver.
      const perQueue = new Map<string, OutboxRow[]>();
      for (const row of rows) {
        for (const service of this.options.routes[row.type as EventType] ?? []) {
          const list = perQueue.get(service) ?? [];
          list.push(row);
          perQueue.set(service, list);
        }
      }
      await Promise.all(
        [...perQueue].map(([service, list]) =>
          this.options.jobs === "event"
            ? // One addBulk per consuming queue (one Redis round trip each), not one add per event and queue.
              this.queue(service).addBulk(list.map((row) => ({ name: row.type, data: row.envelope, opts: { ...opts, jobId: row.id } })))
            : this.queue(service).add(BATCH_JOB, { events: list.map((row) => row.envelope) }, { ...opts, jobId: batchJobId(list.map((row) => row.id)) }),
        ),
      );
      await this.options.beforeMarkPublished?.(ids);
      await client.query("UPDATE outbox SET published_at = now(), publish_attempts = publish_attempts + 1, last_error = NULL WHERE id = ANY($1::uuid[])", [
        ids,
      ]);
      await client.query("COMMIT");
      this.logger.debug({ count: rows.length }, "outbox events published");
      return rows.length;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      // Some jobs may be in Redis already; the next attempt re-adds them under the same ids.
      if (ids.length) {
        await this.options.pool
          .query("UPDATE outbox SET publish_attempts = publish_attempts + 1, last_error = $2 WHERE id = ANY($1::uuid[])", [ids, String((err as Error).message)])
          .catch((e) => this.logger.error({ err: e }, "could not record the publish failure"));
      }
      throw err;
    } finally {
      client.release();
    }
  }

  /** Publishes now instead of at the next poll (e.g. right after a commit). */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    while (this.running) {
      if (this.options.listen !== false && !this.listener) await this.startListening();
      this.kicked = false;
      let moved = 0;
      try {
        moved = await this.publishOnce();
        if (this.failing) this.logger.info({}, "outbox relay publishing again");
        this.failing = false;
      } catch (err) {
        // Once per outage (PostgreSQL or Redis down), not once per poll.
        if (!this.failing) this.logger.error({ err }, "outbox relay failed; retrying at every poll until it works");
        this.failing = true;
      }
      if (Date.now() - this.lastPrune > 3600_000) {
        this.lastPrune = Date.now();
        await this.prune().catch((err) => this.logger.warn({ err }, "outbox prune failed"));
      }
      // A full batch means more are waiting: go on without sleeping.
      if (moved < this.batchSize && !this.kicked && this.running) {
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
  }

  private async startListening(): Promise<void> {
    try {
      const client = await this.options.pool.connect();
      client.on("notification", () => this.kick());
      // A lost listening connection only costs latency: polling continues, and the next loop reconnects.
      client.on("error", (err) => {
        this.logger.warn({ err }, "outbox LISTEN connection lost");
        if (this.listener === client) this.listener = undefined;
        client.release(err);
      });
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      this.listener = client;
    } catch (err) {
      this.logger.warn({ err }, "could not LISTEN for outbox notifications; polling only");
    }
  }

  /** Finishes the current batch, then closes its queues and the LISTEN connection. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = undefined;
    const listener = this.listener;
    this.listener = undefined;
    if (listener) {
      await listener.query(`UNLISTEN ${OUTBOX_CHANNEL}`).catch(() => undefined);
      listener.release();
    }
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    this.queues.clear();
  }

  /** Deletes published rows older than the retention; the outbox is not an archive. */
  async prune(olderThanHours = this.options.retentionHours ?? 72): Promise<number> {
    const { rowCount } = await this.options.pool.query(
      "DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < now() - make_interval(hours => $1)",
      [olderThanHours],
    );
    return rowCount ?? 0;
  }
}

/** A batch job's id: the same rows give the same id (no ':', never all digits). */
export function batchJobId(eventIds: readonly string[]): string {
  return `batch-${createHash("sha256").update(eventIds.join(",")).digest("hex").slice(0, 32)}`;
}
