import type { NotificationsConfig } from "../config.js";
import { emailChannel } from "./email.js";
import { aliyunSmsChannel } from "./sms-aliyun.js";
import { dingtalkChannel, wecomChannel } from "./robots.js";
import type { ChannelAdapters } from "./types.js";

/** The channels this deployment has configured; a message for a missing one fails permanently, with the reason. */
export function channelsFromConfig(config: NotificationsConfig): { channels: ChannelAdapters; close: () => void } {
  const email = config.SMTP_URL ? emailChannel({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM }) : undefined;
  const robots = { allowedHosts: config.WEBHOOK_ALLOWED_HOSTS };
  const channels: ChannelAdapters = { wecom: wecomChannel(robots), dingtalk: dingtalkChannel(undefined, robots) };
  if (email) channels.email = email;
  if (config.SMS_ENDPOINT) {
    channels.sms = aliyunSmsChannel({
      endpoint: config.SMS_ENDPOINT,
      accessKeyId: config.SMS_ACCESS_KEY_ID,
      accessKeySecret: config.SMS_ACCESS_KEY_SECRET,
      signName: config.SMS_SIGN_NAME,
      templateCodes: config.SMS_TEMPLATE_CODES,
      maxVarLength: config.SMS_MAX_VAR_LENGTH,
    });
  }
  return { channels, close: () => email?.close() };
}

export { type ChannelAdapters } from "./types.js";
