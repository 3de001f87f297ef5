import type { NotificationChannel } from "@shouhu/contracts";
import type { TemplateVars } from "../domain/templates.js";

export interface Outgoing {
  id: string;
  channel: NotificationChannel;
  /** Phone, e-mail address or webhook URL. */
  address: string;
  recipientName: string | null;
  template: string;
  title: string;
  body: string;
  /** Template variables, for providers that fill registered templates themselves (SMS); lists stay lists so they can be cut at an item. */
  vars: TemplateVars;
  /** Group-robot secret (DingTalk 加签). */
  secret?: string | null;
}

/**
 * What a failed send tells us: "not-sent" when the provider answered no or the
 * connection was refused before a byte went out (safe to retry); "unknown" when
 * the request may have reached the provider (a timeout, a reset mid-call), so a
 * retry could send the message a second time.
 */
export type SendOutcome = "not-sent" | "unknown";

/** A failed send; `permanent` ones (bad number, rejected template) are not retried. */
export class ChannelError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly outcome: SendOutcome = "not-sent",
  ) {
    super(message);
    this.name = "ChannelError";
  }
}

export interface ChannelAdapter {
  send(message: Outgoing): Promise<{ providerId: string | null }>;
  /**
   * True when the provider itself drops a repeated request with the same key (our
   * message id), so a send whose outcome is unknown may simply be repeated.
   * Alibaba's SendSms `OutId` is only echoed in delivery receipts, not deduplicated,
   * and SMTP has nothing of the kind: ours leave this unset.
   */
  idempotent?: boolean;
}

export type ChannelAdapters = Partial<Record<Exclude<NotificationChannel, "inapp">, ChannelAdapter>>;

/** Connection failures that happen before the request is written: nothing reached the provider. */
const notConnected = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"]);

/**
 * fetch with a timeout. A refused connection is "not sent" (retried); a timeout or a
 * reset after connecting is "unknown": the provider may have accepted the message.
 */
export async function post(url: string, init: RequestInit, timeoutMs = 10_000): Promise<Response> {
  try {
    return await fetch(url, { ...init, method: "POST", signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const known = cause?.code !== undefined && notConnected.has(cause.code);
    throw new ChannelError(`连接失败：${cause?.message ?? (err as Error).message}`, false, known ? "not-sent" : "unknown");
  }
}
