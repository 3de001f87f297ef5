import type { NotificationChannel } from "@shouhu/contracts";
import type { TemplateVars } from "../domain/templates.js";

interface Outgoing {
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
 * A failed send; `permanent` ones (bad number, rejected template) are not retried.
 * `delivered`: "no" when the provider surely did not take it (it answered with a
 * refusal, or the connection was never made), "unknown" when it may have (a timeout
 * or a connection lost after the request went out) — then a retry could send twice.
 */
export class ChannelError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly delivered: "no" | "unknown" = "no",
  ) {
    super(message);
    this.name = "ChannelError";
  }
}

export interface ChannelAdapter {
  send(message: Outgoing): Promise<{ providerId: string | null }>;
}

export type ChannelAdapters = Partial<Record<Exclude<NotificationChannel, "inapp">, ChannelAdapter>>;

/** Connection errors that mean the request never reached the provider. */
const NEVER_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTPUBLIC"]);

/** Whether a network failure left the provider surely without our request ("no") or maybe with it ("unknown"). */
export function deliveredOnNetworkError(err: unknown): "no" | "unknown" {
  const code = (err as { cause?: { code?: string }; code?: string }).cause?.code ?? (err as { code?: string }).code;
  return code && NEVER_SENT.has(code) ? "no" : "unknown";
}

/** fetch with a timeout; network failures and timeouts are retryable, but may have reached the provider. */
export async function post(url: string, init: RequestInit, timeoutMs = 10_000): Promise<Response> {
  try {
    return await fetch(url, { ...init, method: "POST", signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new ChannelError(`连接失败：${(err as Error).message}`, false, deliveredOnNetworkError(err));
  }
}
