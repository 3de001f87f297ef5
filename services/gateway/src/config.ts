import { z } from "zod";
import { baseConfigSchema, commaList, portSchema } from "@shouhu/kit";

export const gatewayConfigSchema = baseConfigSchema.extend({
  PORT: portSchema(3000),
  /** The owner role: migrations, and the audit archive command. */
  DATABASE_URL: z.url().default("postgresql://root@127.0.0.1:5432/shouhu_gateway"),
  /**
   * The role the gateway runs as: SELECT and INSERT on the audit trail, nothing else, so the
   * append-only rule binds it (infra/postgres/init-databases.sh). Unset: DATABASE_URL.
   */
  DATABASE_RUNTIME_URL: z.url().optional(),
  /**
   * Load balancers whose X-Forwarded-For gives the client address (audit source_ip, the
   * failed-token limiter): "true", or comma-separated addresses/CIDRs. Unset: none.
   */
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((v) =>
      v === undefined || v === "" || v === "false"
        ? false
        : v === "true"
          ? true
          : v
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean),
    ),
  REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
  /** The services' BullMQ prefix (Bull Board at /ops/queues shows their queues). */
  QUEUE_PREFIX: z.string().default("shouhu"),
  OIDC_ISSUER_URL: z.url().default("http://127.0.0.1:8081/realms/shouhu"),
  OIDC_AUDIENCE: z.string().default("shouhu-api"),
  OIDC_ALLOWED_CLIENTS: commaList.default(["shouhu-web", "shouhu-console", "shouhu-service"]),
  /**
   * The confidential client the accounts API signs in to Keycloak's Admin REST API with
   * (client_credentials; its service account holds realm-management manage-users).
   * The secret unset: /api/v1/accounts is not served.
   */
  KEYCLOAK_ACCOUNTS_CLIENT_ID: z.string().default("shouhu-accounts"),
  KEYCLOAK_ACCOUNTS_SECRET: z.string().optional(),
  /** The console's built files; default: apps/console/dist of this checkout (absent: / not served). */
  CONSOLE_DIR: z.string().optional(),
  /** The issuer as browsers reach it (default OIDC_ISSUER_URL), handed to the console in /config.json. */
  CONSOLE_OIDC_ISSUER_URL: z.url().optional(),
  /** The console's public OIDC client (authorization code + PKCE). */
  CONSOLE_CLIENT_ID: z.string().default("shouhu-console"),
  /** Browser origins allowed by CORS; empty means no cross-origin browser access. */
  CORS_ORIGINS: commaList.default([]),
  /** Requests per user per minute. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(1200),
  /** Per source address on the token-less `/api/v1/public/` routes (letters, task links, SMS receipts). */
  PUBLIC_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(60),
  REGISTRY_URL: z.url().default("http://127.0.0.1:3001"),
  PAIRING_URL: z.url().default("http://127.0.0.1:3002"),
  VISITS_URL: z.url().default("http://127.0.0.1:3003"),
  HEALTH_URL: z.url().default("http://127.0.0.1:3004"),
  NOTIFICATIONS_URL: z.url().default("http://127.0.0.1:3005"),
  REPORTING_URL: z.url().default("http://127.0.0.1:3006"),
  ACTIVITIES_URL: z.url().default("http://127.0.0.1:3007"),
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  /**
   * Least time between two audit INSERTs: under load each carries every row journaled meanwhile
   * (no response waits for it). PostgreSQL spends ~1 ms per INSERT on top of ~45 µs per row, so
   * at 1,000 reads/s 100 ms (≈100 rows each) costs it a third of what 10 ms did.
   */
  AUDIT_BATCH_INTERVAL_MS: z.coerce.number().min(0).max(1000).default(100),
  /**
   * The audit journal: each audited response is appended here before it is released, and
   * written to PostgreSQL from here (replayed at start after a crash). One directory per
   * gateway instance, on a disk that survives restarts. Unset: var/audit-journal beside dist/.
   */
  AUDIT_JOURNAL_DIR: z.string().optional(),
  /** Unwritten audit (PostgreSQL unreachable) past which audited requests are refused with 503. */
  AUDIT_JOURNAL_MAX_MB: z.coerce.number().positive().default(256),
  /**
   * none: a journaled record survives a crash of the gateway, not a power loss of the host within the
   * OS's writeback window. group: each audited response also waits for an fdatasync (shared by all
   * records written meanwhile), and survives that too.
   */
  AUDIT_JOURNAL_SYNC: z.enum(["none", "group"]).default("none"),
});
