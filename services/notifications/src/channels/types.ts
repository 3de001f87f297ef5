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

/** A failed send; `permanent` ones (bad number, rejected template) are not retried. */
export class ChannelError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = "ChannelError";
  }
}

export interface ChannelAdapter {
  send(message: Outgoing): Promise<{ providerId: string | null }>;
}

export type ChannelAdapters = Partial<Record<Exclude<NotificationChannel, "inapp">, ChannelAdapter>>;

/** fetch with a timeout; network failures and timeouts are retryable. */
export async function post(url: string, init: RequestInit, timeoutMs = 10_000): Promise<Response> {
  try {
    return await fetch(url, { ...init, method: "POST", signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new ChannelError(`连接失败：${(err as Error).message}`, false);
  }
}
