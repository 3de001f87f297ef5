import { DelayedError, UnrecoverableError, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { NotificationChannel } from "@shouhu/contracts";
import { appendToOutbox, buildEvent, type SqlTx } from "@shouhu/messaging";
import { maskPhone } from "@shouhu/auth";
import { ChannelError, type ChannelAdapters } from "../channels/types.js";
import { earliestSend, type QuietHours } from "../domain/quiet-hours.js";
import { quietHoursAt } from "./office-settings.js";
import type { TemplateVars } from "../domain/templates.js";
import type { PrismaClient } from "./db.js";

export const PRODUCER = "notifications";

/** A send's lock: longer than a channel's request timeout (10 s). */
const SEND_LOCK_MS = 60_000;
/** How soon a job that found the lock taken looks again. */
const LOCK_RETRY_MS = 1_000;

/** Per recipient and channel: how many messages per window (group robots allow 20 a minute). */
const defaultRateLimits: Partial<Record<NotificationChannel, { max: number; windowMs: number }>> = {
  sms: { max: 5, windowMs: 3600_000 },
  email: { max: 30, windowMs: 3600_000 },
  wecom: { max: 20, windowMs: 60_000 },
  dingtalk: { max: 20, windowMs: 60_000 },
};

export interface DeliveryDeps {
  prisma: PrismaClient;
  channels: ChannelAdapters;
  redis: Redis;
  keyPrefix: string;
  quiet: QuietHours;
  rateLimits?: typeof defaultRateLimits;
  now?: () => Date;
}

interface MessageRow {
  id: string;
  status: string;
  channel: NotificationChannel;
  address: string;
  recipientName: string | null;
  recipientUsername: string | null;
  template: string;
  title: string;
  body: string;
  vars: TemplateVars;
  secret: string | null;
  urgent: boolean;
  attempts: number;
  sourceEventId: string;
  sourceEventType: string;
  orgUnit: string;
  childId: string | null;
}

const columns = `id, status, channel, address, recipient_name AS "recipientName", recipient_username AS "recipientUsername", template, title, body, vars,
  secret, urgent, attempts, source_event_id AS "sourceEventId", source_event_type AS "sourceEventType", org_unit AS "orgUnit", child_id AS "childId"`;
const select = `SELECT ${columns} FROM messages WHERE id = $1::uuid`;

/** What reporting may know of a recipient: a username, or a masked address. */
function recipientLabel(m: MessageRow): string {
  if (m.recipientUsername) return m.recipientUsername;
  if (m.channel === "sms") return maskPhone(m.address);
  if (m.channel === "email") return m.address.replace(/^(.).*(@.*)$/, "$1***$2");
  return m.channel;
}

function outcome(m: MessageRow) {
  return {
    messageId: m.id,
    sourceEventId: m.sourceEventId,
    sourceEventType: m.sourceEventType,
    channel: m.channel,
    template: m.template,
    urgent: m.urgent,
    recipient: recipientLabel(m),
  };
}

/** Per-recipient fixed-window counter in Redis; the instant the window frees when full. */
async function takeRateSlot(deps: DeliveryDeps, m: MessageRow, now: Date): Promise<number | null> {
  const limit = (deps.rateLimits ?? defaultRateLimits)[m.channel];
  if (!limit) return null;
  const window = Math.floor(now.getTime() / limit.windowMs);
  const key = `${deps.keyPrefix}:notify-rate:${m.channel}:${m.address}:${window}`;
  const count = await deps.redis.incr(key);
  if (count === 1) await deps.redis.pexpire(key, limit.windowMs * 2);
  return count > limit.max ? (window + 1) * limit.windowMs : null;
}

/**
 * Delivers one message. Already sent (a redelivered job): nothing. Inside quiet
 * hours (SMS, not urgent) or over the recipient's rate: the job waits. A
 * permanent provider refusal is not retried (it goes to the dead letters); any
 * other failure is retried with backoff.
 */
export function deliveryProcessor(deps: DeliveryDeps) {
  const now = deps.now ?? (() => new Date());
  return async (job: Job, token?: string): Promise<"sent" | "skipped" | "unknown"> => {
    const { messageId } = job.data as { messageId: string };
    const [m] = await deps.prisma.$queryRawUnsafe<MessageRow[]>(select, messageId);
    // A send that began and never finished (the process died or the job stalled mid-send):
    // the provider may have it. Never send blindly again; a person decides (resend / mark sent).
    if (m?.status === "sending") {
      await markUnknown(deps.prisma, m.id, "发送过程中断（进程退出或超时），无法确认对方是否收到");
      return "unknown";
    }
    if (!m || m.status !== "queued") return "skipped";

    const at = now();
    // `until` is on the injected clock; BullMQ delays on Redis' clock, so only the distance carries over.
    const wait = async (until: number) => {
      await job.moveToDelayed(Date.now() + Math.max(0, until - at.getTime()), token);
      throw new DelayedError();
    };
    const quietApplies = m.channel === "sms" && !m.urgent;
    // Settings may have changed since the message was stored: the office's quiet hours as they are now.
    const earliest = quietApplies ? earliestSend(at, await quietHoursAt(deps.prisma, m.orgUnit, deps.quiet), true) : at;
    if (earliest.getTime() > at.getTime()) await wait(earliest.getTime());
    if (!m.urgent) {
      const freeAt = await takeRateSlot(deps, m, at);
      if (freeAt !== null) await wait(freeAt);
    }

    const adapter = m.channel === "inapp" ? undefined : deps.channels[m.channel];
    if (!adapter) throw new UnrecoverableError(`渠道未配置：${m.channel}`);

    // Two jobs for one message (a replay racing the original, a re-dispatch) must not both
    // send: whoever holds the message's send lock sends; the other looks again later and
    // finds it sent. The lock outlives a send's timeout; a crash mid-send frees it after that.
    const lock = `${deps.keyPrefix}:notify-sending:${m.id}`;
    if ((await deps.redis.set(lock, job.id ?? "job", "PX", SEND_LOCK_MS, "NX")) !== "OK") await wait(at.getTime() + LOCK_RETRY_MS);
    try {
      // The attempt is recorded (committed) before the provider is called: from here until
      // the outcome is written, the message is 'sending', and a rerun will not send it again.
      const [fresh] = await deps.prisma.$queryRawUnsafe<{ status: string; attempts: number }[]>(
        `UPDATE messages SET attempts = attempts + 1, status = 'sending' WHERE id = $1::uuid AND status = 'queued' RETURNING status, attempts`,
        m.id,
      );
      if (!fresh) return "skipped"; // sent by the other job while this one waited for the lock
      let providerId: string | null;
      try {
        ({ providerId } = await adapter.send({
          id: m.id,
          channel: m.channel,
          address: m.address,
          recipientName: m.recipientName,
          template: m.template,
          title: m.title,
          body: m.body,
          vars: m.vars,
          secret: m.secret,
        }));
      } catch (err) {
        const message = (err as Error).message;
        if (err instanceof ChannelError && err.delivered === "no") {
          // Surely not sent: back in the queue for the next attempt (or failed for good).
          await deps.prisma.$executeRawUnsafe(
            `UPDATE messages SET status = 'queued', last_error = $2 WHERE id = $1::uuid AND status = 'sending'`,
            m.id,
            message,
          );
          if (err.permanent) throw new UnrecoverableError(message);
          throw err;
        }
        // Maybe sent (a timeout, a connection lost mid-request): no retry; a person decides.
        await markUnknown(deps.prisma, m.id, `发送结果未知：${message}`);
        return "unknown";
      }
      // One time for the row and the event: a failed receipt later takes the delivery back from that day (sentAt).
      const sentAt = new Date();
      await deps.prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe(
          `UPDATE messages SET status = 'sent', sent_at = $3::timestamptz, provider_id = $2, last_error = NULL WHERE id = $1::uuid`,
          m.id,
          providerId,
          sentAt,
        );
        await appendToOutbox(tx, [
          buildEvent(
            "notification.delivered",
            {
              subject: m.childId ?? m.id,
              orgUnit: m.orgUnit,
              actor: { kind: "system", id: "notifications" },
              data: { ...outcome(m), attempts: fresh.attempts },
            },
            { producer: PRODUCER, now: sentAt },
          ),
        ]);
      });
      return "sent";
    } finally {
      await deps.redis.del(lock);
    }
  };
}

/** After the last attempt: the message is failed, with its reason, and notification.failed is published. */
export async function markFailed(prisma: PrismaClient, messageId: string, reason: string): Promise<void> {
  await prisma.$transaction(async (tx) => {
    const [m] = await tx.$queryRawUnsafe<MessageRow[]>(`${select} FOR UPDATE`, messageId);
    if (!m || m.status !== "queued") return;
    await tx.$executeRawUnsafe(`UPDATE messages SET status = 'failed', failed_at = now(), last_error = $2 WHERE id = $1::uuid`, m.id, reason);
    await appendToOutbox(tx, [
      buildEvent(
        "notification.failed",
        {
          subject: m.childId ?? m.id,
          orgUnit: m.orgUnit,
          actor: { kind: "system", id: "notifications" },
          data: { ...outcome(m), attempts: m.attempts, reason },
        },
        { producer: PRODUCER },
      ),
    ]);
  });
}

/** 发送结果未知: the send may have reached the provider; shown to the county admin to resend or mark sent. */
async function markUnknown(prisma: PrismaClient, messageId: string, reason: string): Promise<void> {
  await prisma.$executeRawUnsafe(`UPDATE messages SET status = 'unknown', last_error = $2 WHERE id = $1::uuid AND status = 'sending'`, messageId, reason);
}

/**
 * A county admin's decision on a message whose outcome is unknown: "resend" puts it back
 * in the queue (the caller enqueues its job); "mark-sent" records it as delivered, with
 * notification.delivered, as if the provider had confirmed it.
 */
export async function decideUnknown(prisma: PrismaClient, messageId: string, decision: "resend" | "mark-sent", by: string): Promise<boolean> {
  return prisma.$transaction(async (tx) => {
    const [m] = await tx.$queryRawUnsafe<MessageRow[]>(`${select} FOR UPDATE`, messageId);
    if (!m || m.status !== "unknown") return false;
    if (decision === "resend") {
      await tx.$executeRawUnsafe(`UPDATE messages SET status = 'queued', last_error = $2 WHERE id = $1::uuid`, m.id, `${by} 决定重发`);
      return true;
    }
    const sentAt = new Date();
    await tx.$executeRawUnsafe(
      `UPDATE messages SET status = 'sent', sent_at = $3::timestamptz, last_error = $2 WHERE id = $1::uuid`,
      m.id,
      `${by} 确认已送达`,
      sentAt,
    );
    await appendToOutbox(tx, [
      buildEvent(
        "notification.delivered",
        { subject: m.childId ?? m.id, orgUnit: m.orgUnit, actor: { kind: "system", id: "notifications" }, data: { ...outcome(m), attempts: m.attempts } },
        { producer: PRODUCER, now: sentAt },
      ),
    ]);
    return true;
  });
}

/** The reason a failed receipt gives, as staff read it. */
const receiptReason = (error: string | null) => `短信回执：未送达${error ? `（${error}）` : ""}`;

/**
 * Messages a provider's delivery receipt has just failed (their receipt written in this transaction, first receipt
 * only): each one that was sent, and so published as `notification.delivered`, publishes `notification.failed`
 * carrying its `sentAt`, in the caller's transaction. A repeated receipt writes nothing, so it reaches none here.
 */
export async function publishReceiptFailures(
  tx: Pick<SqlTx, "$queryRawUnsafe" | "$executeRawUnsafe">,
  failed: { id: string; error: string | null }[],
): Promise<number> {
  if (!failed.length) return 0;
  const rows = await tx.$queryRawUnsafe<(MessageRow & { sentAt: Date })[]>(
    `SELECT ${columns}, sent_at AS "sentAt" FROM messages WHERE id = ANY($1::uuid[]) AND status = 'sent' AND sent_at IS NOT NULL ORDER BY id`,
    failed.map((f) => f.id),
  );
  const errors = new Map(failed.map((f) => [f.id, f.error]));
  await appendToOutbox(
    tx,
    rows.map((m) =>
      buildEvent(
        "notification.failed",
        {
          subject: m.childId ?? m.id,
          orgUnit: m.orgUnit,
          actor: { kind: "system", id: "notifications" },
          data: { ...outcome(m), attempts: m.attempts, reason: receiptReason(errors.get(m.id) ?? null), sentAt: m.sentAt.toISOString() },
        },
        { producer: PRODUCER },
      ),
    ),
  );
  return rows.length;
}
