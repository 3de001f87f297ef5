import { createHmac, randomUUID } from "node:crypto";
import { LIST_SEPARATOR, type TemplateVars } from "../domain/templates.js";
import { ChannelError, post, type ChannelAdapter } from "./types.js";

export interface AliyunSmsOptions {
  endpoint: string;
  accessKeyId: string;
  accessKeySecret: string;
  signName: string;
  /** Our template id → the provider's approved template code (SMS_123456789). */
  templateCodes: Record<string, string>;
  /** Longest value a template variable may carry; the provider refuses longer ones for good (isv.PARAM_LENGTH_LIMIT). */
  maxVarLength?: number;
  now?: () => Date;
}

const length = (v: string) => [...v].length;
/** Cut to maxLength characters (not UTF-16 units), the last one an ellipsis. */
const cut = (v: string, maxLength: number) => (length(v) > maxLength ? [...v].slice(0, Math.max(0, maxLength - 1)).join("") + "…" : v);

/**
 * A list (an exam's findings) cut to maxLength at a whole item, saying how many
 * there are: 中重度消瘦、视力低下（中度）等3项 — never half a finding with the rest
 * silently gone. Only when not even the first item fits beside the count is
 * that item cut.
 */
export function fitList(items: readonly string[], maxLength: number): string {
  const all = items.join(LIST_SEPARATOR);
  if (length(all) <= maxLength) return all;
  const more = `等${items.length}项`;
  for (let k = items.length - 1; k >= 1; k--) {
    const text = items.slice(0, k).join(LIST_SEPARATOR) + more;
    if (length(text) <= maxLength) return text;
  }
  const room = maxLength - length(more);
  return room >= 2 ? cut(items[0]!, room) + more : cut(all, maxLength);
}

/** Variables as SendSms takes them: strings, cut to the provider's length (a concern's description can be long; lists at an item). */
export function templateParam(vars: TemplateVars, maxLength: number): string {
  // A link is never cut (half a link opens nothing): its template registers it as a link variable.
  const fit = (k: string, v: TemplateVars[string]) => (Array.isArray(v) ? fitList(v, maxLength) : k === "link" ? String(v) : cut(String(v), maxLength));
  return JSON.stringify(Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, fit(k, v)])));
}

/** RFC 3986 encoding as Alibaba Cloud's RPC signature wants it. */
function percentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Signature V1 (HMAC-SHA1 over the sorted, encoded parameters) of the RPC API. */
export function aliyunSignature(method: "GET" | "POST", params: Record<string, string>, accessKeySecret: string): string {
  const canonical = Object.keys(params)
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k]!)}`)
    .join("&");
  const stringToSign = `${method}&${percentEncode("/")}&${percentEncode(canonical)}`;
  return createHmac("sha1", `${accessKeySecret}&`).update(stringToSign).digest("base64");
}

/** Provider codes that mean the message can never go out as it is. */
const permanentCodes = new Set([
  "isv.MOBILE_NUMBER_ILLEGAL",
  "isv.MOBILE_COUNT_OVER_LIMIT",
  "isv.TEMPLATE_MISSING_PARAMETERS",
  "isv.SMS_TEMPLATE_ILLEGAL",
  "isv.SMS_SIGNATURE_ILLEGAL",
  "isv.INVALID_PARAMETERS",
  "isv.PARAM_LENGTH_LIMIT",
  "isv.BLACK_KEY_CONTROL_LIMIT",
  "InvalidAccessKeyId.NotFound",
  "SignatureDoesNotMatch",
]);

/**
 * SMS through Alibaba Cloud's SendSms (dysmsapi 2017-05-25) request shape:
 * form-encoded RPC call, HMAC-SHA1 signed, OutId = our message id (so the
 * provider's receipts can be matched). The endpoint is configurable, so a
 * compatible gateway or a test receiver can stand in.
 */
export function aliyunSmsChannel(options: AliyunSmsOptions): ChannelAdapter {
  const now = options.now ?? (() => new Date());
  return {
    async send(message) {
      const code = options.templateCodes[message.template];
      if (!code) throw new ChannelError(`短信模板未配置：${message.template}`, true);
      const params: Record<string, string> = {
        AccessKeyId: options.accessKeyId,
        Action: "SendSms",
        Format: "JSON",
        OutId: message.id,
        PhoneNumbers: message.address,
        RegionId: "cn-hangzhou",
        SignName: options.signName,
        SignatureMethod: "HMAC-SHA1",
        SignatureNonce: randomUUID(),
        SignatureVersion: "1.0",
        TemplateCode: code,
        TemplateParam: templateParam(message.vars, options.maxVarLength ?? 35),
        Timestamp: now()
          .toISOString()
          .replace(/\.\d{3}Z$/, "Z"),
        Version: "2017-05-25",
      };
      const body = new URLSearchParams({ ...params, Signature: aliyunSignature("POST", params, options.accessKeySecret) });
      const res = await post(options.endpoint, { headers: { "content-type": "application/x-www-form-urlencoded" }, body });
      const json = (await res.json().catch(() => ({}))) as { Code?: string; Message?: string; BizId?: string };
      if (res.ok && json.Code === "OK") return { providerId: json.BizId ?? null };
      const reason = `短信发送失败：${json.Code ?? res.status} ${json.Message ?? ""}`.trim();
      throw new ChannelError(reason, json.Code !== undefined && permanentCodes.has(json.Code));
    },
  };
}
