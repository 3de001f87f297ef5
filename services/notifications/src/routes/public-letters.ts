import { timingSafeEqual } from "node:crypto";
import { z } from "zod";
import { smsReceiptSignature } from "@shouhu/cn/aliyun";
import { AppError, NotFoundError, UnauthorizedError, ValidationError, type ServiceApp } from "@shouhu/kit";
import type { PrismaClient } from "../data/db.js";
import { openLetter, recordReceipts } from "../data/letters.js";
import { LETTER_LINK_DAYS, LINK_CODE } from "../domain/letters.js";

const CodeParams = z.object({ code: z.string().max(64) });
const OpenedResponse = z.object({ title: z.string(), body: z.string(), signature: z.string(), date: z.string().nullable() });

/** Alibaba Cloud's SmsReport push: one item per message (out_id is our message id, sent as OutId). */
const ReceiptItem = z.object({
  phone_number: z.string().max(20),
  send_time: z.string().max(40).optional(),
  report_time: z.string().max(40).optional(),
  success: z.boolean({ message: "应为 true 或 false" }),
  err_code: z.string().max(100).optional(),
  err_msg: z.string().max(200).optional(),
  biz_id: z.string().max(100).optional(),
  out_id: z.string().max(100).optional(),
  sms_size: z.union([z.string(), z.number()]).optional(),
});
const ReceiptBody = z.array(ReceiptItem).max(1000, "一次最多1000条回执");
const ReceiptResponse = z.object({
  code: z.number().int(),
  msg: z.string(),
  recorded: z.number().int(),
  repeated: z.number().int(),
  unknown: z.number().int(),
});

class GoneError extends AppError {
  constructor(code: string, message: string) {
    super(410, code, message);
  }
}

/** A receipt's signature and timestamp (unix seconds, within `skewSeconds` of now): both or refused. */
function receiptSignatureProblem(
  secret: string,
  timestamp: string | undefined,
  signature: string | undefined,
  body: string,
  now: Date,
  skewSeconds = 300,
): string | null {
  if (!secret) return "未配置回执密钥";
  if (!timestamp || !/^\d{9,11}$/.test(timestamp)) return "缺少或无效的时间戳";
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > skewSeconds) return "时间戳已过期";
  if (!signature || !/^[0-9a-f]{64}$/i.test(signature)) return "缺少签名";
  const expected = Buffer.from(smsReceiptSignature(secret, timestamp, body), "hex");
  return timingSafeEqual(expected, Buffer.from(signature.toLowerCase(), "hex")) ? null : "签名不匹配";
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The provider's "2026-12-06 10:00:00" is China time. */
const chinaTime = (t: string | undefined, fallback: Date) => {
  const m = t && /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec(t);
  return m ? new Date(`${m[1]}T${m[2]}+08:00`).toISOString() : fallback.toISOString();
};

export interface PublicLetterDeps {
  prisma: PrismaClient;
  /** SMS_CALLBACK_SECRET: the provider's status pushes are signed with it; empty refuses every push. */
  callbackSecret: string;
  now?: () => Date;
}

/**
 * The token-less routes of letters home (under PUBLIC_PREFIX, so no bearer token): the read page a
 * link's code opens, and the SMS provider's delivery receipts, signed. Each checks its own credential.
 */
export function registerPublicLetterRoutes(app: ServiceApp, deps: PublicLetterDeps): void {
  const { prisma } = deps;
  const now = deps.now ?? (() => new Date());

  app.get(
    "/api/v1/public/letters/:code",
    { schema: { tags: ["letters"], summary: "家长阅读信件（短信链接；记录已阅）", params: CodeParams, response: { 200: OpenedResponse } } },
    async (request, reply) => {
      const { code } = request.params;
      // A code of the wrong shape is as unknown as a wrong code: nothing says which part was wrong.
      const opened = LINK_CODE.test(code) ? await openLetter(prisma, code, now(), LETTER_LINK_DAYS) : "unknown";
      if (opened === "unknown") throw new NotFoundError("链接无效或信件");
      if (opened === "withdrawn") throw new GoneError("LETTER_WITHDRAWN", "这封信已被撤回");
      if (opened === "expired") throw new GoneError("LINK_EXPIRED", "链接已过期");
      // The gateway audits the read under the link, naming the children the letter is about.
      void reply.header("x-shouhu-audit", JSON.stringify({ action: "letter-read", childIds: opened.childIds }));
      void reply.header("cache-control", "no-store");
      return { title: opened.title, body: opened.body, signature: opened.signature, date: opened.sentAt?.toISOString().slice(0, 10) ?? null };
    },
  );

  // Its own scope: the signature is over the body's bytes as sent, so JSON is parsed here, after the check.
  void app.register(async (scope) => {
    scope.removeContentTypeParser("application/json");
    scope.addContentTypeParser("application/json", { parseAs: "string", bodyLimit: 1024 * 1024 }, (_request, body, done) => done(null, body));
    scope.post(
      "/api/v1/public/sms-receipts",
      { schema: { tags: ["letters"], summary: "短信状态回执（服务商推送，HMAC-SHA256 签名）", response: { 200: ReceiptResponse } } },
      async (request) => {
        const raw = typeof request.body === "string" ? request.body : "";
        const header = (name: string) => {
          const v = request.headers[name];
          return Array.isArray(v) ? v[0] : v;
        };
        const problem = receiptSignatureProblem(deps.callbackSecret, header("x-shouhu-timestamp"), header("x-shouhu-signature"), raw, now());
        if (problem) throw new UnauthorizedError(`回执签名无效：${problem}`);
        let json: unknown;
        try {
          json = JSON.parse(raw);
        } catch {
          throw ValidationError.field("body", "应为 JSON 数组");
        }
        const parsed = ReceiptBody.safeParse(json);
        if (!parsed.success) {
          throw new ValidationError(parsed.error.issues.slice(0, 20).map((i) => ({ field: i.path.join(".") || "body", message: i.message })));
        }
        const receipts = parsed.data.map((r) => ({
          messageId: r.out_id && UUID.test(r.out_id) ? r.out_id.toLowerCase() : "00000000-0000-0000-0000-000000000000",
          delivered: r.success,
          at: chinaTime(r.report_time, now()),
          error: r.success ? null : [r.err_code, r.err_msg].filter(Boolean).join(" ") || "未送达",
        }));
        const counts = await recordReceipts(prisma, receipts);
        request.log.info(counts, "sms receipts");
        return { code: 0, msg: "成功", ...counts };
      },
    );
  });
}
