import nodemailer from "nodemailer";
import { ChannelError, type ChannelAdapter } from "./types.js";

/** nodemailer error codes raised before the message itself is handed to the server. */
const beforeMessage = new Set(["ECONNECTION", "EDNS", "EAUTH", "EENVELOPE", "EMESSAGE", "ETLS", "EOAUTH2"]);

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
        const { responseCode: code, code: kind } = err as { responseCode?: number; code?: string };
        // The server answered (a 4xx/5xx), or we never got as far as the message: not sent.
        // A timeout or a dropped socket may have come after the server took the message: unknown.
        const known = code !== undefined || (kind !== undefined && beforeMessage.has(kind));
        throw new ChannelError(`邮件发送失败：${(err as Error).message}`, code !== undefined && code >= 500 && code < 600, known ? "not-sent" : "unknown");
      }
    },
    close: () => transport.close(),
  };
}
