import { createHmac } from "node:crypto";
import { ChannelError, type ChannelAdapter } from "./types.js";
import { robotPoster } from "./outbound.js";

/** Hosts (tests, private deployments) allowed besides the providers' own; see outbound.ts. */
export interface RobotOptions {
  allowedHosts?: readonly string[];
}

interface RobotAnswer {
  errcode?: number;
  errmsg?: string;
}

/** Answers that will not get better by retrying: a wrong or removed webhook, a bad signature or keyword. */
const wecomPermanent = new Set([93000, 40008, 40058, 300005]);
const dingtalkPermanent = new Set([300001, 310000, 400101, 400102]);

async function answer(res: { ok: boolean; status: number; json: () => Promise<unknown> }, what: string, permanent: Set<number>): Promise<{ providerId: null }> {
  const json = (await res.json().catch(() => ({}))) as RobotAnswer;
  if (res.ok && json.errcode === 0) return { providerId: null };
  const code = json.errcode ?? res.status;
  throw new ChannelError(
    `${what}发送失败：${code} ${json.errmsg ?? ""}`.trim(),
    (res.status >= 400 && res.status < 500 && res.status !== 429) || permanent.has(code),
  );
}

/** 企业微信群机器人: POST {msgtype:"text"} to the robot's webhook URL. */
export function wecomChannel(options: RobotOptions = {}): ChannelAdapter {
  const post = robotPoster(options.allowedHosts);
  return {
    async send(message) {
      const res = await post("wecom", message.address, JSON.stringify({ msgtype: "text", text: { content: `【守护】${message.title}\n${message.body}` } }));
      return answer(res, "企业微信群消息", wecomPermanent);
    },
  };
}

/** 钉钉群机器人 with 加签: timestamp and HMAC-SHA256 signature of "timestamp\nsecret" on the URL. */
export function dingtalkSign(timestamp: number, secret: string): string {
  return createHmac("sha256", secret).update(`${timestamp}\n${secret}`).digest("base64");
}

export function dingtalkChannel(now: () => Date = () => new Date(), options: RobotOptions = {}): ChannelAdapter {
  const post = robotPoster(options.allowedHosts);
  return {
    async send(message) {
      let url = message.address;
      if (message.secret) {
        const timestamp = now().getTime();
        url += `${url.includes("?") ? "&" : "?"}timestamp=${timestamp}&sign=${encodeURIComponent(dingtalkSign(timestamp, message.secret))}`;
      }
      const res = await post("dingtalk", url, JSON.stringify({ msgtype: "text", text: { content: `【守护】${message.title}\n${message.body}` } }));
      return answer(res, "钉钉群消息", dingtalkPermanent);
    },
  };
}
