import { createHmac } from "node:crypto";

/**
 * Alibaba Cloud's SMS request and receipt signing, shared by the notifications SMS adapter and the
 * development SMS provider (packages/dev-sms) that checks it. Node only: a subpath of its own
 * (`@shouhu/cn/aliyun`), so the browser build of the rest of the package never sees node:crypto.
 */

/** RFC 3986 encoding as Alibaba Cloud's RPC signature wants it. */
export function percentEncode(value: string): string {
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

/**
 * Our signature on the provider's status push (SmsReport), which the provider relays with a shared
 * secret (SMS_CALLBACK_SECRET): hex HMAC-SHA256 over `${timestamp}.${body}`, in the headers
 * x-shouhu-timestamp (unix seconds) and x-shouhu-signature.
 */
export function smsReceiptSignature(secret: string, timestamp: string, body: string): string {
  return createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
}
