import nodemailer from "nodemailer";
import { ChannelError, deliveredOnNetworkError, type ChannelAdapter } from "./types.js";

/** E-mail over SMTP (nodemailer). SMTP 5xx answers (no such mailbox) are permanent; the rest is retried. */
export function emailChannel(options: { smtpUrl: string; from: string }): ChannelAdapter & { close(): void } {
  const transport = nodemailer.createTransport(options.smtpUrl);
  return {
    async send(message) {
      try {
        const info = await transport.sendMail({
          from: options.from,
          to: message.recipientName ? { name: message.recipientName, address: message.address } : message.address,
          subject: `【守护】${message.title}`,
          text: message.body,
          headers: { "X-Shouhu-Message-Id": message.id },
        });
        return { providerId: info.messageId ?? null };
      } catch (err) {
        const code = (err as { responseCode?: number }).responseCode;
        // An SMTP reply is a refusal (not sent); no reply at all may have been after the message went out.
        const delivered = code !== undefined ? "no" : deliveredOnNetworkError(err);
        throw new ChannelError(`邮件发送失败：${(err as Error).message}`, code !== undefined && code >= 500 && code < 600, delivered);
      }
    },
    close: () => transport.close(),
  };
}
