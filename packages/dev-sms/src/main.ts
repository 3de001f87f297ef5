// `npm start`'s SMS provider: the local SendSms stand-in with the development defaults.
import { startDevSms } from "./index.js";

const env = (name: string, fallback: string): string => process.env[name] ?? fallback;
const server = await startDevSms({
  port: Number(env("PORT", "9010")),
  accessKeyId: env("SMS_ACCESS_KEY_ID", "shouhu-dev-sms"),
  accessKeySecret: env("SMS_ACCESS_KEY_SECRET", "shouhu-dev-sms-secret"),
  callbackUrl: env("SMS_CALLBACK_URL", ""),
  callbackSecret: env("SMS_CALLBACK_SECRET", "shouhu-dev-sms-callback"),
  receiptDelayMs: Number(env("DEV_SMS_RECEIPT_DELAY_MS", "1000")),
  ...(process.env.DEV_SMS_FAIL_PATTERN ? { failPattern: new RegExp(process.env.DEV_SMS_FAIL_PATTERN) } : {}),
});
console.log(JSON.stringify({ msg: "dev SMS provider listening", endpoint: server.endpoint, messages: `${server.endpoint}messages` }));
const stop = (): void => {
  void server.close().then(() => process.exit(0));
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
