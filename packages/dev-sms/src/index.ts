/**
 * A local SMS provider: Alibaba Cloud's SendSms (dysmsapi 2017-05-25, form-encoded RPC, signature V1
 * checked with the configured key pair), every message kept in memory, and status receipts pushed
 * like the real one's SmsReport (a JSON array) to a callback URL, signed with the shared secret
 * (@shouhu/cn/aliyun smsReceiptSignature). Numbers matching `failPattern` (default: ending in 0000)
 * come back failed, so both outcomes are seen. GET /messages lists what it received (tests, and
 * people running `npm start` who want to read the texts); GET / shows them as a page.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { aliyunSignature, smsReceiptSignature } from "@shouhu/cn/aliyun";

export interface DevSmsOptions {
  /** 0 picks a free port (tests). */
  port?: number;
  address?: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** Where status receipts go (notifications' /api/v1/public/sms-receipts, through the gateway); empty: none sent. */
  callbackUrl?: string;
  callbackSecret?: string;
  /** How long after a send its receipt is pushed (receipts of that time go in one batch). */
  receiptDelayMs?: number;
  /** Numbers that fail (handset unreachable). */
  failPattern?: RegExp;
  /** TemplateCode → text with ${var}, to show the SMS as a phone would; unknown codes show their variables. */
  templates?: Record<string, string>;
}

export interface DevSmsMessage {
  bizId: string;
  phone: string;
  signName: string;
  templateCode: string;
  params: Record<string, string>;
  /** Our message id (OutId). */
  outId: string | null;
  /** The SMS as the phone shows it. */
  text: string;
  receivedAt: string;
  status: "pending" | "delivered" | "failed";
  errCode: string | null;
  /** Receipt pushes that reached the callback (2xx). */
  receiptPushed: boolean;
}

export interface DevSms {
  endpoint: string;
  messages: DevSmsMessage[];
  close(): Promise<void>;
}

export const DEV_SMS_TEMPLATES: Record<string, string> = {
  SMS_LETTER_HOME: "您有一封来信《${title}》，请点击查看：${link}",
};

const chinaTime = (d: Date) => new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 19).replace("T", " ");

async function readBody(req: IncomingMessage, limit = 256 * 1024): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export async function startDevSms(options: DevSmsOptions): Promise<DevSms> {
  const messages: DevSmsMessage[] = [];
  const templates = { ...DEV_SMS_TEMPLATES, ...options.templates };
  const failPattern = options.failPattern ?? /0000$/;
  const delay = options.receiptDelayMs ?? 500;
  let timer: NodeJS.Timeout | undefined;
  let pushing: Promise<void> = Promise.resolve();

  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
  };

  /** Pushes every pending receipt in one signed batch, as the provider does; retried at the next tick on failure. */
  const pushReceipts = async () => {
    timer = undefined;
    const due = messages.filter((m) => !m.receiptPushed);
    if (!due.length || !options.callbackUrl) return;
    const now = new Date();
    for (const m of due) {
      if (m.status === "pending") {
        const failed = failPattern.test(m.phone);
        m.status = failed ? "failed" : "delivered";
        m.errCode = failed ? "IS_CLOSE" : null;
      }
    }
    const body = JSON.stringify(
      due.map((m) => ({
        phone_number: m.phone,
        send_time: chinaTime(new Date(m.receivedAt)),
        report_time: chinaTime(now),
        success: m.status === "delivered",
        err_code: m.status === "delivered" ? "DELIVERED" : m.errCode,
        err_msg: m.status === "delivered" ? "用户接收成功" : "用户停机",
        biz_id: m.bizId,
        out_id: m.outId ?? "",
        sms_size: "1",
      })),
    );
    const timestamp = String(Math.floor(now.getTime() / 1000));
    try {
      const res = await fetch(options.callbackUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-shouhu-timestamp": timestamp,
          "x-shouhu-signature": smsReceiptSignature(options.callbackSecret ?? "", timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      await res.body?.cancel();
      if (res.ok) for (const m of due) m.receiptPushed = true;
      else schedule(delay * 4);
    } catch {
      schedule(delay * 4); // the callback is not up yet (start-up order): again later
    }
  };
  const schedule = (ms: number) => {
    timer ??= setTimeout(() => (pushing = pushReceipts()), ms);
  };

  const sendSms = async (req: IncomingMessage, res: ServerResponse) => {
    const params = Object.fromEntries(new URLSearchParams(await readBody(req)));
    const requestId = randomUUID();
    const { Signature: signature, ...signed } = params;
    if (params.AccessKeyId !== options.accessKeyId)
      return send(res, 404, { Code: "InvalidAccessKeyId.NotFound", Message: "Specified access key is not found.", RequestId: requestId });
    if (!signature || signature !== aliyunSignature("POST", signed, options.accessKeySecret)) {
      return send(res, 400, { Code: "SignatureDoesNotMatch", Message: "Specified signature is not matched with our calculation.", RequestId: requestId });
    }
    if (params.Action !== "SendSms") return send(res, 400, { Code: "InvalidAction", Message: `Unknown action ${params.Action}`, RequestId: requestId });
    if (!params.PhoneNumbers || !/^1\d{10}$/.test(params.PhoneNumbers))
      return send(res, 200, { Code: "isv.MOBILE_NUMBER_ILLEGAL", Message: "非法手机号", RequestId: requestId });
    if (!params.TemplateCode || !params.SignName) return send(res, 200, { Code: "isv.INVALID_PARAMETERS", Message: "参数异常", RequestId: requestId });
    let vars: Record<string, string> = {};
    try {
      vars = params.TemplateParam ? (JSON.parse(params.TemplateParam) as Record<string, string>) : {};
    } catch {
      return send(res, 200, { Code: "isv.INVALID_JSON_PARAM", Message: "JSON参数不合法", RequestId: requestId });
    }
    const template = templates[params.TemplateCode];
    const content = template ? template.replace(/\$\{(\w+)\}/g, (_, k: string) => vars[k] ?? "") : `${params.TemplateCode} ${JSON.stringify(vars)}`;
    const bizId = `${Date.now()}^${randomUUID().slice(0, 8)}`;
    messages.push({
      bizId,
      phone: params.PhoneNumbers,
      signName: params.SignName,
      templateCode: params.TemplateCode,
      params: vars,
      outId: params.OutId ?? null,
      text: `【${params.SignName}】${content}`,
      receivedAt: new Date().toISOString(),
      status: "pending",
      errCode: null,
      receiptPushed: false,
    });
    schedule(delay);
    return send(res, 200, { Code: "OK", Message: "OK", BizId: bizId, RequestId: requestId });
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (req.method === "POST") {
      sendSms(req, res).catch((err: unknown) => send(res, 400, { Code: "isv.INVALID_PARAMETERS", Message: (err as Error).message }));
      return;
    }
    const phone = url.searchParams.get("phone");
    const list = [...messages].reverse().filter((m) => !phone || m.phone === phone);
    if (url.pathname === "/messages") return send(res, 200, { messages: list });
    if (url.pathname === "/") {
      const rows = list
        .map((m) => `<tr><td>${escapeHtml(m.receivedAt)}</td><td>${escapeHtml(m.phone)}</td><td>${escapeHtml(m.text)}</td><td>${m.status}</td></tr>`)
        .join("");
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      return void res.end(
        `<!doctype html><meta charset="utf-8"><title>开发短信</title><h1>开发短信（${list.length}）</h1><table border="1" cellpadding="4"><tr><th>时间</th><th>号码</th><th>内容</th><th>状态</th></tr>${rows}</table>`,
      );
    }
    send(res, 404, { Code: "NotFound" });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.address ?? "127.0.0.1", resolve));
  const { address, port } = server.address() as { address: string; port: number };
  return {
    endpoint: `http://${address}:${port}/`,
    messages,
    close: async () => {
      if (timer) clearTimeout(timer);
      await pushing;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
