import { lookup as dnsLookup } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";
import { Agent, fetch } from "undici";
import { ChannelError, deliveredOnNetworkError } from "./types.js";

/**
 * Outbound calls to the office robots' webhooks go only where they should: the
 * providers' HTTPS hosts, resolved at send time to a public address, connected to
 * exactly the address that was checked, and never following a redirect. A township
 * supervisor sets these URLs; without this they could make our server call anything
 * inside the deployment (server-side request forgery).
 */

const ROBOT_HOSTS = { wecom: "qyapi.weixin.qq.com", dingtalk: "oapi.dingtalk.com" } as const;
export type RobotKind = keyof typeof ROBOT_HOSTS;

// Addresses no webhook of a public provider can have: this host, private networks,
// carrier NAT, link-local (cloud metadata at 169.254.169.254), documentation,
// benchmarking, multicast and reserved ranges; IPv6 likewise (IPv4-mapped addresses
// are checked as the IPv4 address they carry).
const blocked = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.88.99.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  blocked.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96],
  ["64:ff9b:1::", 48],
  ["100::", 64],
  ["2001::", 23],
  ["2001:db8::", 32],
  ["2002::", 16],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const)
  blocked.addSubnet(net, bits, "ipv6");

/** Is this an address a public provider may have? */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !blocked.check(address, "ipv4");
  if (family !== 6) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isPublicAddress(mapped[1]!);
  return !blocked.check(address, "ipv6");
}

/**
 * Why a webhook URL is refused, in zh-CN, or null when it is acceptable: HTTPS to the
 * provider's host on the default port, no credentials in it. `allowedHosts`
 * (WEBHOOK_ALLOWED_HOSTS) adds hosts for tests and private deployments, over HTTP too.
 */
export function webhookUrlProblem(kind: RobotKind, raw: string, allowedHosts: readonly string[] = []): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "应为群机器人的 Webhook 地址";
  }
  const expected = ROBOT_HOSTS[kind];
  const label = kind === "wecom" ? "企业微信" : "钉钉";
  if (url.username || url.password) return "Webhook 地址不能包含用户名或密码";
  if (allowedHosts.includes(url.hostname)) return url.protocol === "https:" || url.protocol === "http:" ? null : "Webhook 地址应以 https:// 开头";
  if (url.protocol !== "https:" || url.hostname !== expected || (url.port !== "" && url.port !== "443")) {
    return `${label}群机器人地址只能是 https://${expected}/ 开头的地址`;
  }
  return null;
}

/** dns.lookup, refusing names that resolve to any non-public address (unless the host is allowlisted). */
export function publicOnlyLookup(allowedHosts: readonly string[] = []): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, "", 4);
      const list = addresses as unknown as { address: string; family: number }[];
      if (!allowedHosts.includes(hostname)) {
        const bad = list.find((a) => !isPublicAddress(a.address));
        if (bad || list.length === 0) {
          const refusal = Object.assign(new Error(`拒绝连接内部地址：${hostname} → ${bad?.address ?? "无地址"}`), { code: "EADDRNOTPUBLIC" });
          return callback(refusal, "", 4);
        }
      }
      // Connect to the very address that was checked: no second resolution to race.
      const first = list[0]!;
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
      callback(null, first.address, first.family);
    });
  };
}

/** A POST that honours the rules above; network failures are retryable, refusals are not. */
export function robotPoster(allowedHosts: readonly string[] = [], timeoutMs = 10_000) {
  const agent = new Agent({ connect: { lookup: publicOnlyLookup(allowedHosts), timeout: timeoutMs } });
  return async (kind: RobotKind, url: string, body: string): Promise<{ ok: boolean; status: number; json: () => Promise<unknown> }> => {
    const problem = webhookUrlProblem(kind, url, allowedHosts);
    if (problem) throw new ChannelError(`群机器人地址不被允许：${problem}`, true);
    let res;
    try {
      res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        redirect: "manual",
        dispatcher: agent,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      if (cause?.code === "EADDRNOTPUBLIC") throw new ChannelError(cause.message ?? "拒绝连接内部地址", true);
      throw new ChannelError(`连接失败：${cause?.message ?? (err as Error).message}`, false, deliveredOnNetworkError(err));
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new ChannelError(`群机器人地址返回跳转（${res.status}），不跟随`, true);
    }
    return res;
  };
}
