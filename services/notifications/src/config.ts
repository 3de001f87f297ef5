import { z } from "zod";
import { commaList, serviceConfigSchema } from "@shouhu/kit";

const json = <T extends z.ZodType>(schema: T) =>
  z.string().transform((raw, ctx) => {
    try {
      return schema.parse(JSON.parse(raw)) as z.output<T>;
    } catch (err) {
      ctx.addIssue({ code: "custom", message: `must be JSON: ${(err as Error).message}` });
      return z.NEVER;
    }
  });

export const notificationsConfigSchema = serviceConfigSchema({ port: 3005, database: "shouhu_notifications" })
  .extend({
    /**
     * Staff directory source: Keycloak's Admin REST API at OIDC_ISSUER_URL, as the confidential
     * client shouhu-directory (service account with realm-management view-users, query-groups).
     */
    KEYCLOAK_DIRECTORY_CLIENT_ID: z.string().default("shouhu-directory"),
    /** Required by the service (checked at start); config tests parse without it. */
    KEYCLOAK_DIRECTORY_SECRET: z.string().default(""),
    /** How often the directory is synced from Keycloak again (and once at start). */
    DIRECTORY_SYNC_SECONDS: z.coerce.number().int().min(5).max(86_400).default(60),
    /** SMTP server for e-mail, e.g. smtp://user:pass@mail.example.gov.cn:587; empty disables e-mail. */
    SMTP_URL: z.string().default(""),
    MAIL_FROM: z.string().default("守护 <noreply@shouhu.local>"),
    /** SMS provider (Alibaba Cloud SendSms shape); an empty endpoint disables SMS. */
    SMS_ENDPOINT: z.string().default(""),
    SMS_ACCESS_KEY_ID: z.string().default(""),
    SMS_ACCESS_KEY_SECRET: z.string().default(""),
    SMS_SIGN_NAME: z.string().default("守护"),
    /** Our template id → the provider's approved template code, as JSON. */
    SMS_TEMPLATE_CODES: json(z.record(z.string(), z.string())).default({}),
    /** Longest template variable value the provider accepts (Alibaba Cloud notification templates: 35). */
    SMS_MAX_VAR_LENGTH: z.coerce.number().int().min(1).max(500).default(35),
    /** The console's public origin, for links in SMS (a letter home `/l/<code>`, a one-time task link `/t/<token>`). */
    PUBLIC_LINK_BASE_URL: z.url().default("http://127.0.0.1:3000"),
    /** Shared secret of the SMS provider's status pushes (HMAC-SHA256 over timestamp + body); empty refuses every push. */
    SMS_CALLBACK_SECRET: z.string().default(""),
    /** China time; SMS that is not urgent waits for the end. */
    QUIET_HOURS: z
      .string()
      .regex(/^\d{1,2}:\d{2}-\d{1,2}:\d{2}$/, "应为 21:00-08:00 这样的时段")
      .default("21:00-08:00"),
    DELIVERY_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
    DELIVERY_BACKOFF_MS: z.coerce.number().int().min(10).default(30_000),
    /** Events handled at once by the consumer (each holds a database connection). */
    // Events in hand at once; the consumer applies them in batches of up to half of this.
    CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(100),
    DISPATCH_POLL_MS: z.coerce.number().int().positive().default(500),
    BIRTHDAY_CRON: z.string().default("0 8 * * *"),
    /** Signs the one-time task links SMS reminders carry to helpers without an account (shared with visits); empty: none. */
    TASK_LINK_SECRET: z.union([z.literal(""), z.string().min(32, "至少32个字符")]).default(""),
    /** How long such a link lives (visits also ends it on its item's escalation day). */
    TASK_LINK_TTL_HOURS: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 31)
      .default(72),
    /** Hosts office robots may post to besides qyapi.weixin.qq.com and oapi.dingtalk.com (tests, a private relay); empty in production. */
    WEBHOOK_ALLOWED_HOSTS: commaList.default([]),
  })
  .superRefine((c, ctx) => {
    // An SMS endpoint without credentials would fail every message; say so at start.
    if (!c.SMS_ENDPOINT) return;
    for (const key of ["SMS_ACCESS_KEY_ID", "SMS_ACCESS_KEY_SECRET"] as const) {
      if (!c[key]) ctx.addIssue({ code: "custom", path: [key], message: "设置了 SMS_ENDPOINT 时必填" });
    }
  });

export type NotificationsConfig = z.output<typeof notificationsConfigSchema>;
